// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface ImageHistoryRequest {
  'image'?: (string);
}

export interface ImageHistoryRequest__Output {
  'image': (string);
}
