// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface RenameContainerRequest {
  'container'?: (string);
  'newName'?: (string);
}

export interface RenameContainerRequest__Output {
  'container': (string);
  'newName': (string);
}
