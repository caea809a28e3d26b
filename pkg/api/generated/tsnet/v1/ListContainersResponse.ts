// Original file: pkg/api/proto/tsnet/v1/containers.proto

import type { ContainerSummary as _tsnet_v1_ContainerSummary, ContainerSummary__Output as _tsnet_v1_ContainerSummary__Output } from '../../tsnet/v1/ContainerSummary.ts';

export interface ListContainersResponse {
  'containers'?: (_tsnet_v1_ContainerSummary)[];
}

export interface ListContainersResponse__Output {
  'containers': (_tsnet_v1_ContainerSummary__Output)[];
}
