// Original file: pkg/api/proto/tsnet/v1/containers.proto


export interface StatsRequest {
  'container'?: (string);
  /**
   * One sample and end (stats --no-stream); else one per second until cancelled.
   */
  'noStream'?: (boolean);
}

export interface StatsRequest__Output {
  'container': (string);
  /**
   * One sample and end (stats --no-stream); else one per second until cancelled.
   */
  'noStream': (boolean);
}
