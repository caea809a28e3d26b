// Original file: pkg/api/proto/tsnet/v1/containers.proto

import type { CopyToOptions as _tsnet_v1_CopyToOptions, CopyToOptions__Output as _tsnet_v1_CopyToOptions__Output } from '../../tsnet/v1/CopyToOptions.ts';

export interface CopyToChunk {
  'options'?: (_tsnet_v1_CopyToOptions | null);
  'data'?: (Buffer | Uint8Array | string);
  'chunk'?: "options"|"data";
}

export interface CopyToChunk__Output {
  'options'?: (_tsnet_v1_CopyToOptions__Output | null);
  'data'?: (Buffer);
  'chunk'?: "options"|"data";
}
