// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface CopyToResponse {
}

export interface CopyToResponse__Output {
}
