// Original file: pkg/api/proto/tsnet/v1/system.proto


export interface InfoRequest {
}

export interface InfoRequest__Output {
}
