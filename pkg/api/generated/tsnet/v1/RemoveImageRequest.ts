// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface RemoveImageRequest {
  'image'?: (string);
  'force'?: (boolean);
  'noPrune'?: (boolean);
}

export interface RemoveImageRequest__Output {
  'image': (string);
  'force': (boolean);
  'noPrune': (boolean);
}
