// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface WaitContainerRequest {
  'container'?: (string);
  /**
   * not-running (default), next-exit, removed.
   */
  'condition'?: (string);
}

export interface WaitContainerRequest__Output {
  'container': (string);
  /**
   * not-running (default), next-exit, removed.
   */
  'condition': (string);
}
