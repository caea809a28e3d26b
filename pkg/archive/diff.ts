// An overlayfs upper directory as an OCI layer: the inverse of apply.ts. A whiteout (character device 0:0)
// becomes `.wh.NAME`, an opaque directory (`trusted.overlay.opaque=y`) gets a `.wh..wh..opq` entry, other
// extended attributes travel as PAX `SCHILY.xattr.*` records (overlayfs' own `trusted.overlay.*` stay behind),
// and modes, owners, times, symlinks, devices, FIFOs and hard links are kept. Entries come in byte order of
// their names, so the same upper dir gives the same tar and the same DiffID.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { lgetxattr, llistxattr } from '../../native/libc.ts';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_WHITEOUT = '.wh..wh..opq';
const OVERLAY_XATTR_PREFIX = 'trusted.overlay.';
const PAX_XATTR_PREFIX = 'SCHILY.xattr.';

export const LAYER_MEDIA_TYPE_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

type EntryHeader = Partial<tar.Header> & Pick<tar.Header, 'name'>;

/** An upper dir that cannot be turned into a layer as it is. */
export class DiffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiffError';
  }
}

/**
 * overlayfs features whose upper dir does not hold the whole change: a renamed lower directory (redirect_dir)
 * or a metadata-only copy-up (metacopy) needs the lower layers to be read. Refused: mount without them.
 */
const INCOMPLETE_UPPER_XATTRS = ['trusted.overlay.redirect', 'trusted.overlay.metacopy'];

export interface LayerDescriptor {
  mediaType: typeof LAYER_MEDIA_TYPE_GZIP;
  /** sha256 of the gzip blob. */
  digest: string;
  /** Bytes of the gzip blob. */
  size: number;
  /** sha256 of the uncompressed tar (rootfs.diff_ids). */
  diffId: string;
  /** Bytes of the uncompressed tar (the history's layer size, as `docker history` shows). */
  uncompressedSize: number;
  /** Entries written, whiteouts included; 0 means the step changed nothing. */
  entries: number;
  /** What could not be carried exactly (a binary xattr value PAX cannot hold). */
  warnings: string[];
}

export interface DiffOptions {
  /**
   * Paths (relative, e.g. `etc/hosts`) left out when they are an empty file: mount points the runtime made
   * for its bind mounts, which are not the container's change (Docker keeps them in its init layer).
   */
  readonly mountPoints?: ReadonlySet<string>;
}

/** The uncompressed layer tar of `upper` as a stream. */
export function diffUpperDir(
  upper: string,
  warnings: string[] = [],
  counter = { entries: 0 },
  options: DiffOptions = {},
): Readable {
  const pack = tar.pack();
  const writer = new DiffWriter(upper, pack, warnings, counter, options.mountPoints ?? new Set());
  writer.walk('').then(
    () => pack.finalize(),
    (err: unknown) => pack.destroy(err as Error),
  );
  // Readable.from rather than pipe: tar-stream's streamx pack does not flow into a Node pipe reliably.
  return Readable.from(pack as AsyncIterable<Buffer>);
}

/**
 * Writes `upper`'s layer gzip-compressed to `sink` and returns its descriptor: DiffID over the tar, digest and
 * size over the blob.
 */
export async function writeLayer(
  upper: string,
  sink: Writable,
  options: DiffOptions = {},
): Promise<LayerDescriptor> {
  const warnings: string[] = [];
  const counter = { entries: 0 };
  const tarHash = createHash('sha256');
  const blobHash = createHash('sha256');
  let uncompressedSize = 0;
  let size = 0;
  await pipeline(
    diffUpperDir(upper, warnings, counter, options),
    counting(tarHash, (n) => {
      uncompressedSize += n;
    }),
    createGzip({ level: 6 }),
    counting(blobHash, (n) => {
      size += n;
    }),
    sink,
  );
  return {
    mediaType: LAYER_MEDIA_TYPE_GZIP,
    digest: `sha256:${blobHash.digest('hex')}`,
    size,
    diffId: `sha256:${tarHash.digest('hex')}`,
    uncompressedSize,
    entries: counter.entries,
    warnings,
  };
}

function counting(hash: Hash, count: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      count(chunk.length);
      callback(null, chunk);
    },
  });
}

class DiffWriter {
  /** "dev:ino" of files with several links → the name written first. */
  readonly #links = new Map<string, string>();

  constructor(
    private readonly root: string,
    private readonly pack: tar.Pack,
    private readonly warnings: string[],
    private readonly counter: { entries: number },
    private readonly mountPoints: ReadonlySet<string>,
  ) {}

