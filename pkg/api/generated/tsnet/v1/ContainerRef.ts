// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface ContainerRef {
  /**
   * A name, an ID or a unique ID prefix.
   */
  'container'?: (string);
}

export interface ContainerRef__Output {
  /**
   * A name, an ID or a unique ID prefix.
   */
  'container': (string);
}
