// Applies an image layer (a tar, gzip-compressed or not) to a directory the way overlayfs expects a layer:
// the OCI whiteout `.wh.NAME` becomes a character device 0:0 named NAME, and `.wh..wh..opq` the
// `trusted.overlay.opaque=y` attribute of its directory. Ownership, modes, times, extended attributes, hard
// links, symlinks, devices and FIFOs are kept. No entry can write outside the directory: absolute names, `..`,
// hard links out of the layer and paths through a symlink are refused, and the layer with them.

import { createHash } from 'node:crypto';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { lsetxattr, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../../native/libc.ts';
import { type Compression, detectCompression } from './compression.ts';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_WHITEOUT = '.wh..wh..opq';
const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';
const PAX_XATTR_PREFIX = 'SCHILY.xattr.';

/** A layer that cannot be applied: its name says which entry and why. */
export class LayerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LayerError';
  }
}

export interface ApplyResult {
  /** Entries applied (whiteouts included). */
  entries: number;
  /** Bytes of file content written. */
  bytes: number;
  compression: Compression;
  /** sha256 of the uncompressed tar: the layer's DiffID, which the image config lists. */
  diffId: string;
  /** What could not be kept exactly (e.g. a binary xattr value the tar reader decoded lossily). */
  warnings: string[];
}

/**
 * Splits a tar entry name into its path components inside the layer. Leading `./` and trailing `/` are the
 * tar writers' habits; an absolute name, a `..` component or a NUL byte is refused.
 */
export function layerPath(name: string): string[] {
  if (name.includes('\0')) throw new LayerError(`entry ${JSON.stringify(name)}: NUL byte in the name`);
  if (name.startsWith('/'))
    throw new LayerError(`entry ${JSON.stringify(name)}: absolute path (a layer entry must be relative)`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..'))
    throw new LayerError(`entry ${JSON.stringify(name)}: '..' would leave the layer directory`);
  return parts;
}

export type TarHeader = tar.Header;
export type TarEntry = AsyncIterable<unknown>;

/** Applies the layer read from `input` to `dir` (which must exist). */
export async function applyLayer(input: Readable, dir: string): Promise<ApplyResult> {
  const { compression, stream } = await detectCompression(input);
  const result: ApplyResult = { entries: 0, bytes: 0, compression, diffId: '', warnings: [] };
  if (compression === 'zstd')
    throw new LayerError('zstd-compressed layer: this Node has no zstd decoder (use gzip layers)');
  const uncompressed: Readable = compression === 'gzip' ? stream.pipe(createGunzip()) : stream;
  stream.on('error', (err) => uncompressed.destroy(err));
  const hash = createHash('sha256');
  const tarStream = uncompressed.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        callback(null, chunk);
      },
    }),
  );
  uncompressed.on('error', (err) => tarStream.destroy(err));

  const applier = new LayerApplier(dir, result);
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      try {
        await applier.apply(entry.header, entry);
      } finally {
        entry.resume();
      }
    }
  })();
  tarStream.on('error', (err) => extract.destroy(err));
  tarStream.pipe(extract);
  try {
    await done;
  } catch (err) {
    tarStream.destroy();
    if (err instanceof LayerError) throw err;
    throw new LayerError(`layer is not a valid tar stream: ${(err as Error).message}`);
  }
  if (!tarStream.readableEnded) await finished(tarStream).catch(() => undefined);
  await applier.finish();
  result.diffId = `sha256:${hash.digest('hex')}`;
  return result;
}

/**
 * Creates the file, directory, symlink, device or FIFO a tar entry describes at `path` (whose parent exists and
 * which does not): content written with O_EXCL, so never through a symlink. Hard links are the caller's (their
 * source is resolved its own way). Returns the bytes of content written.
 */
