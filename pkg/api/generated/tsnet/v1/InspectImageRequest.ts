// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface InspectImageRequest {
  /**
   * A name, an ID or a unique ID prefix.
   */
  'image'?: (string);
}

export interface InspectImageRequest__Output {
  /**
   * A name, an ID or a unique ID prefix.
   */
  'image': (string);
}
