// Original file: pkg/api/proto/tsnet/v1/containers.proto

import type { TopRow as _tsnet_v1_TopRow, TopRow__Output as _tsnet_v1_TopRow__Output } from '../../tsnet/v1/TopRow.ts';

export interface TopResponse {
  'titles'?: (string)[];
  'processes'?: (_tsnet_v1_TopRow)[];
}

export interface TopResponse__Output {
  'titles': (string)[];
  'processes': (_tsnet_v1_TopRow__Output)[];
}
