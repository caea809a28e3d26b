// `import`: a root filesystem tar (gzip-compressed or not) becomes a one-layer image. The tar streams once:
// its entries are checked as they pass (no absolute names, no `..`), its uncompressed bytes hashed for the
// diffID, and gzip-compressed into a scratch file that becomes the layer blob. Config, manifest and name follow,
// in that order, so a failed import names nothing.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { LayerError, layerPath } from '../archive/apply.ts';
import { detectCompression } from '../archive/compression.ts';
import { type Digest, digestOf } from '../content/digest.ts';
import { writeBlob } from '../content/store.ts';
import { tempPathFor } from '../fsutil/atomic.ts';
import { DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST } from '../registry/mediatypes.ts';
import { applyChanges, type ContainerConfig } from './archive-changes.ts';
import type { ArchiveDeps, StoreGuard } from './archive-load.ts';
import { ArchiveError, IMPORT_SCRATCH_NAME } from './archive-stage.ts';
import type { Descriptor } from './manifest.ts';
import { hostPlatform, type Platform } from './platform.ts';
import { formatImageReference, parseImageReference } from './reference.ts';

export interface ImportOptions {
  /** The name to give the image; none leaves it untagged (known by its ID). */
  readonly reference?: string;
  /** Dockerfile instructions (`CMD ["sh"]`, `ENV A=b`, ...) applied to the config. */
  readonly changes?: readonly string[];
  /** The history entry's comment (Docker's `import --message`). */
  readonly message?: string;
  /** Default: the node's. */
  readonly platform?: Platform;
  /** Runs the storing and naming (not the reading of the tar) under the caller's lock. */
  readonly whileStoring?: StoreGuard;
}

export interface ImportResult {
  /** The image ID: its config's digest. */
  readonly id: Digest;
  readonly name?: string;
  readonly manifest: Descriptor;
}

export async function importRootfs(
  input: Readable | AsyncIterable<Uint8Array>,
  deps: ArchiveDeps,
  options: ImportOptions = {},
): Promise<ImportResult> {
  // Everything the caller said is checked before the first byte is read.
  const name =
    options.reference !== undefined && options.reference !== ''
      ? formatImageReference(parseImageReference(options.reference))
      : undefined;
  const containerConfig = applyChanges(options.changes ?? []);
  const platform = options.platform ?? hostPlatform();

  const scratch = tempPathFor(join(deps.scratchDir, IMPORT_SCRATCH_NAME));
  try {
    const layer = await compressRootfs(input instanceof Readable ? input : Readable.from(input), scratch);
    const guard: StoreGuard = options.whileStoring ?? ((store) => store());
    return await guard(() =>
      storeImport(deps, { scratch, layer, containerConfig, platform, name, message: options.message }),
    );
  } finally {
    await rm(scratch, { force: true });
  }
}

interface ImportParts {
  readonly scratch: string;
  readonly layer: CompressedLayer;
  readonly containerConfig: ContainerConfig;
  readonly platform: Platform;
  readonly name: string | undefined;
  readonly message: string | undefined;
}

/** Stores the compressed layer, then the config and the manifest, then the name. */
async function storeImport(
  deps: ArchiveDeps,
  { scratch, layer, containerConfig, platform, name, message }: ImportParts,
): Promise<ImportResult> {
  await writeBlob(
    deps.content,
    { ref: `import-${layer.digest}`, expected: layer.digest, size: layer.size },
    createReadStream(scratch),
  );
  const created = new Date().toISOString();
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant !== undefined && { variant: platform.variant }),
      created,
      config: containerConfig,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, comment: message || 'Imported from -' }],
    }),
  );
  const config: Descriptor = {
    mediaType: DOCKER_CONFIG,
    digest: digestOf(configBytes),
    size: configBytes.length,
  };
  await writeBlob(deps.content, { ref: `import-${config.digest}`, expected: config.digest }, configBytes);
  const layerDescriptor: Descriptor = {
    mediaType: DOCKER_LAYER_GZIP,
    digest: layer.digest,
    size: layer.size,
  };
  const manifestBytes = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config, layers: [layerDescriptor] }),
  );
  const manifest: Descriptor = {
    mediaType: DOCKER_MANIFEST,
    digest: digestOf(manifestBytes),
    size: manifestBytes.length,
  };
  await writeBlob(
    deps.content,
    { ref: `import-${manifest.digest}`, expected: manifest.digest },
    manifestBytes,
  );
  if (name !== undefined) await deps.images.put({ name, target: manifest, manifest, platform });
  return { id: config.digest, ...(name !== undefined && { name }), manifest };
}

interface CompressedLayer {
  readonly diffId: Digest;
  readonly digest: Digest;
  readonly size: number;
}

/** Streams the rootfs tar into `path` gzip-compressed, checking its entries; returns its digests. */
async function compressRootfs(input: Readable, path: string): Promise<CompressedLayer> {
  const { compression, stream } = await detectCompression(input);
  if (compression === 'zstd')
    throw new ArchiveError('rootfs tar is zstd-compressed: this Node cannot decode it');
  const uncompressed = compression === 'gzip' ? stream.pipe(createGunzip()) : stream;
  if (uncompressed !== stream) stream.on('error', (err) => uncompressed.destroy(err));

  const diffHash = createHash('sha256');
  const blobHash = createHash('sha256');
  let size = 0;
  const extract = tar.extract();
  let entries = 0;
  const checked = (async () => {
    for await (const entry of extract) {
      entries++;
      try {
        layerPath(entry.header.name);
        if (entry.header.type === 'link') layerPath(entry.header.linkname ?? '');
      } finally {
        entry.resume();
      }
    }
  })();
  // The uncompressed bytes go both to the entry checker and to gzip.
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      diffHash.update(chunk);
      if (!extract.write(chunk)) extract.once('drain', () => callback(null, chunk));
      else callback(null, chunk);
    },
    flush(callback) {
      extract.end(null);
      callback();
    },
  });
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      blobHash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  // A refused entry stops the whole pipeline, not only the checker.
  checked.catch((err: unknown) => tee.destroy(err as Error));
  try {
    await Promise.all([pipeline(uncompressed, tee, createGzip(), counter, createWriteStream(path)), checked]);
  } catch (err) {
    extract.destroy();
    if (err instanceof LayerError) throw new ArchiveError(`rootfs tar ${err.message}`);
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`rootfs is not a valid tar stream: ${(err as Error).message}`);
  }
  if (entries === 0) throw new ArchiveError('rootfs tar is empty (no tar entries)');
  return {
    diffId: `sha256:${diffHash.digest('hex')}` as Digest,
    digest: `sha256:${blobHash.digest('hex')}` as Digest,
    size,
  };
}
