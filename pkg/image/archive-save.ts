// `save`: images from the stores into a tar stream, in one of two formats:
//   - docker-archive (what `docker load`, `podman load` and skopeo's docker-archive: read): `<diffID>/layer.tar`
//     per layer, uncompressed (gzip layers are decompressed while written, and checked against the config's
//     diffIDs), `<config hex>.json`, manifest.json with Config/RepoTags/Layers, and the legacy `repositories`.
//   - oci-archive: an OCI image layout of the stored blobs, unchanged, with index.json naming each image.
// The caller resolves what the user named (the image catalog); manifests and configs are read before the first
// byte is produced, so a missing one fails the call, not the stream.

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { detectCompression } from '../archive/compression.ts';
import { type Digest, digestHex } from '../content/digest.ts';
import type { ContentStore } from '../content/store.ts';
import { OCI_INDEX } from '../registry/mediatypes.ts';
import { parseConfig } from './archive-load.ts';
import { ArchiveError } from './archive-stage.ts';
import { type Descriptor, parseManifest } from './manifest.ts';
import { parseImageReference, repositoryName } from './reference.ts';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

/** One image to write: its canonical names (what the request named) and its content. */
interface SavedImage {
  readonly names: string[];
  readonly manifest: Descriptor;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly diffIds: readonly Digest[];
}

const MTIME = new Date(0);

/** The tar being written, and a promise that rejects once its reader has gone away. */
interface Output {
  readonly pack: tar.Pack;
  readonly closed: Promise<never>;
}

/** One image to save: its manifest, and the names to write for it (Docker writes none for an image asked by ID). */
export interface SaveRequest {
  readonly manifest: Descriptor;
  readonly names: readonly string[];
}

/** Returns the archive of `requests` as a stream of tar bytes; manifests and configs are read before it starts. */
export async function saveArchive(
  requests: readonly SaveRequest[],
  content: ContentStore,
  format: ArchiveFormat = 'docker-archive',
): Promise<Readable> {
  if (requests.length === 0) throw new ArchiveError('save needs at least one image');
  const images = await collectImages(requests, content);
  const pack = tar.pack();
  // A reader that goes away closes the pack: the writer must stop then, not wait for a drain that never comes.
  const closed = new Promise<never>((_, reject) =>
    pack.once('close', () => reject(new ArchiveError('the archive stream was closed'))),
  );
  closed.catch(() => undefined);
  const out: Output = { pack, closed };
  const write = format === 'oci-archive' ? writeOciArchive : writeDockerArchive;
  write(out, images, content).then(
    () => pack.finalize(),
    (err: unknown) => pack.destroy(err as Error),
  );
  return Readable.from(pack as AsyncIterable<Buffer>);
}

/** One entry per manifest, with the tags of every request for it. */
async function collectImages(requests: readonly SaveRequest[], content: ContentStore): Promise<SavedImage[]> {
  const byManifest = new Map<string, SavedImage>();
  for (const request of requests) {
    let image = byManifest.get(request.manifest.digest);
    if (!image) {
      image = await describeImage(request.manifest, content);
      byManifest.set(request.manifest.digest, image);
    }
    for (const name of request.names) {
      // Only tags go into RepoTags, not digest names.
      if (parseImageReference(name).tag !== undefined && !image.names.includes(name)) image.names.push(name);
    }
  }
  return [...byManifest.values()];
}

async function describeImage(descriptor: Descriptor, content: ContentStore): Promise<SavedImage> {
  const what = `image manifest ${descriptor.digest}`;
  const manifest = parseManifest(await content.readBytes(descriptor.digest), descriptor.mediaType, what);
  if (manifest.kind !== 'manifest') throw new ArchiveError(`${what} is an index`);
  const { diffIds } = parseConfig(await content.readBytes(manifest.config.digest), `config of ${what}`);
  if (diffIds.length !== manifest.layers.length)
    throw new ArchiveError(`${what}: config and manifest disagree on the number of layers`);
  return {
    names: [],
    manifest: descriptor,
    config: manifest.config,
    layers: manifest.layers,
    diffIds,
  };
}

// --- docker-archive ----------------------------------------------------------------------------------------

async function writeDockerArchive(
  out: Output,
  images: readonly SavedImage[],
  content: ContentStore,
): Promise<void> {
  const written = new Set<string>();
  const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const image of images) {
    const layerNames: string[] = [];
    for (const [i, layer] of image.layers.entries()) {
      const diffId = image.diffIds[i]!;
      const dir = digestHex(diffId);
      const name = `${dir}/layer.tar`;
      layerNames.push(name);
      if (written.has(name)) continue;
      written.add(name);
      await addDirectory(out, dir);
      await addUncompressedLayer(out, name, layer, diffId, content);
    }
    const configName = `${digestHex(image.config.digest)}.json`;
    if (!written.has(configName)) {
      written.add(configName);
      await addBytes(out, configName, await content.readBytes(image.config.digest));
    }
    // Full names, not Docker's short ones: podman reads a short `busybox:v1` as localhost/busybox:v1.
    const repoTags = [...image.names];
    manifest.push({
      Config: configName,
      RepoTags: repoTags.length > 0 ? repoTags : null,
      Layers: layerNames,
    });
    const top = layerNames.at(-1)?.split('/')[0];
    for (const name of image.names) {
      const ref = parseImageReference(name);
      if (top === undefined || ref.tag === undefined) continue;
      const repo = repositoryName(ref);
      repositories[repo] = { ...repositories[repo], [ref.tag]: top };
    }
  }
  await addBytes(out, 'manifest.json', Buffer.from(JSON.stringify(manifest)));
  if (Object.keys(repositories).length > 0)
    await addBytes(out, 'repositories', Buffer.from(JSON.stringify(repositories)));
}

