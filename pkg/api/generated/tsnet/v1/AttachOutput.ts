// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface AttachOutput {
  'stdout'?: (Buffer | Uint8Array | string);
  'stderr'?: (Buffer | Uint8Array | string);
  /**
   * The process ended: its exit code (137 after an OOM kill, 126/127 when the command could not run).
   */
  'exitCode'?: (number);
  /**
   * With exit_code: the process ran out of memory.
   */
  'oomKilled'?: (boolean);
  /**
   * An exec's ID, in the first frame of a detached exec.
   */
  'execId'?: (string);
  'output'?: "stdout"|"stderr"|"exitCode";
}

export interface AttachOutput__Output {
  'stdout'?: (Buffer);
  'stderr'?: (Buffer);
  /**
   * The process ended: its exit code (137 after an OOM kill, 126/127 when the command could not run).
   */
  'exitCode'?: (number);
  /**
   * With exit_code: the process ran out of memory.
   */
  'oomKilled': (boolean);
  /**
   * An exec's ID, in the first frame of a detached exec.
   */
  'execId': (string);
  'output'?: "stdout"|"stderr"|"exitCode";
}
