// Original file: pkg/api/proto/tsnet/v1/networks.proto


export interface InspectNetworkResponse {
  'json'?: (string);
}

export interface InspectNetworkResponse__Output {
  'json': (string);
}
