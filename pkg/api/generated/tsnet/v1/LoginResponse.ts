// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface LoginResponse {
  'status'?: (string);
}

export interface LoginResponse__Output {
  'status': (string);
}
