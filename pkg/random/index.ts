// Random bytes from the kernel's pool (/dev/urandom), for names, MACs and temporary files: what
// crypto.randomBytes gives, without loading node:crypto, which is ~4 ms of a CNI plugin's start (its
// bindings and a dozen internal modules) when the plugin needs nothing else from it.
import { closeSync, openSync, readSync } from 'node:fs';

/** `size` random bytes (a short read of /dev/urandom is read again until the buffer is full). */
export function randomBytes(size: number): Buffer {
  const out = Buffer.alloc(size);
  const fd = openSync('/dev/urandom', 'r');
  try {
    for (let off = 0; off < size; ) {
      const n = readSync(fd, out, off, size - off, null);
      if (n === 0) throw new Error('/dev/urandom: unexpected end of file');
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** `size` random bytes as 2 * size lowercase hex digits. */
export function randomHex(size: number): string {
  return randomBytes(size).toString('hex');
}
