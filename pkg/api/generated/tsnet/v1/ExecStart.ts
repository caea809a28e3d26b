// Original file: pkg/api/proto/tsnet/v1/containers.proto

import type { TerminalSize as _tsnet_v1_TerminalSize, TerminalSize__Output as _tsnet_v1_TerminalSize__Output } from '../../tsnet/v1/TerminalSize.ts';

export interface ExecStart {
  'container'?: (string);
  'cmd'?: (string)[];
  'env'?: (string)[];
  'user'?: (string);
  'workingDir'?: (string);
  'tty'?: (boolean);
  'stdin'?: (boolean);
  'detach'?: (boolean);
  'privileged'?: (boolean);
  'size'?: (_tsnet_v1_TerminalSize | null);
}

export interface ExecStart__Output {
  'container': (string);
  'cmd': (string)[];
  'env': (string)[];
  'user': (string);
  'workingDir': (string);
  'tty': (boolean);
  'stdin': (boolean);
  'detach': (boolean);
  'privileged': (boolean);
  'size': (_tsnet_v1_TerminalSize__Output | null);
}
