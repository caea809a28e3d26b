// Original file: pkg/api/proto/tsnet/v1/volumes.proto


export interface RemoveVolumeRequest {
  'name'?: (string);
  'force'?: (boolean);
}

export interface RemoveVolumeRequest__Output {
  'name': (string);
  'force': (boolean);
}
