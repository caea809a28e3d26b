// Original file: pkg/api/proto/tsnet/v1/networks.proto

import type { NetworkSummary as _tsnet_v1_NetworkSummary, NetworkSummary__Output as _tsnet_v1_NetworkSummary__Output } from '../../tsnet/v1/NetworkSummary.ts';

export interface ListNetworksResponse {
  'networks'?: (_tsnet_v1_NetworkSummary)[];
}

export interface ListNetworksResponse__Output {
  'networks': (_tsnet_v1_NetworkSummary__Output)[];
}
