// Original file: pkg/api/proto/tsnet/v1/networks.proto


export interface PruneNetworksRequest {
  'filters'?: (string)[];
}

export interface PruneNetworksRequest__Output {
  'filters': (string)[];
}
