// A directory tree (or one file) as a tar stream, as `docker cp` and `docker export` write them: modes,
// owners, times, symlinks, hard links, devices and FIFOs kept; sockets skipped (tar has no type for them).
// The caller says which directories not to descend into (mount points that are not the tree's own).
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';

type EntryHeader = Partial<tar.Header> & Pick<tar.Header, 'name'>;

export interface PackTreeOptions {
  /**
   * Called for every directory below the top: false keeps the directory's own entry but not its content
   * (a mount point that belongs to someone else).
   */
  readonly descend?: (hostPath: string, st: Stats) => boolean;
  /**
   * Called for every entry below the top with its name in the tar: `skip` leaves it out (a directory with its
   * content), `content` leaves out a directory's own entry but not what is below it; default `keep`.
   */
  readonly select?: (name: string, st: Stats) => 'keep' | 'skip' | 'content';
}

/**
 * Tars `hostPath` under the name `name` ('' puts a directory's content at the top, as `.../.` asks for).
 * Files that change while they are read are cut or zero-padded to the size they had when listed: the tar
 * stays valid, the content is what a live filesystem gives.
 */
export function packTree(hostPath: string, name: string, options: PackTreeOptions = {}): Readable {
  const pack = tar.pack();
  const closed = new Promise<never>((_, reject) =>
    pack.once('close', () => reject(new Error('the archive stream was closed'))),
  );
  closed.catch(() => undefined);
  const writer = new TreeWriter(pack, closed, options);
  writer.add(hostPath, name, true).then(
    () => pack.finalize(),
    (err: unknown) => pack.destroy(err as Error),
  );
  return Readable.from(pack as AsyncIterable<Buffer>);
}

class TreeWriter {
  /** "dev:ino" of files with several links → the name written first */
  readonly #links = new Map<string, string>();

  constructor(
    private readonly pack: tar.Pack,
    private readonly closed: Promise<never>,
    private readonly options: PackTreeOptions,
  ) {}

  async add(hostPath: string, name: string, top: boolean): Promise<void> {
    // A live container's file can go between readdir and lstat: skipped, as Docker's tar skips it.
    const st = await lstat(hostPath).catch((err: NodeJS.ErrnoException) => {
      if (top || err.code !== 'ENOENT') throw err;
      return undefined;
    });
    if (st === undefined) return;
    const choice = top ? 'keep' : (this.options.select?.(name, st) ?? 'keep');
    if (choice === 'skip' || (choice === 'content' && !st.isDirectory())) return;
    const header: EntryHeader = {
      name,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: st.mtime,
    };
    if (st.isDirectory()) {
      if (name !== '' && choice === 'keep')
        await this.#entry({ ...header, name: `${name}/`, type: 'directory' });
      if (!top && this.options.descend && !this.options.descend(hostPath, st)) return;
      for (const child of (await readdir(hostPath)).sort()) {
        await this.add(join(hostPath, child), name === '' ? child : `${name}/${child}`, false);
      }
      return;
    }
    if (st.isSocket()) return;
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.#links.get(key);
      if (first !== undefined) return this.#entry({ ...header, type: 'link', linkname: first });
      this.#links.set(key, name);
    }
    if (st.isSymbolicLink()) {
      return this.#entry({ ...header, type: 'symlink', linkname: await readlink(hostPath) });
    }
    if (st.isFIFO()) return this.#entry({ ...header, type: 'fifo' });
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      return this.#entry({
        ...header,
        type: st.isCharacterDevice() ? 'character-device' : 'block-device',
        devmajor: deviceMajor(st.rdev),
        devminor: deviceMinor(st.rdev),
      });
    }
    await this.#file(hostPath, { ...header, type: 'file', size: st.size });
  }

  #entry(header: EntryHeader): Promise<void> {
    return Promise.race([
      this.closed,
      new Promise<void>((resolve, reject) => {
        this.pack.entry(header, (err) => (err ? reject(err) : resolve()));
      }),
    ]);
  }

  async #file(hostPath: string, header: EntryHeader & { size: number }): Promise<void> {
    let settle!: { resolve: () => void; reject: (err: Error) => void };
    const done = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const entry = this.pack.entry(header, (err) => (err ? settle.reject(err) : settle.resolve()));
    const write = async (chunk: Buffer) => {
      if (!entry.write(chunk)) {
        await Promise.race([this.closed, new Promise<void>((resolve) => entry.once('drain', resolve))]);
      }
    };
    let written = 0;
    if (header.size > 0) {
      const source = createReadStream(hostPath, { start: 0, end: header.size - 1 });
      try {
        for await (const chunk of source) {
          await write(chunk as Buffer);
          written += (chunk as Buffer).length;
        }
      } catch (err) {
        source.destroy();
        entry.destroy(err as Error);
        await done.catch(() => undefined);
        throw err;
      }
    }
    if (written < header.size) await write(Buffer.alloc(header.size - written));
    entry.end(null);
    await Promise.race([done, this.closed]);
  }
}

/** glibc's gnu_dev_major/minor over st_rdev. */
function deviceMajor(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}

function deviceMinor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
}