/**
 * Writes a layer as an uncompressed tar entry. A tar header needs the size first: an uncompressed blob has it;
 * a gzip blob is decompressed once to count (and check the diffID) and once to write.
 */
async function addUncompressedLayer(
  out: Output,
  name: string,
  layer: Descriptor,
  diffId: Digest,
  content: ContentStore,
): Promise<void> {
  const open = async () => {
    const { compression, stream } = await detectCompression(await content.reader(layer.digest));
    if (compression === 'zstd') {
      stream.destroy();
      throw new ArchiveError(`layer ${layer.digest} is zstd-compressed: this Node cannot decode it`);
    }
    return {
      compressed: compression === 'gzip',
      stream: compression === 'gzip' ? gunzipped(stream) : stream,
    };
  };
  const first = await open();
  let size = layer.size;
  if (first.compressed) {
    const hash = createHash('sha256');
    size = 0;
    for await (const chunk of first.stream) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    checkDiffId(`sha256:${hash.digest('hex')}`, diffId, layer);
  }
  const source = first.compressed ? (await open()).stream : first.stream;
  const hash = createHash('sha256');
  await addStream(out, name, size, source, (chunk) => hash.update(chunk));
  checkDiffId(`sha256:${hash.digest('hex')}`, diffId, layer);
}

function gunzipped(stream: Readable): Readable {
  const gunzip = createGunzip();
  stream.on('error', (err) => gunzip.destroy(err));
  return stream.pipe(gunzip);
}

function checkDiffId(actual: string, diffId: Digest, layer: Descriptor): void {
  if (actual !== diffId)
    throw new ArchiveError(`layer ${layer.digest} uncompresses to ${actual}, but its config lists ${diffId}`);
}

// --- oci-archive -------------------------------------------------------------------------------------------

async function writeOciArchive(
  out: Output,
  images: readonly SavedImage[],
  content: ContentStore,
): Promise<void> {
  await addBytes(out, 'oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  await addDirectory(out, 'blobs');
  await addDirectory(out, 'blobs/sha256');
  const written = new Set<string>();
  const entries: unknown[] = [];
  for (const image of images) {
    for (const blob of [...image.layers, image.config, image.manifest]) {
      if (written.has(blob.digest)) continue;
      written.add(blob.digest);
      await addStream(
        out,
        `blobs/sha256/${digestHex(blob.digest)}`,
        blob.size,
        await content.reader(blob.digest),
      );
    }
    const descriptor = {
      mediaType: image.manifest.mediaType,
      digest: image.manifest.digest,
      size: image.manifest.size,
    };
    if (image.names.length === 0) entries.push(descriptor);
    for (const name of image.names) {
      const annotations = {
        'io.containerd.image.name': name,
        'org.opencontainers.image.ref.name': parseImageReference(name).tag ?? '',
      };
      entries.push({ ...descriptor, annotations });
    }
  }
  await addBytes(
    out,
    'index.json',
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries })),
  );
}

// --- tar entries -------------------------------------------------------------------------------------------

function addDirectory({ pack, closed }: Output, name: string): Promise<void> {
  return racing(closed, (resolve, reject) => {
    pack.entry({ name: `${name}/`, type: 'directory', mode: 0o755, mtime: MTIME }, (err) =>
      err ? reject(err) : resolve(),
    );
  });
}

function addBytes({ pack, closed }: Output, name: string, data: Buffer): Promise<void> {
  return racing(closed, (resolve, reject) => {
    pack.entry({ name, size: data.length, mode: 0o644, mtime: MTIME }, data, (err) =>
      err ? reject(err) : resolve(),
    );
  });
}

/** Streams `size` bytes from `source` into one entry, with backpressure; fails if the source has another size. */
async function addStream(
  { pack, closed }: Output,
  name: string,
  size: number,
  source: AsyncIterable<unknown> & { destroy?: (err?: Error) => void },
  onChunk?: (chunk: Buffer) => void,
): Promise<void> {
  let settle!: { resolve: () => void; reject: (err: Error) => void };
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const entry = pack.entry({ name, size, mode: 0o644, mtime: MTIME }, (err) =>
    err ? settle.reject(err) : settle.resolve(),
  );
  let written = 0;
  try {
    for await (const raw of source) {
      const chunk = raw as Buffer;
      written += chunk.length;
      if (written > size) throw new ArchiveError(`${name}: more than the expected ${size} bytes`);
      onChunk?.(chunk);
      if (!entry.write(chunk)) await racing(closed, (resolve) => entry.once('drain', () => resolve()));
    }
    if (written !== size) throw new ArchiveError(`${name}: ${written} bytes, expected ${size}`);
  } catch (err) {
    source.destroy?.();
    entry.destroy(err as Error);
    await done.catch(() => undefined);
    throw err;
  }
  entry.end(null);
  await Promise.race([done, closed]);
}

/** A promise for `executor` that also rejects when `closed` does. */
function racing(
  closed: Promise<never>,
  executor: (resolve: () => void, reject: (err: Error) => void) => void,
) {
  return Promise.race([new Promise<void>(executor), closed]);
}
