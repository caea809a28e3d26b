// Reading files: many small ones off the event loop in as few trips to libuv's worker threads as possible,
// and a file that may not be there yet (an absent one is undefined, not an error).
// fs.promises.readFile costs five trips per file (open, fstat, read, read to see the end, close) and a
// FileHandle; a record of a few dozen bytes needs three (open, one read, close). The IPAM store reads one
// record per allocated address under its lock on every ADD and DEL, so the trips are most of its time.
import { close, open, read, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const CHUNK = 4096;

function openRead(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
}

function readInto(fd: number, buffer: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, offset, buffer.length - offset, null, (err, n) => (err ? reject(err) : resolve(n))),
  );
}

function closeFd(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()));
}

/**
 * The whole content of a small regular file. A read that does not fill the buffer is taken as the end (a
 * regular file on a local filesystem is read short only at its end); a larger file costs one more trip per
 * 4 KiB. Errors are fs's own (ENOENT, EISDIR…), for the caller to tell apart.
 */
export async function readSmallFile(path: string): Promise<Buffer> {
  const fd = await openRead(path);
  try {
    let buffer = Buffer.allocUnsafe(CHUNK);
    let length = 0;
    for (;;) {
      const n = await readInto(fd, buffer, length);
      length += n;
      if (length < buffer.length) return buffer.subarray(0, length);
      const grown = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(grown);
      buffer = grown;
    }
  } finally {
    await closeFd(fd);
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** A file's text, or undefined when it does not exist; any other failure is thrown as it is. */
export function readTextIfExistsSync(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** readTextIfExistsSync off the event loop. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