export async function createEntryNode(
  header: TarHeader,
  path: string,
  content: TarEntry,
  fail: (message: string) => Error,
): Promise<number> {
  const mode = (header.mode ?? 0o644) & 0o7777;
  switch (header.type) {
    case 'file':
    case 'contiguous-file': {
      let bytes = 0;
      const file = await open(path, 'wx', 0o600);
      try {
        for await (const chunk of content) {
          await file.write(chunk as Uint8Array);
          bytes += (chunk as Uint8Array).length;
        }
      } finally {
        await file.close();
      }
      return bytes;
    }
    case 'directory':
      await mkdir(path, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      return 0;
    case 'symlink':
      if (!header.linkname) throw fail(`entry ${JSON.stringify(header.name)}: symlink without a target`);
      await symlink(header.linkname, path);
      return 0;
    case 'character-device':
      mknod(path, S_IFCHR | mode, header.devmajor ?? 0, header.devminor ?? 0);
      return 0;
    case 'block-device':
      mknod(path, S_IFBLK | mode, header.devmajor ?? 0, header.devminor ?? 0);
      return 0;
    case 'fifo':
      mknod(path, S_IFIFO | mode);
      return 0;
    default:
      throw fail(`entry ${JSON.stringify(header.name)}: unsupported tar entry type ${header.type}`);
  }
}

class LayerApplier {
  /** Directories whose times are set last: writing their entries changes them. */
  private readonly dirTimes: { path: string; mtime: Date }[] = [];

  constructor(
    private readonly root: string,
    private readonly result: ApplyResult,
  ) {}

  async apply(header: TarHeader, content: TarEntry): Promise<void> {
    const parts = layerPath(header.name);
    if (parts.length === 0) return; // the layer's root: its owner and mode belong to the snapshot
    const base = parts[parts.length - 1] as string;
    const parentParts = parts.slice(0, -1);
    await this.ensureParents(header.name, parentParts);
    const parent = join(this.root, ...parentParts);
    this.result.entries++;

    if (base === OPAQUE_WHITEOUT) {
      lsetxattr(parent, OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const hidden = base.slice(WHITEOUT_PREFIX.length);
      // `.wh..wh.*` other than the opaque marker is aufs bookkeeping (hard-link directories): no meaning here.
      if (hidden.startsWith(WHITEOUT_PREFIX) || hidden === '' || hidden === '.' || hidden === '..') return;
      const path = join(parent, hidden);
      await rm(path, { recursive: true, force: true });
      mknod(path, S_IFCHR, 0, 0);
      return;
    }

    const path = join(parent, base);
    const existing = await lstat(path).catch(() => undefined);
    if (existing && !(existing.isDirectory() && header.type === 'directory')) {
      await rm(path, { recursive: true, force: true });
    }
    await this.create(header, path, content);
    await this.applyMetadata(header, path);
  }

  private async create(header: TarHeader, path: string, content: TarEntry): Promise<void> {
    if (header.type === 'link') {
      await link(await this.hardLinkSource(header), path);
      return;
    }
    this.result.bytes += await createEntryNode(header, path, content, (message) => new LayerError(message));
  }

  /** A hard link's source is another entry of this layer, reached without a symlink. */
  private async hardLinkSource(header: TarHeader): Promise<string> {
    const name = header.linkname ?? '';
    const parts = layerPath(name);
    if (parts.length === 0)
      throw new LayerError(`entry ${JSON.stringify(header.name)}: hard link without a target`);
    await this.ensureParents(header.name, parts.slice(0, -1), false);
    const source = join(this.root, ...parts);
    const st = await lstat(source).catch(() => undefined);
    if (!st)
      throw new LayerError(
        `entry ${JSON.stringify(header.name)}: hard link to ${JSON.stringify(name)}, which is not in the layer`,
      );
    if (st.isDirectory())
      throw new LayerError(`entry ${JSON.stringify(header.name)}: hard link to a directory`);
    return source;
  }

  /**
   * Makes sure every parent of an entry is a real directory inside the layer (created 0755 when a writer
   * omitted it). A symlink on the way is refused: following it could write anywhere on the host.
   */
  private async ensureParents(entry: string, parents: string[], create = true): Promise<void> {
    let path = this.root;
    for (const part of parents) {
      path = join(path, part);
      const st = await lstat(path).catch(() => undefined);
      if (!st) {
        if (!create)
          throw new LayerError(`entry ${JSON.stringify(entry)}: ${JSON.stringify(part)} is not in the layer`);
        await mkdir(path, { mode: 0o755 });
        continue;
      }
      if (st.isSymbolicLink())
        throw new LayerError(
          `entry ${JSON.stringify(entry)}: goes through the symlink ${JSON.stringify(path.slice(this.root.length + 1))} (a layer may not write through a symlink)`,
        );
      if (!st.isDirectory())
        throw new LayerError(
          `entry ${JSON.stringify(entry)}: ${JSON.stringify(path.slice(this.root.length + 1))} is not a directory`,
        );
    }
  }

  private async applyMetadata(header: TarHeader, path: string): Promise<void> {
    // A hard link shares its source's inode: its owner, mode and times are the source entry's.
    if (header.type === 'link') return;
    await lchown(path, header.uid ?? 0, header.gid ?? 0);
    // chown clears set-id bits, so the mode comes after it; a symlink has no mode of its own.
    if (header.type !== 'symlink') await chmod(path, (header.mode ?? 0o644) & 0o7777);
    const pax = (header.pax ?? {}) as Record<string, string>;
    for (const [key, value] of Object.entries(pax)) {
      if (!key.startsWith(PAX_XATTR_PREFIX) || typeof value !== 'string') continue;
      const name = key.slice(PAX_XATTR_PREFIX.length);
      if (value.includes('\uFFFD')) {
        // tar-stream decodes PAX records as UTF-8: a binary value (security.capability) arrives mangled, and a
        // mangled capability is worse than none.
        this.result.warnings.push(`${header.name}: xattr ${name} has a binary value and was not applied`);
        continue;
      }
      lsetxattr(path, name, Buffer.from(value, 'utf8'));
    }
    const mtime = header.mtime ?? new Date(0);
    if (header.type === 'directory') this.dirTimes.push({ path, mtime });
    else await lutimes(path, mtime, mtime);
  }

  async finish(): Promise<void> {
    for (const { path, mtime } of this.dirTimes.reverse()) await lutimes(path, mtime, mtime);
  }
}
