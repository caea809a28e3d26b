// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface LogoutResponse {
}

export interface LogoutResponse__Output {
}
