// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface PushImageRequest {
  'reference'?: (string);
}

export interface PushImageRequest__Output {
  'reference': (string);
}
