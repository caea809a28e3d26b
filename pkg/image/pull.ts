// Pull: resolve the reference to a manifest (choosing this node's platform from an index), fetch the config and
// the layers in parallel into the content store with per-blob progress, and only then name the image. A pull
// that fails leaves no name; blobs already verified stay (a second pull reuses them), partial ones resume.

import type { ContentStore } from '../content/store.ts';
import { writeBlob } from '../content/store.ts';
import {
  type Descriptor,
  type ProgressListener,
  RegistryClient,
  type RegistryClientOptions,
} from '../registry/client.ts';
import { type ImageManifest, ManifestError, parseManifest } from './manifest.ts';
import { inParallel } from './parallel.ts';
import { hostPlatform, type Platform, selectPlatformManifest } from './platform.ts';
import { formatImageReference, type ImageReference } from './reference.ts';
import type { ImageRecord, ImageStore } from './store.ts';

export interface PullOptions {
  /** Default: this node's platform. */
  readonly platform?: Platform;
  readonly registry?: RegistryClientOptions;
  readonly onProgress?: ProgressListener;
  /** How many blobs download at once. */
  readonly concurrency?: number;
  /** Called once the platform's manifest is known, before any blob is fetched. */
  readonly onManifest?: (manifest: ImageManifest) => Promise<void> | void;
  /** Called once every blob is stored and verified, before the name is set (e.g. to unpack the layers). */
  readonly beforeNaming?: (manifest: ImageManifest) => Promise<void>;
}

export interface PullDeps {
  readonly content: ContentStore;
  readonly images: ImageStore;
}

export interface PullResult {
  readonly record: ImageRecord;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

export async function pullImage(
  ref: ImageReference,
  deps: PullDeps,
  options: PullOptions = {},
): Promise<PullResult> {
  const name = formatImageReference(ref);
  const platform = options.platform ?? hostPlatform();
  const client = new RegistryClient(ref.domain, options.registry);
  const top = await client.getManifest(ref.path, ref.digest ?? ref.tag!);
  const target: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length };
  const parsed = parseManifest(top.bytes, top.mediaType, `manifest of ${name}`);
  let manifestDescriptor = target;
  let manifest: ImageManifest;
  let manifestBytes = top.bytes;
  if (parsed.kind === 'index') {
    const entry = selectPlatformManifest(parsed, platform, name);
    const child = await client.getManifest(ref.path, entry.digest);
    if (child.bytes.length !== entry.size) {
      throw new ManifestError(
        `manifest ${entry.digest} of ${name} is ${child.bytes.length} bytes, the index says ${entry.size}`,
      );
    }
    const childParsed = parseManifest(child.bytes, child.mediaType, `manifest ${entry.digest} of ${name}`);
    if (childParsed.kind !== 'manifest')
      throw new ManifestError(`${name}: an index inside an index is not supported`);
    manifest = childParsed;
    manifestBytes = child.bytes;
    manifestDescriptor = { mediaType: childParsed.mediaType, digest: entry.digest, size: entry.size };
  } else {
    manifest = parsed;
  }

  await options.onManifest?.(manifest);
  const blobs = [manifest.config, ...manifest.layers];
  await inParallel(blobs, options.concurrency ?? 3, (blob) =>
    client.fetchBlob(ref.path, blob, deps.content, options.onProgress),
  );
  // Manifests go in last: a stored manifest means its blobs are all there.
  await writeBlob(
    deps.content,
    { ref: `manifest-${manifestDescriptor.digest}`, expected: manifestDescriptor.digest },
    manifestBytes,
  );
  if (target.digest !== manifestDescriptor.digest) {
    await writeBlob(deps.content, { ref: `manifest-${target.digest}`, expected: target.digest }, top.bytes);
  }
  await options.beforeNaming?.(manifest);
  const record = await deps.images.put({ name, target, manifest: manifestDescriptor, platform });
  return { record, config: manifest.config, layers: manifest.layers };
}
