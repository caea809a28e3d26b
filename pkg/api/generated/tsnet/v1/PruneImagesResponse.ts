// Original file: pkg/api/proto/tsnet/v1/images.proto

import type { Long } from '@grpc/proto-loader';

export interface PruneImagesResponse {
  'deleted'?: (string)[];
  'spaceReclaimed'?: (number | string | Long);
}

export interface PruneImagesResponse__Output {
  'deleted': (string)[];
  'spaceReclaimed': (number);
}
