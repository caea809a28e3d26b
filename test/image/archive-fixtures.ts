// Shared parts of the archive tests: stores in a temp dir, what they hold, and small tar surgery (read a whole
// small test archive's entries, rewrite it without an entry, with an extra one, or with one entry replaced).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { LocalContentStore } from '../../pkg/content/local.ts';
import type { ArchiveDeps } from '../../pkg/image/archive-load.ts';
import { type Descriptor, type ImageManifest, parseManifest } from '../../pkg/image/manifest.ts';
import { LocalImageStore } from '../../pkg/image/store.ts';

/** A content store, an image store and a scratch dir under `dir` (content/, images/, scratch/). */
export function storesIn(dir: string): ArchiveDeps {
  mkdirSync(join(dir, 'scratch'), { recursive: true });
  return {
    content: new LocalContentStore(join(dir, 'content')),
    images: new LocalImageStore(join(dir, 'images')),
    scratchDir: join(dir, 'scratch'),
  };
}

/** A save request for the image stored under `name`, written with that name (or none: as saved by ID). */
export async function saveRequest(
  deps: ArchiveDeps,
  name: string,
  asNamed = true,
): Promise<{ manifest: Descriptor; names: string[] }> {
  const record = await deps.images.get(name);
  if (!record) throw new Error(`no image ${name} stored`);
  return { manifest: record.manifest, names: asNamed ? [record.name] : [] };
}

/** Every blob digest and every name the stores hold. */
export async function snapshot(deps: ArchiveDeps): Promise<{ blobs: string[]; names: string[] }> {
  return {
    blobs: (await deps.content.list()).map((b) => b.digest).sort(),
    names: (await deps.images.list()).map((r) => r.name),
  };
}

/** The image manifest stored under `name`, and its config. */
export async function storedImage(
  deps: ArchiveDeps,
  name: string,
): Promise<{ manifest: ImageManifest; config: { rootfs: { diff_ids: string[] } } }> {
  const record = await deps.images.get(name);
  if (!record) throw new Error(`no image ${name} stored`);
  const manifest = parseManifest(
    await deps.content.readBytes(record.manifest.digest),
    record.manifest.mediaType,
    name,
  );
  if (manifest.kind !== 'manifest') throw new Error(`${name}: an index was stored`);
  const config = JSON.parse((await deps.content.readBytes(manifest.config.digest)).toString()) as {
    rootfs: { diff_ids: string[] };
  };
  return { manifest, config };
}

export interface Entry {
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
  async rewritten(archive: Buffer, change: (entries: Entry[]) => Entry[]): Promise<Buffer> {
    return write(change(await read(archive)));
  },
  async replaced(archive: Buffer, name: string, data: Buffer): Promise<Buffer> {
    return write((await read(archive)).map((e) => (e.header.name === name ? { header: e.header, data } : e)));
  },
};
