// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface LoginRequest {
  'server'?: (string);
  'username'?: (string);
  'password'?: (string);
}

export interface LoginRequest__Output {
  'server': (string);
  'username': (string);
  'password': (string);
}
