// Original file: pkg/api/proto/tsnet/v1/networks.proto


export interface IpamPool {
  'subnet'?: (string);
  'gateway'?: (string);
  'ipRange'?: (string);
}

export interface IpamPool__Output {
  'subnet': (string);
  'gateway': (string);
  'ipRange': (string);
}
