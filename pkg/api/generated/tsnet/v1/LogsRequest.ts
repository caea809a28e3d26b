// Original file: pkg/api/proto/tsnet/v1/containers.proto

import type { Long } from '@grpc/proto-loader';

export interface LogsRequest {
  'container'?: (string);
  'follow'?: (boolean);
  /**
   * Lines from the end; -1: all.
   */
  'tail'?: (number);
  /**
   * Unix time in nanoseconds; 0: from the start / to the end.
   */
  'sinceUnixNano'?: (number | string | Long);
  'untilUnixNano'?: (number | string | Long);
  'stdout'?: (boolean);
  'stderr'?: (boolean);
}

export interface LogsRequest__Output {
  'container': (string);
  'follow': (boolean);
  /**
   * Lines from the end; -1: all.
   */
  'tail': (number);
  /**
   * Unix time in nanoseconds; 0: from the start / to the end.
   */
  'sinceUnixNano': (number);
  'untilUnixNano': (number);
  'stdout': (boolean);
  'stderr': (boolean);
}
