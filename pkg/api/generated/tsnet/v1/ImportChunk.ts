// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface ImportChunk {
  /**
   * Options, on the first chunk only.
   */
  'reference'?: (string);
  'changes'?: (string)[];
  'message'?: (string);
  'platform'?: (string);
  'data'?: (Buffer | Uint8Array | string);
}

export interface ImportChunk__Output {
  /**
   * Options, on the first chunk only.
   */
  'reference': (string);
  'changes': (string)[];
  'message': (string);
  'platform': (string);
  'data': (Buffer);
}
