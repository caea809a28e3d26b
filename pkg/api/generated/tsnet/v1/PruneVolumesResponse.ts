// Original file: pkg/api/proto/tsnet/v1/volumes.proto

import type { Long } from '@grpc/proto-loader';

export interface PruneVolumesResponse {
  'deleted'?: (string)[];
  'spaceReclaimed'?: (number | string | Long);
}

export interface PruneVolumesResponse__Output {
  'deleted': (string)[];
  'spaceReclaimed': (number);
}
