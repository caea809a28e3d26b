// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface TopRequest {
  'container'?: (string);
  /**
   * ps options (docker top CONTAINER [ps OPTIONS]); empty: -ef.
   */
  'psArgs'?: (string)[];
}

export interface TopRequest__Output {
  'container': (string);
  /**
   * ps options (docker top CONTAINER [ps OPTIONS]); empty: -ef.
   */
  'psArgs': (string)[];
}
