// Original file: pkg/api/proto/tsnet/v1/images.proto

import type { HistoryEntry as _tsnet_v1_HistoryEntry, HistoryEntry__Output as _tsnet_v1_HistoryEntry__Output } from '../../tsnet/v1/HistoryEntry.ts';

export interface ImageHistoryResponse {
  'entries'?: (_tsnet_v1_HistoryEntry)[];
}

export interface ImageHistoryResponse__Output {
  'entries': (_tsnet_v1_HistoryEntry__Output)[];
}
