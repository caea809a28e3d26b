// The content store's contract (containerd's content.Store): blobs addressed by digest, written through a
// writer that commits only when the bytes match the expected digest and size. A blob is complete and verified,
// or absent; a partial write lives as an ingest under a caller-chosen ref and can be resumed.
import type { Readable } from 'node:stream';
import type { Digest } from './digest.ts';

export interface ContentInfo {
  readonly digest: Digest;
  readonly size: number;
  readonly committedAt: Date;
}

/** An unfinished write: what is already on disk for `ref`. */
export interface IngestStatus {
  readonly ref: string;
  readonly expected: Digest;
  /** Bytes already written: resume from here (an HTTP `Range: bytes=<offset>-`). */
  readonly offset: number;
  readonly total?: number;
  readonly updatedAt: Date;
}

export interface WriterOptions {
  /** Names the ingest; the same ref resumes the same partial write. Usually derived from the digest. */
  readonly ref: string;
  readonly expected: Digest;
  /** The expected size, when known: writing past it fails at once, commit checks it. */
  readonly size?: number;
}

export interface ContentWriter {
  readonly ref: string;
  readonly expected: Digest;
  /** Bytes written so far, including those of an earlier, interrupted write that this one resumes. */
  readonly offset: number;
  write(chunk: Uint8Array): Promise<void>;
  /** Verifies size and digest, then makes the blob visible under its digest. Releases the writer. */
  commit(): Promise<ContentInfo>;
  /** Keeps the partial data for a later resume and releases the writer. */
  close(): Promise<void>;
  /** Drops the partial data. */
  abort(): Promise<void>;
  /** Forgets what was written (the source restarts from byte 0, e.g. a server that ignored Range). */
  truncate(): Promise<void>;
}

/** Opening a writer either finds the blob already committed or gives the (exclusive) writer for the ref. */
export type OpenedWriter =
  | { readonly status: 'exists'; readonly info: ContentInfo }
  | { readonly status: 'open'; readonly writer: ContentWriter };

export interface ContentStore {
  info(digest: Digest): Promise<ContentInfo | undefined>;
  /** A stream of the blob's bytes; fails with code `not-found` when absent. */
  reader(digest: Digest): Promise<Readable>;
  readBytes(digest: Digest): Promise<Buffer>;
  /** Waits while another writer holds `ref` (in this process or another), then opens it. */
  openWriter(options: WriterOptions): Promise<OpenedWriter>;
  ingests(): Promise<IngestStatus[]>;
  /** Removes ingests nobody holds that were not touched for `olderThanMs`; returns their refs. */
  pruneIngests(olderThanMs: number): Promise<string[]>;
  list(): Promise<ContentInfo[]>;
  /** True when a blob was removed. */
  delete(digest: Digest): Promise<boolean>;
}

export type ContentErrorCode = 'not-found' | 'digest-mismatch' | 'size-mismatch' | 'invalid' | 'io';

export class ContentError extends Error {
  override readonly name = 'ContentError';
  constructor(
    readonly code: ContentErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Writes the whole of `source` (from byte 0, dropping any partial ingest of the ref) and commits it. */
export async function writeBlob(
  store: ContentStore,
  options: WriterOptions,
  source: AsyncIterable<Uint8Array> | Uint8Array,
): Promise<ContentInfo> {
  const opened = await store.openWriter(options);
  if (opened.status === 'exists') return opened.info;
  const { writer } = opened;
  try {
    await writer.truncate();
    if (source instanceof Uint8Array) await writer.write(source);
    else for await (const chunk of source) await writer.write(chunk);
    return await writer.commit();
  } catch (err) {
    await writer.close();
    throw err;
  }
}
