// Original file: pkg/api/proto/tsnet/v1/cluster.proto

import type { ClusterContainer as _tsnet_v1_ClusterContainer, ClusterContainer__Output as _tsnet_v1_ClusterContainer__Output } from '../../tsnet/v1/ClusterContainer.ts';

export interface ClusterContainersResponse {
  'containers'?: (_tsnet_v1_ClusterContainer)[];
}

export interface ClusterContainersResponse__Output {
  'containers': (_tsnet_v1_ClusterContainer__Output)[];
}
