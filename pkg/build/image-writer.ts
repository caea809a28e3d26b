// What a build step or a commit made, into the content store: an overlay upper dir as a layer blob, and an
// image (config, then manifest, then its names, in that order, so a failure names nothing). Shared by the
// builder and `commit`.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type DiffOptions, writeLayer } from '../archive/diff.ts';
import { type Digest, digestOf } from '../content/digest.ts';
import { type ContentStore, writeBlob } from '../content/store.ts';
import { type ImageCatalog, UNTAGGED_REPOSITORY } from '../image/catalog.ts';
import type { Descriptor } from '../image/manifest.ts';
import { hostPlatform } from '../image/platform.ts';
import { formatImageReference, parseImageReference } from '../image/reference.ts';
import { DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST } from '../registry/mediatypes.ts';
import type { HistoryEntry, ImageRuntimeConfig } from './config.ts';

/** A layer as an image lists it: the blob (compressed) and its diffID (uncompressed). */
export interface StoredLayer {
  mediaType: string;
  digest: string;
  diffId: string;
  size: number;
}

export interface StoreLayerOptions extends DiffOptions {
  /** Called with the layer once its digests are known, before its blob goes into the store (to lease it). */
  beforeStore?: (layer: StoredLayer) => void;
}

/** The changes in `upper` (whiteouts for deletions) as a gzip layer blob, staged in `scratchDir` meanwhile. */
export async function storeUpperDir(
  content: ContentStore,
  upper: string,
  scratchDir: string,
  options: StoreLayerOptions = {},
): Promise<StoredLayer> {
  await mkdir(scratchDir, { recursive: true, mode: 0o700 });
  const blobPath = join(scratchDir, `layer-${randomBytes(8).toString('hex')}.tar.gz`);
  const { beforeStore, ...diff } = options;
  try {
    const desc = await writeLayer(upper, createWriteStream(blobPath), diff);
    const layer = { mediaType: DOCKER_LAYER_GZIP, digest: desc.digest, diffId: desc.diffId, size: desc.size };
    beforeStore?.(layer);
    await writeBlob(
      content,
      { ref: `layer-${desc.digest}`, expected: desc.digest as Digest, size: desc.size },
      createReadStream(blobPath),
    );
    return layer;
  } finally {
    await rm(blobPath, { force: true });
  }
}

export interface ImageParts {
  config: ImageRuntimeConfig;
  layers: readonly StoredLayer[];
  history: readonly HistoryEntry[];
  author?: string;
  comment?: string;
  /** The image's creation time (RFC 3339); default now. */
  created?: string;
}

export interface StoredImage {
  /** The config's digest: the image ID. */
  id: Digest;
  /** The canonical names given (`docker.io/library/app:latest`). */
  names: string[];
}

/** Writes the image's config and manifest and names it under every tag (none: see UNTAGGED_REPOSITORY). */
export async function storeImage(
  catalog: ImageCatalog,
  parts: ImageParts,
  tags: readonly string[],
): Promise<StoredImage> {
  // A bad tag is refused before anything is written.
  const names = tags.map((tag) => formatImageReference(parseImageReference(tag)));
  const platform = hostPlatform();
  const { content } = catalog.stores;
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      created: parts.created ?? new Date().toISOString(),
      ...(parts.author && { author: parts.author }),
      ...(parts.comment && { comment: parts.comment }),
      config: parts.config,
      rootfs: { type: 'layers', diff_ids: parts.layers.map((l) => l.diffId) },
      history: parts.history,
    }),
  );
  const config: Descriptor = {
    mediaType: DOCKER_CONFIG,
    digest: digestOf(configBytes),
    size: configBytes.length,
  };
  await writeBlob(content, { ref: `image-${config.digest}`, expected: config.digest }, configBytes);
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config,
      layers: parts.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  const manifest: Descriptor = {
    mediaType: DOCKER_MANIFEST,
    digest: digestOf(manifestBytes),
    size: manifestBytes.length,
  };
  await writeBlob(content, { ref: `image-${manifest.digest}`, expected: manifest.digest }, manifestBytes);
  for (const name of names) {
    // a fully cached rebuild names the image it named before: nothing to write
    const current = await catalog.stores.images.get(name);
    if (current?.target.digest === manifest.digest && current.manifest.digest === manifest.digest) continue;
    await catalog.name({ name, target: manifest, manifest, platform });
  }
  if (names.length === 0)
    await catalog.name({
      name: `${UNTAGGED_REPOSITORY}@${manifest.digest}`,
      target: manifest,
      manifest,
      platform,
    });
  return { id: config.digest, names };
}
