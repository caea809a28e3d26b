// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface CopyFromRequest {
  'container'?: (string);
  'path'?: (string);
}

export interface CopyFromRequest__Output {
  'container': (string);
  'path': (string);
}
