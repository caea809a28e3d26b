// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface CopyToOptions {
  'container'?: (string);
  /**
   * The directory in the container the tar is extracted into.
   */
  'path'?: (string);
}

export interface CopyToOptions__Output {
  'container': (string);
  /**
   * The directory in the container the tar is extracted into.
   */
  'path': (string);
}
