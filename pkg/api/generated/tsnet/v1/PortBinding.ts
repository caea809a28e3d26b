// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface PortBinding {
  'hostIp'?: (string);
  'hostPort'?: (number);
  'containerPort'?: (number);
  /**
   * tcp, udp or sctp.
   */
  'protocol'?: (string);
}

export interface PortBinding__Output {
  'hostIp': (string);
  'hostPort': (number);
  'containerPort': (number);
  /**
   * tcp, udp or sctp.
   */
  'protocol': (string);
}
