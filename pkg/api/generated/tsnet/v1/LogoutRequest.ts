// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface LogoutRequest {
  'server'?: (string);
}

export interface LogoutRequest__Output {
  'server': (string);
}
