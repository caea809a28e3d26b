// Original file: pkg/api/proto/tsnet/v1/networks.proto


export interface RemoveNetworkResponse {
  'id'?: (string);
}

export interface RemoveNetworkResponse__Output {
  'id': (string);
}
