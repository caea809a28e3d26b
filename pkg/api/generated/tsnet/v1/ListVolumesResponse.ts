// Original file: pkg/api/proto/tsnet/v1/volumes.proto

import type { VolumeSummary as _tsnet_v1_VolumeSummary, VolumeSummary__Output as _tsnet_v1_VolumeSummary__Output } from '../../tsnet/v1/VolumeSummary.ts';

export interface ListVolumesResponse {
  'volumes'?: (_tsnet_v1_VolumeSummary)[];
}

export interface ListVolumesResponse__Output {
  'volumes': (_tsnet_v1_VolumeSummary__Output)[];
}
