// The embedded store's files on disk: framing of journal records, and replacing a file durably.
//
// A journal is a sequence of frames: a 4-byte big-endian payload length, the payload's CRC-32, then the payload
// (UTF-8 JSON). The first frame names the snapshot the journal continues; each further frame is one committed
// transaction. A writer killed mid-append leaves a frame that is short or fails its checksum: everything from
// there on is ignored when read, and cut off by the next writer before it appends.

import { randomBytes } from 'node:crypto';
import { type FileHandle, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';

const FRAME_HEADER = 8;
/** A length above this is damage, not a record: one transaction is a handful of keys. */
const MAX_FRAME = 256 * 1024 * 1024;

/** The first frame of a journal: which snapshot (identity and generation) its records continue. */
export interface JournalHeader {
  store: string;
  generation: number;
}

export function encodeFrame(payload: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  const frame = Buffer.allocUnsafe(FRAME_HEADER + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.writeUInt32BE(crc32(body), 4);
  body.copy(frame, FRAME_HEADER);
  return frame;
}

/**
 * The whole frames in `buf`, in order, and where the last one ends: a torn or damaged frame ends the list.
 * `end` is relative to `buf`.
 */
export function decodeFrames(buf: Buffer): { payloads: unknown[]; end: number } {
  const payloads: unknown[] = [];
  let at = 0;
  while (buf.length - at >= FRAME_HEADER) {
    const length = buf.readUInt32BE(at);
    if (length > MAX_FRAME || buf.length - at - FRAME_HEADER < length) break;
    const body = buf.subarray(at + FRAME_HEADER, at + FRAME_HEADER + length);
    if (crc32(body) !== buf.readUInt32BE(at + 4)) break;
    try {
      payloads.push(JSON.parse(body.toString('utf8')));
    } catch {
      break;
    }
    at += FRAME_HEADER + length;
  }
  return { payloads, end: at };
}

export function isJournalHeader(v: unknown): v is JournalHeader {
  const h = v as Partial<JournalHeader> | null;
  return (
    typeof h === 'object' && h !== null && typeof h.store === 'string' && typeof h.generation === 'number'
  );
}

/** Reads `length` bytes at `position` (fewer when the file is shorter). */
export async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await file.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

export async function writeAt(file: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await file.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/** Temporary files are `<target>.<pid>.<random>.tmp` beside the target (the pre-journal store used `<pid>.tmp`). */
function tempPathFor(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * Replaces `path` with `data`: temp file, fsync, rename, fsync of the directory. Returns the new file, open for
 * reading and writing (the caller keeps appending to a journal through it).
 */
export async function replaceFileDurably(
  path: string,
  data: Buffer | string,
  faultBeforeRename?: string,
): Promise<FileHandle> {
  const tmp = tempPathFor(path);
  let file: FileHandle | undefined;
  try {
    file = await open(tmp, 'w+', 0o600);
    await file.writeFile(data);
    await file.sync();
    if (faultBeforeRename !== undefined) faultPoint(faultBeforeRename);
    await rename(tmp, path);
  } catch (err) {
    await file?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  try {
    await syncDir(dirname(path));
  } catch (err) {
    await file.close().catch(() => undefined);
    throw err;
  }
  return file;
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/**
 * Removes temporary files a killed writer left beside `path` (its own and its journal's, named as tempPathFor
 * names them). Only call it under the store's lock: writers create them only while holding it, so any that
 * exist then are orphans.
 */
export async function removeOrphanedTemps(path: string): Promise<void> {
  const base = basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const orphan = new RegExp(`^${base}(\\.journal)?\\.\\d+(\\.[0-9a-f]{8})?\\.tmp$`);
  const dir = dirname(path);
  for (const name of await readdir(dir)) {
    if (orphan.test(name)) await unlink(join(dir, name)).catch(() => undefined);
  }
}

/**
 * Test-only fault injection: when TSNET_TEST_FAULT names this point, the process kills itself here with
 * SIGKILL, as a crash or an OOM kill would, so tests can check what a crash at exactly this point leaves.
 */
export function faultPoint(name: string): void {
  if (process.env.TSNET_TEST_FAULT === name) process.kill(process.pid, 'SIGKILL');
}
