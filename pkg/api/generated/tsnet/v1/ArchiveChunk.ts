// Original file: pkg/api/proto/tsnet/v1/images.proto


export interface ArchiveChunk {
  'data'?: (Buffer | Uint8Array | string);
}

export interface ArchiveChunk__Output {
  'data': (Buffer);
}
