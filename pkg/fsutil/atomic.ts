// State files that are either the old content or the new, never half of one, after a crash at any point:
// write a temporary file beside the target, fsync it, rename (or link) it into place, fsync the directory.
// Temporary files are named `.<name>.tmp-<pid>-<random>` so an orphan (its writer was killed) is recognisable
// and removeOrphanedTemps can clear it at the next start.
import {
  closeSync,
  constants,
  close as fsClose,
  open as fsOpen,
  write as fsWrite,
  fsyncSync,
  linkSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { link, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomHex } from '../random/index.ts';
import { faultPoint } from '../testing/fault.ts';

export interface AtomicWriteOptions {
  /** Permissions of a newly written file (default 0o644). */
  readonly mode?: number;
  /**
   * fsync the directory after the rename or link (default true). False only when the caller's next step
   * syncs the same directory anyway (one fsync then makes both entries durable).
   */
  readonly syncDirectory?: boolean;
  /**
   * fsync the file's data before the rename or link (default true). False for a hint whose loss is
   * harmless, or when the caller syncs the file itself after the link and a crash before that may leave it
   * empty (never half-written: one small write): the old content, the new, or empty. (The IPAM round-robin
   * cursor, which host-local does not sync at all; an IPAM record, synced before its ADD answers.)
   */
  readonly syncData?: boolean;
}

const TEMP_NAME = /^\.(.+)\.tmp-(\d+)-[0-9a-f]{8}$/;

/** A fresh temporary name for `path`, in the same directory (rename and link do not cross filesystems). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomHex(4)}`);
}

/** Whether `name` (a bare file name) is a temporary file of this module, and for which target. */
export function parseTempName(name: string): { target: string; pid: number } | undefined {
  const m = TEMP_NAME.exec(name);
  return m ? { target: m[1] ?? '', pid: Number(m[2]) } : undefined;
}

/** fsync of a directory: makes a rename, link or unlink in it durable. */
export function fsyncDirectorySync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `data` to a new temporary file beside `path` and fsyncs it (unless `sync` is false); returns the temporary's path. */
function writeTempSync(path: string, data: string | Uint8Array, mode: number, sync = true): string {
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'wx', mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    if (sync) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  return tmp;
}

/** Replaces `path` with `data` atomically and durably. */
export function writeFileAtomicSync(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): void {
  const tmp = writeTempSync(path, data, options.mode ?? 0o644, options.syncData !== false);
  try {
    faultPoint('atomic-write-before-rename');
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  if (options.syncDirectory !== false) fsyncDirectorySync(dirname(path));
}

/**
 * Creates `path` holding `data` unless `path` exists (false then), never visible empty or half-written:
 * link(2) of a complete temporary file fails with EEXIST when the name is taken, as O_EXCL does.
 */
export function createFileExclusiveSync(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): boolean {
  const tmp = writeTempSync(path, data, options.mode ?? 0o644, options.syncData !== false);
  try {
    faultPoint('exclusive-create-before-link');
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
  if (options.syncDirectory !== false) fsyncDirectorySync(dirname(path));
  return true;
}

/** fsyncDirectorySync off the event loop: makes a rename, link or unlink in the directory survive a crash. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function callback<T>(run: (done: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value))));
}

function closeFd(fd: number): Promise<void> {
  return callback<void>((done) => fsClose(fd, (e) => done(e, undefined)));
}

/**
 * writeTempSync off the event loop in as few trips to libuv's workers as it takes, the temporary left open:
 * with `sync` the file is opened O_DSYNC, so the write returns once the data and the size needed to read it
 * back are on disk (what fdatasync after it would do, one trip fewer).
 */
async function writeTempOpen(
  path: string,
  data: string | Uint8Array,
  mode: number,
  sync: boolean,
): Promise<{ tmp: string; fd: number }> {
  const tmp = tempPathFor(path);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (sync ? constants.O_DSYNC : 0);
  const fd = await callback<number>((done) => fsOpen(tmp, flags, mode, done));
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < bytes.length; )
      off += await callback<number>((done) => fsWrite(fd, bytes, off, bytes.length - off, null, done));
  } catch (err) {
    await closeFd(fd).catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined); // the write's error is the one to report
    throw err;
  }
  return { tmp, fd };
}

