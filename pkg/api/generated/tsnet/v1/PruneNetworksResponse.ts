// Original file: pkg/api/proto/tsnet/v1/networks.proto


export interface PruneNetworksResponse {
  'deleted'?: (string)[];
}

export interface PruneNetworksResponse__Output {
  'deleted': (string)[];
}
