// Where allocations live. The allocator only sees the AllocationStore interface; DiskStore is host-local's
// on-disk layout, byte for byte, so tsnet-ipam and the reference host-local can share a data dir:
//   <dataDir>/<network>/<ip>                  "<containerID>\r\n<ifname>" (older host-local: "<containerID>")
//   <dataDir>/<network>/last_reserved_ip.<N>  the last address reserved in range set N (round-robin cursor)
//   <dataDir>/<network>/lock                  flock(LOCK_EX) held for the whole operation

import { accessSync, constants, existsSync } from 'node:fs';
import { type FileHandle, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { flock, flockExclusiveAsync, LOCK_EX, LOCK_NB } from '../../native/libc.ts';
import { CniError, ErrorCode } from '../cni/errors.ts';
import {
  createFileExclusive,
  fsyncDirectory,
  orphanedTempsAmong,
  writeFileAtomic,
} from '../fsutil/atomic.ts';
import { makeDirectory } from '../fsutil/mkdir.ts';
import { readSmallFile } from '../fsutil/read.ts';
import { formatIp, type IpAddress, parseIp } from '../ip/address.ts';
import { inTurn } from '../sync/turns.ts';
import { faultPoint } from '../testing/fault.ts';

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

/** Storage of allocations. Every method other than `exists` and `withLock` must run inside `withLock`. */
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
  /** Every record, those that name no owner included (marked `ownerless`: the caller decides their fate). */
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
  /** The directory's names as listed when the current lock hold began; dropped by a reserve or release. */
  private listing: string[] | undefined;
  /** A reservation's directory entries are not durable yet (see `sync`). */
  private unsynced = false;

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
    let file: FileHandle;
    try {
      file = await this.openLock();
    } catch (err) {
      throw ioError(`cannot open the IPAM lock in ${this.dir}`, err);
    }
    try {
      // Uncontended is the common case: take the lock without a trip to a worker thread.
      if (!flock(file.fd, LOCK_EX | LOCK_NB)) await flockExclusiveAsync(file.fd);
      // One listing per hold: every writer here holds this lock, so any temporary file now is a killed
      // writer's orphan, and the names stay as listed until this hold reserves or releases one.
      this.listing = await readdir(this.dir);
      for (const name of orphanedTempsAmong(this.listing, { underLock: true }))
        await rm(join(this.dir, name), { recursive: true, force: true });
      return await fn();
    } finally {
      this.listing = undefined;
      await file.close(); // closing the last descriptor releases the flock
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
    const name = formatIp(ip);
    const path = join(this.dir, name);
    let created: boolean;
    try {
      // Complete before it is visible: a plugin killed at any point leaves no empty allocation behind. The
      // directory sync after the lock (`sync`) makes this entry durable.
      created = await createFileExclusive(path, `${owner.containerID.trim()}${LINE_BREAK}${owner.ifname}`, {
        syncDirectory: false,
      });
    } catch (err) {
      throw ioError(`cannot reserve ${name} in ${this.dir}`, err);
    }
    if (!created) return false;
    this.listing = undefined;
    faultPoint('ipam-after-reserve');
    try {
      // The cursor is a hint (an empty one after a crash restarts the round-robin at the range's start): its
      // data is not synced, and the directory sync (`sync`) of its rename makes the record's link durable too.
      await writeFileAtomic(join(this.dir, `${LAST_RESERVED_PREFIX}${rangeSetIndex}`), name, {
        syncData: false,
        syncDirectory: false,
      });
    } catch (err) {
      await unlink(path);
      throw ioError(`cannot record the last reserved IP in ${this.dir}`, err);
    }
    this.unsynced = true;
    return true;
  }

  async sync(): Promise<void> {
    if (!this.unsynced) return;
    // cleared first: a reservation made while the fsync runs sets it again, for the next sync
    this.unsynced = false;
    try {
      await fsyncDirectory(this.dir);
    } catch (err) {
      this.unsynced = true;
      throw ioError(`cannot make the reservation in ${this.dir} durable`, err);
    }
  }

  async lastReserved(rangeSetIndex: number): Promise<IpAddress | undefined> {
    try {
      const text = (await readSmallFile(join(this.dir, `${LAST_RESERVED_PREFIX}${rangeSetIndex}`))).toString(
        'utf8',
      );
      return parseIp(text.trim());
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw ioError(`cannot read the last reserved IP in ${this.dir}`, err);
    }
  }

  async allocations(): Promise<Allocation[]> {
    let names = this.listing;
    try {
      names ??= await readdir(this.dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw ioError(`cannot list ${this.dir}`, err);
    }
    const read = async (ip: IpAddress, name: string): Promise<Allocation | undefined> => {
      try {
        return parseAllocationFile(ip, (await readSmallFile(join(this.dir, name))).toString('utf8'));
      } catch (err) {
        if (isErrno(err, 'ENOENT') || isErrno(err, 'EISDIR')) return undefined; // gone, or not a record
        // The address stays taken (reserve fails on the name) until GC, which knows it belongs to no one.
        const unreadable = err instanceof Error ? err.message : String(err);
        return { ip, containerID: '', ifname: undefined, ownerless: { unreadable } };
      }
    };
    const records = await Promise.all(
      names.map((name) => {
        const ip = parseIp(name);
        return ip ? read(ip, name) : undefined; // lock, last_reserved_ip.N, anything else
      }),
    );
    return records.filter((r): r is Allocation => r !== undefined);
  }

  async release(ip: IpAddress): Promise<void> {
    this.listing = undefined;
    try {
      await unlink(join(this.dir, formatIp(ip)));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw ioError(`cannot release ${formatIp(ip)} in ${this.dir}`, err);
    }
  }
}
