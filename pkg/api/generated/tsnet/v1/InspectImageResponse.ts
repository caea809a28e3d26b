// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface InspectImageResponse {
  /**
   * Docker's `docker image inspect` object for this image, as JSON.
   */
  'json'?: (string);
}

export interface InspectImageResponse__Output {
  /**
   * Docker's `docker image inspect` object for this image, as JSON.
   */
  'json': (string);
}
