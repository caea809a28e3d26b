// Small tar surgery for archive tests: read a whole (small) test archive's entries, and rewrite it without an
// entry, with an extra one, or with one entry's content replaced.
import { Readable } from 'node:stream';
import tar from 'tar-stream';

interface Entry {
  readonly header: tar.Header;
  readonly data: Buffer;
}

async function read(archive: Buffer): Promise<Entry[]> {
  const extract = tar.extract();
  const entries: Entry[] = [];
  Readable.from([archive]).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    entries.push({ header: entry.header, data: Buffer.concat(chunks) });
  }
  return entries;
}

async function write(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  const collected = (async () => {
    for await (const c of pack) out.push(c as Buffer);
  })();
  for (const { header, data } of entries) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ ...header, size: data.length }, data, (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await collected;
  return Buffer.concat(out);
}

export const tarBytes = {
  async entries(archive: Buffer): Promise<Map<string, Buffer>> {
    return new Map((await read(archive)).map((e) => [e.header.name, e.data]));
  },
  async without(archive: Buffer, name: string): Promise<Buffer> {
    return write((await read(archive)).filter((e) => e.header.name !== name));
  },
  async withExtra(archive: Buffer, name: string, data: Buffer): Promise<Buffer> {
    const entries = await read(archive);
    const header = { ...entries[0]!.header, name, type: 'file' as const, size: data.length };
    return write([{ header, data }, ...entries]);
  },
  async replaced(archive: Buffer, name: string, data: Buffer): Promise<Buffer> {
    return write((await read(archive)).map((e) => (e.header.name === name ? { header: e.header, data } : e)));
  },
};
