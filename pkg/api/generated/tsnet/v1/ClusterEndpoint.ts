// Original file: pkg/api/proto/tsnet/v1/cluster.proto


export interface ClusterEndpoint {
  'network'?: (string);
  'ipv4'?: (string);
  'ipv6'?: (string);
  'mac'?: (string);
  'aliases'?: (string)[];
  /**
   * local or cluster.
   */
  'scope'?: (string);
}

export interface ClusterEndpoint__Output {
  'network': (string);
  'ipv4': (string);
  'ipv6': (string);
  'mac': (string);
  'aliases': (string)[];
  /**
   * local or cluster.
   */
  'scope': (string);
}
