// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface TagImageResponse {
}

export interface TagImageResponse__Output {
}
