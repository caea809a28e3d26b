// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface CommitResponse {
  'id'?: (string);
}

export interface CommitResponse__Output {
  'id': (string);
}
