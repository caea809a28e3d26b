// Original file: pkg/api/proto/tsnet/v1/system.proto


export interface VersionRequest {
}

export interface VersionRequest__Output {
}
