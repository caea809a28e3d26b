// Original file: pkg/api/proto/tsnet/v1/containers.proto

import type { Long } from '@grpc/proto-loader';

export interface PruneContainersResponse {
  'deleted'?: (string)[];
  'spaceReclaimed'?: (number | string | Long);
}

export interface PruneContainersResponse__Output {
  'deleted': (string)[];
  'spaceReclaimed': (number);
}
