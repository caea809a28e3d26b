// Original file: pkg/api/proto/tsnet/v1/volumes.proto


export interface RemoveVolumeResponse {
}

export interface RemoveVolumeResponse__Output {
}
