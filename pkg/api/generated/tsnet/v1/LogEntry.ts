// Original file: pkg/api/proto/tsnet/v1/containers.proto

import type { Long } from '@grpc/proto-loader';

export interface LogEntry {
  /**
   * stdout or stderr.
   */
  'stream'?: (string);
  'timeUnixNano'?: (number | string | Long);
  /**
   * One line, its newline included when the container wrote one.
   */
  'data'?: (Buffer | Uint8Array | string);
}

export interface LogEntry__Output {
  /**
   * stdout or stderr.
   */
  'stream': (string);
  'timeUnixNano': (number);
  /**
   * One line, its newline included when the container wrote one.
   */
  'data': (Buffer);
}
