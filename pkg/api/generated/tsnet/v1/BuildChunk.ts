// Original file: pkg/api/proto/tsnet/v1/images.proto

import type { BuildOptions as _tsnet_v1_BuildOptions, BuildOptions__Output as _tsnet_v1_BuildOptions__Output } from '../../tsnet/v1/BuildOptions.ts';

export interface BuildChunk {
  /**
   * On the first chunk only.
   */
  'options'?: (_tsnet_v1_BuildOptions | null);
  /**
   * The context: a tar, gzip-compressed or not.
   */
  'data'?: (Buffer | Uint8Array | string);
}

export interface BuildChunk__Output {
  /**
   * On the first chunk only.
   */
  'options': (_tsnet_v1_BuildOptions__Output | null);
  /**
   * The context: a tar, gzip-compressed or not.
   */
  'data': (Buffer);
}
