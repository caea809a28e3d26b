// Original file: pkg/api/proto/tsnet/v1/volumes.proto


export interface InspectVolumeResponse {
  'json'?: (string);
}

export interface InspectVolumeResponse__Output {
  'json': (string);
}