/** writeTempOpen, closed: the temporary's path. */
async function writeTemp(
  path: string,
  data: string | Uint8Array,
  mode: number,
  sync = true,
): Promise<string> {
  const { tmp, fd } = await writeTempOpen(path, data, mode, sync);
  try {
    await closeFd(fd);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  return tmp;
}

/** A complete temporary file waiting to replace its target (stageFileAtomic). */
export interface StagedFile {
  /** Renames it over the target (and fsyncs the directory unless the options said not to). */
  commit(): Promise<void>;
  /** Removes it: the target stays as it was. */
  discard(): Promise<void>;
}

/**
 * The first half of writeFileAtomic: the temporary, complete (and synced unless `syncData` is false), so a
 * caller can write it while it does something else and put it in place once that has succeeded.
 */
export async function stageFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<StagedFile> {
  const tmp = await writeTemp(path, data, options.mode ?? 0o644, options.syncData !== false);
  return {
    async commit() {
      try {
        faultPoint('atomic-write-before-rename');
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      if (options.syncDirectory !== false) await fsyncDirectory(dirname(path));
    },
    discard: () => rm(tmp, { force: true }),
  };
}

/** writeFileAtomicSync off the event loop (large files, or a server that must not stall on fsync). */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await (await stageFileAtomic(path, data, options)).commit();
}

/**
 * createFileExclusiveSync off the event loop. The temporary's descriptor stays open across the link, so
 * closing it and removing the temporary's name take one trip together.
 */
export async function createFileExclusive(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<boolean> {
  const { tmp, fd } = await writeTempOpen(path, data, options.mode ?? 0o644, options.syncData !== false);
  let linked: boolean;
  try {
    faultPoint('exclusive-create-before-link');
    await link(tmp, path);
    linked = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      await Promise.allSettled([closeFd(fd), unlink(tmp)]);
      throw err;
    }
    linked = false;
  }
  const [closed, removed] = await Promise.allSettled([closeFd(fd), unlink(tmp)]);
  // Once linked, the file is made whatever befalls the temporary: a name left behind is an orphan the next
  // sweep removes, and a failure here would report as not made a file that is there.
  if (!linked && removed.status === 'rejected') throw removed.reason;
  if (!linked && closed.status === 'rejected') throw closed.reason;
  if (linked && options.syncDirectory !== false) await fsyncDirectory(dirname(path));
  return linked;
}

/** fsync of a file by name, off the event loop; a file gone meanwhile has nothing left to make durable. */
export async function fsyncFileIfExists(path: string): Promise<void> {
  try {
    await fsyncDirectory(path); // open, fsync, close: the same for a file
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export interface OrphanSweepOptions {
  /** Only temporaries of these target names (default: any). */
  readonly targets?: readonly string[];
  /**
   * The caller holds a lock that every writer in `dir` takes, so every temporary is an orphan. Without it,
   * only temporaries whose writer process is gone are removed (a live writer may be about to rename its own).
   */
  readonly underLock?: boolean;
}

function processIsGone(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Removes temporaries that writers killed mid-write left in `dir`; returns the names removed. */
export function removeOrphanedTemps(dir: string, options: OrphanSweepOptions = {}): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed = orphanedTempsAmong(names, options);
  for (const name of removed) rmSync(join(dir, name), { recursive: true, force: true }); // may be a directory
  return removed;
}

/** removeOrphanedTemps off the event loop, for the agent's serving paths. */
export async function removeOrphanedTempsAsync(
  dir: string,
  options: OrphanSweepOptions = {},
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed = orphanedTempsAmong(names, options);
  for (const name of removed) await rm(join(dir, name), { recursive: true, force: true });
  return removed;
}

/** The temporaries among a directory's `names` that killed writers left (see OrphanSweepOptions). */
export function orphanedTempsAmong(names: readonly string[], options: OrphanSweepOptions): string[] {
  return names.filter((name) => {
    const temp = parseTempName(name);
    if (!temp) return false;
    if (options.targets && !options.targets.includes(temp.target)) return false;
    return options.underLock === true || processIsGone(temp.pid);
  });
}
