// Original file: pkg/api/proto/tsnet/v1/containers.proto

import type { AttachStart as _tsnet_v1_AttachStart, AttachStart__Output as _tsnet_v1_AttachStart__Output } from '../../tsnet/v1/AttachStart.ts';
import type { TerminalSize as _tsnet_v1_TerminalSize, TerminalSize__Output as _tsnet_v1_TerminalSize__Output } from '../../tsnet/v1/TerminalSize.ts';

export interface AttachInput {
  'start'?: (_tsnet_v1_AttachStart | null);
  'stdin'?: (Buffer | Uint8Array | string);
  'resize'?: (_tsnet_v1_TerminalSize | null);
  /**
   * The client's stdin ended.
   */
  'closeStdin'?: (boolean);
  'input'?: "start"|"stdin"|"resize"|"closeStdin";
}

export interface AttachInput__Output {
  'start'?: (_tsnet_v1_AttachStart__Output | null);
  'stdin'?: (Buffer);
  'resize'?: (_tsnet_v1_TerminalSize__Output | null);
  /**
   * The client's stdin ended.
   */
  'closeStdin'?: (boolean);
  'input'?: "start"|"stdin"|"resize"|"closeStdin";
}
