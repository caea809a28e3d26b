// What a long-running process (the agent) keeps of each IPAM directory between lock holds, so that an ADD
// does not read every record again: the directory's names, the texts of the records and cursors read or
// written, and its lock file, open. It is trusted only as far as the kernel vouches for it: the directory is
// watched (inotify) from before its first listing, and at the start of every hold, under the lock, where
// every other writer's change (host-local's, a plugin's run without the agent) has been queued by the kernel
// already, the names reported changed are read again. What the reports cannot account for (the queue
// overflowed, the directory or its lock file was replaced, a hold failed midway) drops the kept state and
// the next hold reads the directory afresh, as a short-lived plugin does every time.

import { type FileHandle, readdir, stat, statfs } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type WatchedDirectory, watchDirectory } from '../fsutil/dir-changes.ts';

/**
 * Filesystems whose every change, whoever makes it on this node, the kernel reports through inotify. Not
 * NFS, FUSE, 9p or overlayfs (a writer through another mount or layer is not seen): there every hold reads
 * the directory afresh. Magic numbers of statfs(2).
 */
const WATCHABLE_FILESYSTEMS = new Set([
  0xef53, // ext2/3/4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
]);

interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

async function identityAt(path: string): Promise<FileIdentity | undefined> {
  try {
    const { dev, ino } = await stat(path);
    return { dev, ino };
  } catch {
    return undefined;
  }
}

export class KeptDirectory {
  /** Every name in the directory (records, cursors, the lock, temporaries). */
  readonly names: Set<string>;
  /** The texts of files read or written, by name; a name not here is read from disk when asked. */
  readonly texts = new Map<string, string>();
  /**
   * A lock hold is using the state (it drops the state itself when it cannot trust it). A kept directory
   * is born inside the hold that first listed it.
   */
  holding = true;

  private constructor(
    readonly path: string,
    readonly lock: FileHandle,
    private readonly lockPath: string,
    private readonly watch: WatchedDirectory,
    private readonly lockIdentity: FileIdentity,
    names: readonly string[],
  ) {
    this.names = new Set(names);
    // A directory deleted or moved away is let go at once (its lock file closed), not at its next use.
    watch.onLost = () => {
      if (!this.holding) void forgetDirectory(this).catch(() => undefined);
    };
  }

  /**
   * Starts keeping `path`, whose lock file `lockName` is open as `lock` and locked: watched first, then
   * the lock checked to be the file at its path (not one replaced while the caller waited for it), then
   * the names listed. Undefined when the directory cannot be kept (a filesystem inotify does not
   * fully see, no inotify, out of watches, the lock replaced meanwhile): that hold reads afresh.
   */
  static async begin(path: string, lock: FileHandle, lockName: string): Promise<KeptDirectory | undefined> {
    if (!WATCHABLE_FILESYSTEMS.has((await statfs(path)).type)) return undefined;
    let watch: WatchedDirectory;
    try {
      // A directory removed shows first as its lock file gone: the directory itself goes only when the lock
      // file kept open here is closed. A lock file replaced would not exclude the new one's holders.
      watch = watchDirectory(path, [lockName]);
    } catch {
      return undefined;
    }
    try {
      const lockPath = join(path, lockName);
      const { dev, ino } = await lock.stat();
      const atPath = await identityAt(lockPath);
      if (atPath?.dev !== dev || atPath.ino !== ino) {
        watch.close();
        return undefined;
      }
      return new KeptDirectory(path, lock, lockPath, watch, { dev, ino }, await readdir(path));
    } catch (err) {
      watch.close();
      throw err;
    }
  }

  /**
   * Whether the lock held is still the lock file at the directory's path: the path still leads to this
   * directory (not one made again, moved in or mounted over, which inotify would not report here).
   */
  async lockIsStillAtItsPath(): Promise<boolean> {
    const atPath = await identityAt(this.lockPath);
    return atPath?.dev === this.lockIdentity.dev && atPath.ino === this.lockIdentity.ino;
  }

  /**
   * At a hold's start, the lock held: takes in what others changed since the last hold. False when the
   * state can no longer be trusted (drop it).
   */
  catchUp(): boolean {
    return this.apply(new Set());
  }

  /**
   * At a hold's end, the lock still held: what changed during the hold, beyond the names `own` it wrote or
   * removed itself (their state is already here), was someone else's. False when the state can no longer
   * be trusted.
   */
  settle(own: ReadonlySet<string>): boolean {
    return this.apply(own);
  }

  private apply(own: ReadonlySet<string>): boolean {
    const { lost, names } = this.watch.take();
    if (lost) return false;
    for (const [name, change] of names) {
      if (own.has(name)) continue;
      this.texts.delete(name);
      if (change === 'gone') this.names.delete(name);
      else this.names.add(name);
    }
    return true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watch.onLost = undefined;
    try {
      this.watch.close();
    } finally {
      await this.lock.close();
    }
  }

  private closed = false;
}

/** The directories kept, by absolute path; undefined while keeping is off (short-lived plugins). */
let kept: Map<string, KeptDirectory> | undefined;

/**
 * Keeps IPAM directories between lock holds from now on, for the life of the process: for the agent, which
 * serves every ADD and DEL of the node, not for a plugin process that serves one.
 */
export function keepIpamDirectories(): void {
  kept ??= new Map();
}

export function isKeepingIpamDirectories(): boolean {
  return kept !== undefined;
}

export function keptDirectory(path: string): KeptDirectory | undefined {
  return kept?.get(resolve(path));
}

export function rememberDirectory(dir: KeptDirectory): void {
  kept?.set(resolve(dir.path), dir);
}

/** Drops what is kept of `dir` (its lock must not be held: closing the file releases the lock). */
export async function forgetDirectory(dir: KeptDirectory): Promise<void> {
  if (kept?.get(resolve(dir.path)) === dir) kept.delete(resolve(dir.path));
  await dir.close();
}
