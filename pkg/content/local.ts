// The content store on a local file system:
//   <root>/blobs/<algorithm>/<hex>     committed blobs, read-only, only ever created by rename
//   <root>/ingest/<sha256(ref)>/       one unfinished write: `data`, `meta` (JSON: ref, expected, total) and
//                                      `lock` (flock held by the writer, so a killed writer frees it at once)
//   <root>/discard/<uuid>/             ingests on their way out: renamed here first, then removed
// Digests are validated before they become paths; refs are hashed, so any string can name an ingest.
import { createHash, type Hash, randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fsyncDirectory, writeFileAtomic } from '../fsutil/atomic.ts';
import { faultPoint } from '../testing/fault.ts';
import { type Digest, digestAlgorithm, digestHex, hasherFor, isDigest, parseDigest } from './digest.ts';
import { acquireFileLock, type HeldLock, tryFileLock } from './lock.ts';
import {
  ContentError,
  type ContentInfo,
  type ContentStore,
  type ContentWriter,
  type IngestStatus,
  type OpenedWriter,
  type WriterOptions,
} from './store.ts';

interface IngestMeta {
  ref: string;
  expected: Digest;
  total?: number;
}

/** The fault point 'content-half-written' is for layers: blobs this small (configs) never arm it. */
const HALF_WRITTEN_MIN = 1 << 20;

export class LocalContentStore implements ContentStore {
  constructor(readonly root: string) {}

  private blobPath(digest: Digest): string {
    parseDigest(digest); // a Digest typed value may still come from a cast: check before it becomes a path
    return join(this.root, 'blobs', digestAlgorithm(digest), digestHex(digest));
  }

  private ingestDir(ref: string): string {
    return join(this.root, 'ingest', createHash('sha256').update(ref).digest('hex'));
  }

  async info(digest: Digest): Promise<ContentInfo | undefined> {
    const path = this.blobPath(digest); // a malformed digest is a DigestError, not an I/O failure
    try {
      const st = await stat(path);
      return { digest, size: st.size, committedAt: st.mtime };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw ioError(`cannot stat blob ${digest}`, err);
    }
  }

