// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface WaitContainerResponse {
  'exitCode'?: (number);
  'oomKilled'?: (boolean);
}

export interface WaitContainerResponse__Output {
  'exitCode': (number);
  'oomKilled': (boolean);
}
