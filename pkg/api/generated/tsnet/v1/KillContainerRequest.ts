// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface KillContainerRequest {
  'container'?: (string);
  /**
   * A name ("KILL", "SIGKILL") or a number; empty: SIGKILL.
   */
  'signal'?: (string);
}

export interface KillContainerRequest__Output {
  'container': (string);
  /**
   * A name ("KILL", "SIGKILL") or a number; empty: SIGKILL.
   */
  'signal': (string);
}