  async reader(digest: Digest): Promise<Readable> {
    const path = this.blobPath(digest);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new ContentError('not-found', `blob ${digest} not found`);
      throw ioError(`cannot open blob ${digest}`, err);
    }
    return handle.createReadStream(); // closes the handle at the end
  }

  async readBytes(digest: Digest): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new ContentError('not-found', `blob ${digest} not found`);
      throw ioError(`cannot read blob ${digest}`, err);
    }
  }

  async openWriter(options: WriterOptions): Promise<OpenedWriter> {
    const expected = parseDigest(options.expected);
    if (options.size !== undefined && (!Number.isSafeInteger(options.size) || options.size < 0)) {
      throw new ContentError('invalid', `invalid size ${options.size} for ${expected}`);
    }
    const existing = await this.info(expected);
    if (existing) return { status: 'exists', info: existing };
    const dir = this.ingestDir(options.ref);
    const lock = await this.lockIngest(dir, options.ref);
    try {
      // Whoever held the ref before us may have committed the blob meanwhile: drop the empty ingest we made.
      const committed = await this.info(expected);
      if (committed) {
        await this.discardIngest(dir);
        lock.release();
        return { status: 'exists', info: committed };
      }
      const writer = await LocalWriter.open(this, dir, { ...options, expected }, lock);
      return { status: 'open', writer };
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  // The ingest directory (and its lock file) goes away on commit or prune while others may wait on the lock:
  // a lock won on a removed file is worthless, so take it again on the file now at the path.
  private async lockIngest(dir: string, ref: string): Promise<HeldLock> {
    for (;;) {
      let lock: HeldLock;
      try {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        lock = await acquireFileLock(join(dir, 'lock'));
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue;
        throw ioError(`cannot lock the ingest for ${ref}`, err);
      }
      if (lock.stillLinked()) return lock;
      lock.release();
    }
  }

  /**
   * Removes an ingest directory whose lock the caller holds. A waiter may create a new `lock` file in it at
   * any moment (it lost the race to a removed one), so a recursive rm in place can meet ENOTEMPTY: rename the
   * directory away first, which is atomic; the waiter then finds no lock at the path and starts over.
   */
  async discardIngest(dir: string): Promise<void> {
    const discard = join(this.root, 'discard');
    const target = join(discard, randomUUID());
    try {
      await mkdir(discard, { recursive: true, mode: 0o700 });
      await rename(dir, target);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return; // already gone
      throw ioError(`cannot discard ingest ${dir}`, err);
    }
    await rm(target, { recursive: true, force: true });
  }

  /** Moves a verified ingest's data to its final name; used by the writer. */
  async commitData(dataPath: string, digest: Digest): Promise<ContentInfo> {
    const final = this.blobPath(digest);
    const dir = join(this.root, 'blobs', digestAlgorithm(digest));
    await mkdir(dir, { recursive: true, mode: 0o755 });
    // A concurrent writer under another ref may have committed the same bytes: renaming over them is harmless.
    const st = await stat(dataPath); // before the rename: once published, the blob may be deleted at once
    await rename(dataPath, final);
    await fsyncDirectory(dir);
    return { digest, size: st.size, committedAt: st.mtime };
  }

  async ingests(): Promise<IngestStatus[]> {
    const result: IngestStatus[] = [];
    for (const name of await listDir(join(this.root, 'ingest'))) {
      const status = await readIngestStatus(join(this.root, 'ingest', name));
      if (status) result.push(status);
    }
    return result;
  }

  async pruneIngests(olderThanMs: number): Promise<string[]> {
    const pruned: string[] = [];
    const now = Date.now();
    // Renamed away by a writer killed before it removed them: nobody uses them.
    for (const name of await listDir(join(this.root, 'discard'))) {
      await rm(join(this.root, 'discard', name), { recursive: true, force: true });
    }
    for (const name of await listDir(join(this.root, 'ingest'))) {
      const dir = join(this.root, 'ingest', name);
      let lock: HeldLock | undefined;
      try {
        lock = tryFileLock(join(dir, 'lock'));
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue; // removed meanwhile
        throw ioError(`cannot lock ingest ${name}`, err);
      }
      if (!lock) continue; // a live writer holds it
      try {
        const status = await readIngestStatus(dir);
        const touched = status?.updatedAt.getTime() ?? (await stat(dir)).mtime.getTime();
        if (now - touched < olderThanMs) continue;
        await this.discardIngest(dir);
        pruned.push(status?.ref ?? name);
      } finally {
        lock.release();
      }
    }
    return pruned;
  }

  async list(): Promise<ContentInfo[]> {
    const result: ContentInfo[] = [];
    for (const algorithm of await listDir(join(this.root, 'blobs'))) {
      for (const hex of await listDir(join(this.root, 'blobs', algorithm))) {
        const digest = `${algorithm}:${hex}`;
        if (!isDigest(digest)) continue; // not ours
        const info = await this.info(digest);
        if (info) result.push(info);
      }
    }
    return result;
  }

  async delete(digest: Digest): Promise<boolean> {
    const path = this.blobPath(digest);
    try {
      await unlink(path);
      return true;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw ioError(`cannot delete blob ${digest}`, err);
    }
  }
}

class LocalWriter implements ContentWriter {
  private released = false;

  private constructor(
    private readonly store: LocalContentStore,
    private readonly dir: string,
    private readonly meta: IngestMeta,
    private readonly lock: HeldLock,
    private readonly file: FileHandle,
    private hash: Hash,
    private written: number,
  ) {}

  /** Opens (or resumes) the ingest in `dir`; the caller holds its lock. */
  static async open(
    store: LocalContentStore,
    dir: string,
    options: WriterOptions,
    lock: HeldLock,
  ): Promise<LocalWriter> {
    const meta: IngestMeta = {
      ref: options.ref,
      expected: options.expected,
      ...(options.size !== undefined && { total: options.size }),
    };
    const previous = await readMeta(dir);
    const sameBlob = previous?.expected === meta.expected;
    if (!sameBlob || previous?.total !== meta.total)
      await writeFileAtomic(join(dir, 'meta'), JSON.stringify(meta));
    const dataPath = join(dir, 'data');
    const file = await open(dataPath, sameBlob ? 'a+' : 'w+', 0o600).catch((err: unknown) => {
      throw ioError(`cannot open the ingest data of ${options.ref}`, err);
    });
    try {
      // Node cannot restore a hash state, so a resumed write re-reads what the killed writer left.
      const hash = hasherFor(digestAlgorithm(meta.expected));
      let written = 0;
      for await (const chunk of file.createReadStream({ start: 0, autoClose: false })) {
        hash.update(chunk as Buffer);
        written += (chunk as Buffer).length;
      }
      if (meta.total !== undefined && written > meta.total) {
        await file.truncate(0);
        return new LocalWriter(store, dir, meta, lock, file, hasherFor(digestAlgorithm(meta.expected)), 0);
      }
      return new LocalWriter(store, dir, meta, lock, file, hash, written);
    } catch (err) {
      await file.close();
      throw ioError(`cannot read the ingest data of ${options.ref}`, err);
    }
  }

  get ref(): string {
    return this.meta.ref;
  }

  get expected(): Digest {
    return this.meta.expected;
  }

  get offset(): number {
    return this.written;
  }

  private checkOpen(): void {
    if (this.released) throw new ContentError('invalid', `writer for ${this.meta.ref} is already closed`);
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.checkOpen();
    const { total } = this.meta;
    if (total !== undefined && this.written + chunk.length > total) {
      await this.abort();
      throw new ContentError(
        'size-mismatch',
        `blob ${this.meta.expected} is larger than the expected ${total} bytes (got at least ${this.written + chunk.length})`,
      );
    }
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.file.write(chunk, done, chunk.length - done, this.written + done);
      done += bytesWritten;
    }
    this.hash.update(chunk);
    const before = this.written;
    this.written += chunk.length;
    if (total !== undefined && total >= HALF_WRITTEN_MIN && before * 2 < total && this.written * 2 >= total)
      faultPoint('content-half-written');
  }

  async commit(): Promise<ContentInfo> {
    this.checkOpen();
    const { expected, total, ref } = this.meta;
    if (total !== undefined && this.written !== total) {
      await this.close(); // a short write can be resumed
      throw new ContentError(
        'size-mismatch',
        `blob ${expected} is truncated: ${this.written} of ${total} bytes written (ingest ${ref} kept for resume)`,
      );
    }
    const actual = `${digestAlgorithm(expected)}:${this.hash.digest('hex')}`;
    if (actual !== expected) {
      await this.abort();
      throw new ContentError(
        'digest-mismatch',
        `content of ${ref} has digest ${actual}, expected ${expected}`,
      );
    }
    try {
      await this.file.chmod(0o444); // blobs are immutable
      await this.file.sync();
      await this.file.close();
      const info = await this.store.commitData(join(this.dir, 'data'), expected);
      await this.store.discardIngest(this.dir);
      return info;
    } catch (err) {
      throw ioError(`cannot commit blob ${expected}`, err);
    } finally {
      this.release();
    }
  }

  async close(): Promise<void> {
    if (this.released) return;
    try {
      await this.file.sync();
      await this.file.close();
    } finally {
      this.release();
    }
  }

  async abort(): Promise<void> {
    if (this.released) return;
    try {
      await this.file.close();
      await this.store.discardIngest(this.dir);
    } finally {
      this.release();
    }
  }

  async truncate(): Promise<void> {
    this.checkOpen();
    await this.file.truncate(0);
    this.hash = hasherFor(digestAlgorithm(this.meta.expected));
    this.written = 0;
  }

  private release(): void {
    this.released = true;
    this.lock.release();
  }
}

async function readMeta(dir: string): Promise<IngestMeta | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, 'meta'), 'utf8')) as Partial<IngestMeta>;
    if (typeof parsed.ref !== 'string' || typeof parsed.expected !== 'string' || !isDigest(parsed.expected)) {
      return undefined;
    }
    return {
      ref: parsed.ref,
      expected: parsed.expected,
      ...(typeof parsed.total === 'number' && { total: parsed.total }),
    };
  } catch {
    return undefined; // missing or torn: the ingest restarts from scratch
  }
}

async function readIngestStatus(dir: string): Promise<IngestStatus | undefined> {
  const meta = await readMeta(dir);
  if (!meta) return undefined;
  try {
    const st = await stat(join(dir, 'data'));
    return { ...meta, offset: st.size, updatedAt: st.mtime };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { ...meta, offset: 0, updatedAt: (await stat(dir)).mtime };
    throw ioError(`cannot stat ingest ${meta.ref}`, err);
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw ioError(`cannot list ${dir}`, err);
  }
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function ioError(message: string, err: unknown): ContentError {
  if (err instanceof ContentError) return err;
  return new ContentError('io', `${message}: ${(err as Error).message}`, { cause: err });
}
