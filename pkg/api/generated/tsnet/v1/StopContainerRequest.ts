// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface StopContainerRequest {
  'container'?: (string);
  /**
   * Seconds to wait after the stop signal before SIGKILL; -1: the container's own (StopTimeout, else 10).
   */
  'timeoutSeconds'?: (number);
}

export interface StopContainerRequest__Output {
  'container': (string);
  /**
   * Seconds to wait after the stop signal before SIGKILL; -1: the container's own (StopTimeout, else 10).
   */
  'timeoutSeconds': (number);
}
