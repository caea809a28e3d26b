// Which compression a layer stream uses, read from its first bytes (media types lie often enough: Docker's
// archives say nothing, and some registries label gzip layers as plain tar).
import type { Readable } from 'node:stream';

export type Compression = 'none' | 'gzip' | 'zstd';

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

function startsWith(head: Buffer, magic: number[]): boolean {
  return head.length >= magic.length && magic.every((b, i) => head[i] === b);
}

export function compressionOf(head: Buffer): Compression {
  if (startsWith(head, GZIP_MAGIC)) return 'gzip';
  if (startsWith(head, ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

/** Reads the first bytes of `input` and puts them back (Readable.unshift), so `input` still yields them. */
export function detectCompression(input: Readable): Promise<{ compression: Compression; stream: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = () => {
      input.off('readable', onReadable);
      input.off('end', finish);
      input.off('error', onError);
      const head = Buffer.concat(chunks);
      if (head.length > 0) input.unshift(head);
      resolve({ compression: compressionOf(head), stream: input });
    };
    const onError = (err: Error) => {
      input.off('readable', onReadable);
      input.off('end', finish);
      reject(err);
    };
    function onReadable() {
      for (let chunk = input.read(); chunk !== null; chunk = input.read()) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        chunks.push(buf);
        length += buf.length;
        if (length >= ZSTD_MAGIC.length) return finish();
      }
    }
    input.on('readable', onReadable);
    input.once('end', finish);
    input.once('error', onError);
  });
}
