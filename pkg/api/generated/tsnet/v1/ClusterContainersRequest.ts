// Original file: pkg/api/proto/tsnet/v1/cluster.proto


export interface ClusterContainersRequest {
  /**
   * Only this node's / this network's; empty: all.
   */
  'node'?: (string);
  'network'?: (string);
}

export interface ClusterContainersRequest__Output {
  /**
   * Only this node's / this network's; empty: all.
   */
  'node': (string);
  'network': (string);
}
