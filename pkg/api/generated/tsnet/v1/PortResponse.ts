// Original file: pkg/api/proto/tsnet/v1/containers.proto

import type { PortBinding as _tsnet_v1_PortBinding, PortBinding__Output as _tsnet_v1_PortBinding__Output } from '../../tsnet/v1/PortBinding.ts';

export interface PortResponse {
  'ports'?: (_tsnet_v1_PortBinding)[];
}

export interface PortResponse__Output {
  'ports': (_tsnet_v1_PortBinding__Output)[];
}
