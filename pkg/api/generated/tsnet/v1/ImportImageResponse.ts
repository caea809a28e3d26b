// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface ImportImageResponse {
  'id'?: (string);
}

export interface ImportImageResponse__Output {
  'id': (string);
}
