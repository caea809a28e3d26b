// Original file: pkg/api/proto/tsnet/v1/networks.proto


export interface CreateNetworkResponse {
  'id'?: (string);
  'warnings'?: (string)[];
}

export interface CreateNetworkResponse__Output {
  'id': (string);
  'warnings': (string)[];
}
