// Original file: pkg/api/proto/tsnet/v1/containers.proto

import type { TerminalSize as _tsnet_v1_TerminalSize, TerminalSize__Output as _tsnet_v1_TerminalSize__Output } from '../../tsnet/v1/TerminalSize.ts';

export interface AttachStart {
  'container'?: (string);
  'stdin'?: (boolean);
  'stdout'?: (boolean);
  'stderr'?: (boolean);
  /**
   * Output written before the attach (the log's tail) is sent first.
   */
  'logs'?: (boolean);
  /**
   * The client's terminal size, applied before any output when the container has a terminal.
   */
  'size'?: (_tsnet_v1_TerminalSize | null);
  /**
   * Keys that detach (docker's --detach-keys, default ctrl-p,ctrl-q).
   */
  'detachKeys'?: (string);
}

export interface AttachStart__Output {
  'container': (string);
  'stdin': (boolean);
  'stdout': (boolean);
  'stderr': (boolean);
  /**
   * Output written before the attach (the log's tail) is sent first.
   */
  'logs': (boolean);
  /**
   * The client's terminal size, applied before any output when the container has a terminal.
   */
  'size': (_tsnet_v1_TerminalSize__Output | null);
  /**
   * Keys that detach (docker's --detach-keys, default ctrl-p,ctrl-q).
   */
  'detachKeys': (string);
}
