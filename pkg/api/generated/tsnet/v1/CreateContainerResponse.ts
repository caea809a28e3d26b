// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface CreateContainerResponse {
  'id'?: (string);
  'warnings'?: (string)[];
}

export interface CreateContainerResponse__Output {
  'id': (string);
  'warnings': (string)[];
}
