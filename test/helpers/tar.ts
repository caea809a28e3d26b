// Tars for tests: written entry by entry with tar-stream, and read back into name → header and content.
import type { Readable } from 'node:stream';
import tar from 'tar-stream';

export type TarEntry = Parameters<tar.Pack['entry']>[0] & { content?: string };

export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry(header, content ?? '', (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export interface ReadEntry {
  header: tar.Header;
  content: string;
}

export async function readTar(stream: Readable): Promise<Map<string, ReadEntry>> {
  const out = new Map<string, ReadEntry>();
  const extract = tar.extract();
  stream.pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(Buffer.from(chunk as Uint8Array));
    out.set(entry.header.name, { header: entry.header, content: Buffer.concat(chunks).toString() });
  }
  return out;
}
