// Original file: pkg/api/proto/tsnet/v1/containers.proto

import type { ExecStart as _tsnet_v1_ExecStart, ExecStart__Output as _tsnet_v1_ExecStart__Output } from '../../tsnet/v1/ExecStart.ts';
import type { TerminalSize as _tsnet_v1_TerminalSize, TerminalSize__Output as _tsnet_v1_TerminalSize__Output } from '../../tsnet/v1/TerminalSize.ts';

export interface ExecInput {
  'start'?: (_tsnet_v1_ExecStart | null);
  'stdin'?: (Buffer | Uint8Array | string);
  'resize'?: (_tsnet_v1_TerminalSize | null);
  'closeStdin'?: (boolean);
  'input'?: "start"|"stdin"|"resize"|"closeStdin";
}

export interface ExecInput__Output {
  'start'?: (_tsnet_v1_ExecStart__Output | null);
  'stdin'?: (Buffer);
  'resize'?: (_tsnet_v1_TerminalSize__Output | null);
  'closeStdin'?: (boolean);
  'input'?: "start"|"stdin"|"resize"|"closeStdin";
}
