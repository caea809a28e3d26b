// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface SaveImagesRequest {
  'images'?: (string)[];
  /**
   * "docker-archive" (default) or "oci-archive".
   */
  'format'?: (string);
}

export interface SaveImagesRequest__Output {
  'images': (string)[];
  /**
   * "docker-archive" (default) or "oci-archive".
   */
  'format': (string);
}
