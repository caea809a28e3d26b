// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface InspectContainerResponse {
  /**
   * Docker's `docker container inspect` object, as JSON.
   */
  'json'?: (string);
}

export interface InspectContainerResponse__Output {
  /**
   * Docker's `docker container inspect` object, as JSON.
   */
  'json': (string);
}
