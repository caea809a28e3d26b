// The file side of log reading: a container's log files as one time-ordered chain (ctr.log.N … ctr.log.1,
// ctr.log), and cursors that read their records forwards (to follow) and backwards (to tail), block by
// block. The file system is an interface so that tests can count the bytes a query reads.
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface LogFileStat {
  readonly size: number;
  readonly ino: number;
  readonly dev: number;
}

export interface LogFile {
  /** reads into buffer from position; 0 at the end of the file */
  read(buffer: Buffer, position: number): Promise<number>;
  stat(): Promise<LogFileStat>;
  close(): Promise<void>;
}

/** What reading logs needs of the file system; errors carry Node's `code` (ENOENT). */
export interface LogFileSystem {
  open(path: string): Promise<LogFile>;
  stat(path: string): Promise<LogFileStat>;
  readdir(dir: string): Promise<string[]>;
}

export const nodeLogFileSystem: LogFileSystem = {
  async open(path) {
    const handle = await open(path, 'r');
    return {
      read: async (buffer, position) =>
        (await handle.read({ buffer, offset: 0, length: buffer.length, position })).bytesRead,
      stat: async () => statOf(await handle.stat()),
      close: () => handle.close(),
    };
  },
  stat: async (path) => statOf(await stat(path)),
  readdir: (dir) => readdir(dir),
};

function statOf(st: { size: number; ino: number; dev: number }): LogFileStat {
  return { size: st.size, ino: st.ino, dev: st.dev };
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** One open file of the chain; the handle keeps it readable after it is renamed or dropped. */
export interface OpenLog {
  readonly file: LogFile;
  readonly ino: number;
  readonly dev: number;
}

export function sameFile(a: { ino: number; dev: number }, b: { ino: number; dev: number }): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}

/**
 * Opens every file of the chain, oldest first. Opened newest first (ctr.log, .1, .2 …): a rotation that
 * runs meanwhile only moves files towards higher numbers, still ahead of the walk, so none is missed; a file
 * seen twice (moved while walking) counts once, at its newest place.
 */
export async function openLogChain(fs: LogFileSystem, logPath: string): Promise<OpenLog[]> {
  let highest = 0;
  try {
    for (const name of await fs.readdir(dirname(logPath)))
      highest = Math.max(highest, rotatedIndexOf(logPath, name) ?? 0);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return [];
  }
  const newestFirst: OpenLog[] = [];
  // two more than listed: a rotation during the walk may push the oldest one or two places up
  for (let i = 0; i <= highest + 2; i++) {
    const file = await openIfExists(fs, i === 0 ? logPath : `${logPath}.${i}`);
    if (!file) continue;
    const st = await file.stat();
    if (newestFirst.some((known) => sameFile(known, st))) await file.close();
    else newestFirst.push({ file, ino: st.ino, dev: st.dev });
  }
  return newestFirst.reverse();
}

/** N when `name` is the log's rotated file `ctr.log.N`. */
export function rotatedIndexOf(logPath: string, name: string): number | undefined {
  const prefix = `${basename(logPath)}.`;
  const suffix = name.startsWith(prefix) ? name.slice(prefix.length) : '';
  return /^[1-9]\d{0,5}$/.test(suffix) ? Number(suffix) : undefined;
}

async function openIfExists(fs: LogFileSystem, path: string): Promise<LogFile | undefined> {
  try {
    return await fs.open(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

const BLOCK = 64 * 1024;
const NL = 0x0a;

/** A record (its newline cut off) and where it starts in its file. */
export interface RawRecord {
  readonly line: Buffer;
  readonly start: number;
}

/** Reads complete records forwards from a position, keeping an unfinished last one for the next call. */
export class ForwardCursor {
  private carry: Buffer = Buffer.alloc(0);

  constructor(
    readonly log: OpenLog,
    private position: number,
  ) {}

  /** The records from the position to the current end of the file. */
  async *records(): AsyncGenerator<RawRecord> {
    for (;;) {
      const block = Buffer.allocUnsafe(BLOCK);
      const n = await this.log.file.read(block, this.position);
      if (n === 0) return;
      const chunkStart = this.position - this.carry.length;
      this.position += n;
      const chunk = this.carry.length
        ? Buffer.concat([this.carry, block.subarray(0, n)])
        : block.subarray(0, n);
      let from = 0;
      for (let nl = chunk.indexOf(NL); nl >= 0; nl = chunk.indexOf(NL, from)) {
        yield { line: chunk.subarray(from, nl), start: chunkStart + from };
        from = nl + 1;
      }
      this.carry = chunk.subarray(from);
    }
  }

  /** The file is shorter than what was read of it: it was truncated (copytruncate) and refilled. */
  async wasTruncated(): Promise<boolean> {
    return (await this.log.file.stat()).size < this.position;
  }

  restartFromTop(): void {
    this.position = 0;
    this.carry = Buffer.alloc(0);
  }
}

/** Reads records backwards from `end`, which must be a record boundary (see lastRecordBoundary). */
export async function* recordsBackward(file: LogFile, end: number): AsyncGenerator<RawRecord> {
  let position = end;
  // bytes [position, position + pending.length) not yet yielded; they end with a record's newline
  let pending = Buffer.alloc(0);
  for (;;) {
    let recordEnd = pending.length;
    while (recordEnd > 0) {
      // the newline before this record's own one ends the record before it
      const nl = recordEnd >= 2 ? pending.lastIndexOf(NL, recordEnd - 2) : -1;
      if (nl < 0) break;
      yield { line: pending.subarray(nl + 1, recordEnd - 1), start: position + nl + 1 };
      recordEnd = nl + 1;
    }
    if (position === 0) {
      if (recordEnd > 0) yield { line: pending.subarray(0, recordEnd - 1), start: 0 };
      return;
    }
    const length = Math.min(BLOCK, position);
    const block = Buffer.allocUnsafe(length);
    await readFully(file, block, position - length);
    position -= length;
    pending = Buffer.concat([block, pending.subarray(0, recordEnd)]);
  }
}

/** The end of the last complete record at or before `size`: a record being written is left out. */
export async function lastRecordBoundary(file: LogFile, size: number): Promise<number> {
  let position = size;
  while (position > 0) {
    const length = Math.min(4096, position);
    const block = Buffer.allocUnsafe(length);
    const n = await readFully(file, block, position - length);
    const nl = block.subarray(0, n).lastIndexOf(NL);
    if (nl >= 0) return position - length + nl + 1;
    position -= length;
  }
  return 0;
}

/** The first record starting at or after `position` (a record boundary is found by the newline before it). */
export async function recordAtOrAfter(
  file: LogFile,
  position: number,
  end: number,
): Promise<(RawRecord & { next: number }) | undefined> {
  let start = position;
  if (position > 0) {
    const nl = await findNewline(file, position - 1, end);
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  if (start >= end) return undefined;
  const nl = await findNewline(file, start, end);
  if (nl < 0) return undefined;
  const line = Buffer.allocUnsafe(nl - start);
  await readFully(file, line, start);
  return { line, start, next: nl + 1 };
}

async function findNewline(file: LogFile, from: number, end: number): Promise<number> {
  for (let position = from; position < end; ) {
    const block = Buffer.allocUnsafe(Math.min(4096, end - position));
    const n = await file.read(block, position);
    if (n === 0) return -1;
    const nl = block.subarray(0, n).indexOf(NL);
    if (nl >= 0) return position + nl;
    position += n;
  }
  return -1;
}

async function readFully(file: LogFile, buffer: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < buffer.length) {
    const n = await file.read(buffer.subarray(got), position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
