// Where allocations live. The allocator only sees the AllocationStore interface; DiskStore is host-local's
// on-disk layout, byte for byte, so tsnet-ipam and the reference host-local can share a data dir:
//   <dataDir>/<network>/<ip>                  "<containerID>\r\n<ifname>" (older host-local: "<containerID>")
//   <dataDir>/<network>/last_reserved_ip.<N>  the last address reserved in range set N (round-robin cursor)
//   <dataDir>/<network>/lock                  flock(LOCK_EX) held for the whole operation

import { accessSync, constants, existsSync } from 'node:fs';
import { type FileHandle, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { flock, flockExclusiveAsync, LOCK_EX, LOCK_NB, LOCK_UN } from '../../native/libc.ts';
import { CniError, ErrorCode } from '../cni/errors.ts';
import {
  createFileExclusive,
  fsyncDirectory,
  fsyncFileIfExists,
  orphanedTempsAmong,
  type StagedFile,
  stageFileAtomic,
} from '../fsutil/atomic.ts';
import { makeDirectory } from '../fsutil/mkdir.ts';
import { readSmallFile } from '../fsutil/read.ts';
import { formatIp, type IpAddress, parseIp } from '../ip/address.ts';
import { inTurn } from '../sync/turns.ts';
import { faultPoint } from '../testing/fault.ts';
import {
  forgetDirectory,
  isKeepingIpamDirectories,
  KeptDirectory,
  keptDirectory,
  rememberDirectory,
} from './kept-directories.ts';

/** The key of an allocation: one interface of one container. */
export interface Attachment {
  readonly containerID: string;
  readonly ifname: string;
}

export interface Allocation {
  readonly ip: IpAddress;
  /** Empty when the record names no owner (see `ownerless`). */
  readonly containerID: string;
  /** Undefined for files written by host-local before 0.7, which recorded the container ID only. */
  readonly ifname: string | undefined;
  /**
   * Set when the record names no owner: "empty" (a writer killed between creating and writing it: host-local
   * and tsnet before 0.2 did that; under the lock nobody can still be writing it) or "unreadable" (why).
   */
  readonly ownerless?: 'empty' | { readonly unreadable: string };
}

/**
 * Storage of allocations. Every method other than `exists`, `unwritableReason`, `withLock` and
 * `allocations` must run inside `withLock`.
 */
export interface AllocationStore {
  /** Whether the store holds any state yet (a DEL on a never-used network has nothing to do). */
  exists(): Promise<boolean>;
  /** Why the store could not record an allocation now, if it could not (for STATUS). */
  unwritableReason(): Promise<string | undefined>;
  /** Runs `fn` holding the store's exclusive lock, creating the store first if needed. */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Records `ip` for `owner`; false when the address is already taken. The record is complete and visible
   * at once; it is durable once `sync` has run.
   */
  reserve(ip: IpAddress, owner: Attachment, rangeSetIndex: number): Promise<boolean>;
  /**
   * Makes the reservations made through this store durable. Called after the lock is released: they are
   * visible (and so taken) for every later holder already, and the wait for the disk need not hold
   * everyone else's ADD back. An ADD answers only after it.
   */
  sync(): Promise<void>;
  /** The round-robin cursor of a range set, if recorded. */
  lastReserved(rangeSetIndex: number): Promise<IpAddress | undefined>;
  /**
   * Every record, those that name no owner included (marked `ownerless`: the caller decides their fate).
   * Outside `withLock` too (STATUS): a fresh read then, which a concurrent writer may change meanwhile.
   */
  allocations(): Promise<Allocation[]>;
  release(ip: IpAddress): Promise<void>;
}

/** Whether an allocation belongs to an attachment; an old ID-only record matches any ifname, as in host-local. */
export function ownedBy(allocation: Allocation, owner: Attachment): boolean {
  return (
    allocation.containerID === owner.containerID.trim() &&
    (allocation.ifname === undefined || allocation.ifname === owner.ifname)
  );
}

const LINE_BREAK = '\r\n';
const LAST_RESERVED_PREFIX = 'last_reserved_ip.';
const LOCK_FILE = 'lock';

function parseAllocationFile(ip: IpAddress, content: string): Allocation {
  // What a crash before the record's sync can leave: nothing, or (ext4 data=writeback) zeroes.
  if (/^[\s\0]*$/.test(content)) return { ip, containerID: '', ifname: undefined, ownerless: 'empty' };
  // host-local compares trimmed contents: "id\n" is an old ID-only record, not an empty ifname.
  const [containerID = '', ifname] = content.trim().split(/\r?\n/, 2);
  if (containerID.trim() === '') return { ip, containerID: '', ifname: undefined, ownerless: 'empty' };
  return { ip, containerID: containerID.trim(), ifname: ifname === undefined ? undefined : ifname.trim() };
}

function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

function ioError(what: string, err: unknown): CniError {
  const reason = err instanceof Error ? err.message : String(err);
  return new CniError(ErrorCode.IoFailure, `${what}: ${reason}`);
}

export class DiskStore implements AllocationStore {
  /** `<dataDir>/<network>`; the network name must already be validated as a file name. */
  readonly dir: string;
  /** What the current lock hold sees of the directory; undefined outside a hold. */
  private hold: Hold | undefined;
  /** Records reserved through this store and not durable yet, by path (see `sync`). */
  private readonly unsynced = new Set<string>();

  constructor(dataDir: string, network: string) {
    this.dir = join(dataDir, network);
  }

  async exists(): Promise<boolean> {
    try {
      return (await stat(this.dir)).isDirectory();
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw ioError(`cannot stat IPAM data dir ${this.dir}`, err);
    }
  }

  async unwritableReason(): Promise<string | undefined> {
    // The nearest existing directory at or above the store: where a missing one would be created.
    let dir = this.dir;
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    try {
      accessSync(dir, constants.W_OK);
      return undefined;
    } catch (err) {
      return `IPAM data dir ${dir} is not writable: ${(err as Error).message}`;
    }
  }

  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    // Callers in this process (the agent serves many ADDs at once) queue here, so at most one of libuv's few
    // worker threads waits for a contended flock; the others stay free for the holder's own I/O.
    return inTurn(resolve(this.dir, LOCK_FILE), () => this.underFileLock(fn));
  }

  private async underFileLock<T>(fn: () => Promise<T>): Promise<T> {
    const hold = await this.beginHold();
    this.hold = hold;
    let succeeded = false;
    try {
      // Every writer here holds this lock, so any temporary file now is a killed writer's orphan.
      for (const name of orphanedTempsAmong([...hold.names], { underLock: true })) {
        await rm(join(this.dir, name), { recursive: true, force: true });
        hold.removed(name);
      }
      const result = await fn();
      succeeded = true;
      return result;
    } finally {
      this.hold = undefined;
      await hold.end(succeeded);
    }
  }

  /**
   * Takes the lock and sees the directory: through what is kept of it (the agent) when that can still be
   * trusted, else listed afresh.
   */
  private async beginHold(): Promise<Hold> {
    const keeping = isKeepingIpamDirectories();
    const known = keeping ? keptDirectory(this.dir) : undefined;
    if (known) {
      if (await this.lockKept(known)) return Hold.kept(known);
      await forgetDirectory(known); // closing its lock file releases the lock: the directory is read afresh
    }
    const file = await this.openLockOrFail();
    try {
      await lockExclusive(file);
      const dir = keeping ? await KeptDirectory.begin(this.dir, file, LOCK_FILE) : undefined;
      if (!dir) return Hold.fresh(await readdir(this.dir), () => file.close());
      rememberDirectory(dir);
      return Hold.kept(dir);
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  /**
   * Locks a kept directory; true when its kept state is still to be trusted (the lock then held): the lock
   * file is still the one at the directory's path, and the kernel's reports account for every change.
   */
  private async lockKept(known: KeptDirectory): Promise<boolean> {
    known.holding = true; // a drain meanwhile must not close the lock file under this hold
    let trusted = false;
    try {
      await lockExclusive(known.lock);
      trusted = (await known.lockIsStillAtItsPath()) && known.catchUp();
    } catch {
      trusted = false;
    } finally {
      if (!trusted) {
        flock(known.lock.fd, LOCK_UN);
        known.holding = false;
      }
    }
    return trusted;
  }

  private async openLockOrFail(): Promise<FileHandle> {
    try {
      return await this.openLock();
    } catch (err) {
      throw ioError(`cannot open the IPAM lock in ${this.dir}`, err);
    }
  }

  /** The current hold (reserve and release run inside one). */
  private held(): Hold {
    if (!this.hold) throw new Error(`IPAM store ${this.dir} used outside its lock`);
    return this.hold;
  }

  /**
   * The text of `name` in the directory: as read under this hold's lock or known from before it, or read
   * now when no hold is on (a STATUS reads without the lock).
   */
  private async text(name: string): Promise<string> {
    const hold = this.hold;
    const known = hold?.texts.get(name);
    if (known !== undefined) return known;
    try {
      const text = (await readSmallFile(join(this.dir, name))).toString('utf8');
      hold?.texts.set(name, text);
      return text;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) hold?.names.delete(name);
      throw err;
    }
  }

  /** The directory's names: this hold's, or listed now when no hold is on (none when it does not exist). */
  private async names(): Promise<Iterable<string>> {
    if (this.hold) return [...this.hold.names];
    try {
      return await readdir(this.dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw ioError(`cannot list ${this.dir}`, err);
    }
  }

  /** The lock file, created with the store's directory on first use (a missing directory is the rare case). */
  private async openLock(): Promise<FileHandle> {
    const path = join(this.dir, LOCK_FILE);
    try {
      return await open(path, constants.O_RDWR | constants.O_CREAT, 0o750);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    await makeDirectory(this.dir, 0o755);
    return open(path, constants.O_RDWR | constants.O_CREAT, 0o750);
  }

  async reserve(ip: IpAddress, owner: Attachment, rangeSetIndex: number): Promise<boolean> {
    const hold = this.held();
    const name = formatIp(ip);
    const path = join(this.dir, name);
    const record = `${owner.containerID.trim()}${LINE_BREAK}${owner.ifname}`;
    const cursorName = `${LAST_RESERVED_PREFIX}${rangeSetIndex}`;
    // The cursor is a hint (an empty one after a crash restarts the round-robin at the range's start): its
    // data is not synced. It is written while the record is, and put in place once the record is there.
    const cursor = stageFileAtomic(join(this.dir, cursorName), name, {
      syncData: false,
      syncDirectory: false,
    });
    cursor.catch(() => undefined); // awaited below on every path
    let created: boolean;
    try {
      // Complete before it is visible: a plugin killed at any point leaves no empty allocation behind. It is
      // made durable after the lock (`sync`), before the ADD answers: only a crash of the node before that
      // (the ADD unanswered) can leave it empty, and an empty record is released by the next ADD, DEL or GC.
      created = await createFileExclusive(path, record, { syncData: false, syncDirectory: false });
    } catch (err) {
      await discardStaged(cursor);
      throw ioError(`cannot reserve ${name} in ${this.dir}`, err);
    }
    if (!created) {
      await discardStaged(cursor);
      hold.surprisedBy(name);
      return false;
    }
    hold.wrote(name, record);
    faultPoint('ipam-after-reserve');
    try {
      await (await cursor).commit();
    } catch (err) {
      await unlink(path);
      hold.removed(name);
      throw ioError(`cannot record the last reserved IP in ${this.dir}`, err);
    }
    hold.wrote(cursorName, name);
    this.unsynced.add(path);
    return true;
  }

  async sync(): Promise<void> {
    if (this.unsynced.size === 0) return;
    // taken first: a reservation made while the syncs run is left for the next sync
    const records = [...this.unsynced];
    this.unsynced.clear();
    try {
      // The records' data and their names together: the waits for the disk overlap (on ext4 one journal
      // commit serves them all). A record released meanwhile has nothing left to sync.
      await Promise.all([...records.map((path) => fsyncFileIfExists(path)), fsyncDirectory(this.dir)]);
    } catch (err) {
      // Not retried: after a failed fsync Linux may have dropped the dirty pages, and a second one would
      // report success for data that is not there. The caller gives the addresses back.
      throw ioError(`cannot make the reservation in ${this.dir} durable`, err);
    }
  }

  async lastReserved(rangeSetIndex: number): Promise<IpAddress | undefined> {
    try {
      return parseIp((await this.text(`${LAST_RESERVED_PREFIX}${rangeSetIndex}`)).trim());
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw ioError(`cannot read the last reserved IP in ${this.dir}`, err);
    }
  }

  async allocations(): Promise<Allocation[]> {
    const read = async (ip: IpAddress, name: string): Promise<Allocation | undefined> => {
      try {
        return parseAllocationFile(ip, await this.text(name));
      } catch (err) {
        if (isErrno(err, 'ENOENT') || isErrno(err, 'EISDIR')) return undefined; // gone, or not a record
        // The address stays taken (reserve fails on the name) until GC, which knows it belongs to no one.
        const unreadable = err instanceof Error ? err.message : String(err);
        return { ip, containerID: '', ifname: undefined, ownerless: { unreadable } };
      }
    };
    const records = await Promise.all(
      [...(await this.names())].map((name) => {
        const ip = parseIp(name);
        return ip ? read(ip, name) : undefined; // lock, last_reserved_ip.N, anything else
      }),
    );
    return records.filter((r): r is Allocation => r !== undefined);
  }

  async release(ip: IpAddress): Promise<void> {
    const hold = this.held();
    const name = formatIp(ip);
    try {
      await unlink(join(this.dir, name));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw ioError(`cannot release ${name} in ${this.dir}`, err);
    }
    hold.removed(name);
  }
}

/** flock(LOCK_EX) on the store's lock file: at once when free, else waiting on a worker thread. */
async function lockExclusive(file: FileHandle): Promise<void> {
  if (!flock(file.fd, LOCK_EX | LOCK_NB)) await flockExclusiveAsync(file.fd);
}

async function discardStaged(staged: Promise<StagedFile>): Promise<void> {
  await staged.then((file) => file.discard()).catch(() => undefined);
}

/**
 * One lock hold's view of the directory: its names and the texts read, either listed afresh for this hold
 * or the kept state of the directory, which the hold updates with what it writes and removes.
 */
class Hold {
  /** Names this hold wrote or removed: their state here is known without reading. */
  private readonly own = new Set<string>();
  /** The disk contradicted the view (a name taken that it did not list): not to be kept past this hold. */
  private contradicted = false;

  private constructor(
    readonly names: Set<string>,
    readonly texts: Map<string, string>,
    private readonly finish: (succeeded: boolean, own: ReadonlySet<string>) => Promise<void>,
  ) {}

  /** A hold over a fresh listing; `release` closes the lock file. */
  static fresh(names: readonly string[], release: () => Promise<void>): Hold {
    return new Hold(new Set(names), new Map(), () => release());
  }

  /**
   * A hold over the kept state. At its end, before the lock is released, the changes reported during the
   * hold that were not its own are taken in; a failed hold (its writes may be half done) drops the state.
   */
  static kept(dir: KeptDirectory): Hold {
    dir.holding = true;
    return new Hold(dir.names, dir.texts, async (trustworthy, own) => {
      let trusted = false;
      try {
        trusted = trustworthy && dir.settle(own);
      } finally {
        flock(dir.lock.fd, LOCK_UN);
        dir.holding = false;
      }
      // Dropping it only costs the next hold a fresh read: that must not fail this one.
      if (!trusted) await forgetDirectory(dir).catch(() => undefined);
    });
  }

  wrote(name: string, text: string): void {
    this.names.add(name);
    this.texts.set(name, text);
    this.own.add(name);
  }

  removed(name: string): void {
    this.names.delete(name);
    this.texts.delete(name);
    this.own.add(name);
  }

  /** The disk holds `name`, which this view did not list: it is read again, and the view is not kept. */
  surprisedBy(name: string): void {
    this.names.add(name);
    this.texts.delete(name);
    this.contradicted = true;
  }

  /**
   * Ends the hold, the lock still held until this returns. A hold that failed after writing may have left
   * its writes half done: its view is not kept then (one that wrote nothing left the directory as it was).
   */
  end(succeeded: boolean): Promise<void> {
    return this.finish(!this.contradicted && (succeeded || this.own.size === 0), this.own);
  }
}
