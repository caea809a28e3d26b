// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface RemoveContainerRequest {
  'container'?: (string);
  /**
   * Kill a running container first.
   */
  'force'?: (boolean);
  /**
   * Remove the anonymous volumes it made.
   */
  'volumes'?: (boolean);
}

export interface RemoveContainerRequest__Output {
  'container': (string);
  /**
   * Kill a running container first.
   */
  'force': (boolean);
  /**
   * Remove the anonymous volumes it made.
   */
  'volumes': (boolean);
}
