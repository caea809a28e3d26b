// Original file: pkg/api/proto/tsnet/v1/volumes.proto


export interface VolumeRef {
  'name'?: (string);
}

export interface VolumeRef__Output {
  'name': (string);
}