  async walk(rel: string): Promise<void> {
    const names = (await readdir(rel === '' ? this.root : join(this.root, rel))).sort(byteOrder);
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const host = join(this.root, path);
      const st = await lstat(host);
      if (this.mountPoints.has(path) && st.isFile() && st.size === 0) continue;
      if (st.isCharacterDevice() && st.rdev === 0) {
        await this.#entry({
          ...this.#base(rel === '' ? WHITEOUT_PREFIX + name : `${rel}/${WHITEOUT_PREFIX}${name}`, st),
          type: 'file',
          size: 0,
          mode: 0,
        });
        continue;
      }
      if (st.isSocket()) continue; // tar has no socket type; a socket is meaningless in an image anyway
      for (const name of INCOMPLETE_UPPER_XATTRS)
        if (lgetxattr(host, name) !== undefined)
          throw new DiffError(
            `${path}: has ${name} (the overlay was mounted with redirect_dir or metacopy on; the upper dir alone is not the change)`,
          );
      const header: EntryHeader = { ...this.#base(path, st), ...this.#xattrs(host, path) };
      if (st.isDirectory()) {
        await this.#entry({ ...header, name: `${path}/`, type: 'directory' });
        if (lgetxattr(host, `${OVERLAY_XATTR_PREFIX}opaque`)?.toString() === 'y') {
          await this.#entry({
            ...this.#base(`${path}/${OPAQUE_WHITEOUT}`, st),
            type: 'file',
            size: 0,
            mode: 0,
          });
        }
        await this.walk(path);
        continue;
      }
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = this.#links.get(key);
        if (first !== undefined) {
          await this.#entry({ ...header, type: 'link', linkname: first });
          continue;
        }
        this.#links.set(key, path);
      }
      if (st.isSymbolicLink())
        await this.#entry({ ...header, type: 'symlink', linkname: await readlink(host) });
      else if (st.isFIFO()) await this.#entry({ ...header, type: 'fifo' });
      else if (st.isCharacterDevice() || st.isBlockDevice())
        await this.#entry({
          ...header,
          type: st.isCharacterDevice() ? 'character-device' : 'block-device',
          devmajor: deviceMajor(st.rdev),
          devminor: deviceMinor(st.rdev),
        });
      else await this.#file(host, { ...header, type: 'file', size: st.size });
    }
  }

  #base(name: string, st: Stats): EntryHeader {
    return { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
  }

  /** The path's xattrs as PAX records, overlayfs' bookkeeping left out. */
  #xattrs(host: string, path: string): { pax?: Record<string, string> } {
    const pax: Record<string, string> = {};
    for (const name of llistxattr(host).sort(byteOrder)) {
      if (name.startsWith(OVERLAY_XATTR_PREFIX)) continue;
      const value = lgetxattr(host, name);
      if (value === undefined) continue;
      const text = value.toString('utf8');
      // PAX records are UTF-8 text (tar-stream encodes them so): a binary value would arrive altered.
      if (!Buffer.from(text, 'utf8').equals(value)) {
        this.warnings.push(`${path}: xattr ${name} has a binary value and was left out of the layer`);
        continue;
      }
      pax[PAX_XATTR_PREFIX + name] = text;
    }
    return Object.keys(pax).length > 0 ? { pax } : {};
  }

  #entry(header: EntryHeader): Promise<void> {
    this.counter.entries++;
    return new Promise((resolve, reject) => {
      // An empty body always: a `file` header given only a callback would wait for a body (whiteouts are files).
      this.pack.entry(header, Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }

  async #file(host: string, header: EntryHeader & { size: number }): Promise<void> {
    this.counter.entries++;
    let settle!: { resolve: () => void; reject: (err: Error) => void };
    const done = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const entry = this.pack.entry(header, (err) => (err ? settle.reject(err) : settle.resolve()));
    let written = 0;
    if (header.size > 0) {
      for await (const chunk of createReadStream(host, { start: 0, end: header.size - 1 })) {
        written += (chunk as Buffer).length;
        if (!entry.write(chunk as Buffer)) await new Promise<void>((resolve) => entry.once('drain', resolve));
      }
    }
    // The upper dir of a finished step does not change under us: a short read is a real error.
    if (written !== header.size) {
      entry.destroy(new Error(`${host}: changed while it was read (${written} of ${header.size} bytes)`));
      await done;
      return;
    }
    entry.end(null);
    await done;
  }
}

/** Go's and the kernel's order for names: bytes, not locale. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** glibc's gnu_dev_major/minor over st_rdev. */
function deviceMajor(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}

function deviceMinor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
}
