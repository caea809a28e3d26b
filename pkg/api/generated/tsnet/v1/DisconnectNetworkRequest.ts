// Original file: pkg/api/proto/tsnet/v1/networks.proto


export interface DisconnectNetworkRequest {
  'network'?: (string);
  'container'?: (string);
  'force'?: (boolean);
}

export interface DisconnectNetworkRequest__Output {
  'network': (string);
  'container': (string);
  'force': (boolean);
}
