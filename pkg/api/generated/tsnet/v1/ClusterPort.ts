// Original file: pkg/api/proto/tsnet/v1/cluster.proto


export interface ClusterPort {
  'hostIp'?: (string);
  'hostPort'?: (number);
  'containerPort'?: (number);
  'protocol'?: (string);
}

export interface ClusterPort__Output {
  'hostIp': (string);
  'hostPort': (number);
  'containerPort': (number);
  'protocol': (string);
}
