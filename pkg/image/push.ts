// Push: upload an image from the content store to a registry: blobs first (each checked with HEAD, mounted from
// the repository it came from when that is on the same registry), then the manifest(s), then the tag.

import type { Digest } from '../content/digest.ts';
import type { ContentStore } from '../content/store.ts';
import {
  type ProgressListener,
  type PushBlobResult,
  RegistryClient,
  type RegistryClientOptions,
} from '../registry/client.ts';
import { type Descriptor, ManifestError, parseManifest } from './manifest.ts';
import { inParallel } from './parallel.ts';
import { formatImageReference, type ImageReference, parseImageReference } from './reference.ts';
import type { ImageStore } from './store.ts';

export interface PushOptions {
  readonly registry?: RegistryClientOptions;
  readonly onProgress?: ProgressListener;
  /** Upload blobs in PATCH chunks of this many bytes instead of one PUT each. */
  readonly chunkSize?: number;
  readonly concurrency?: number;
  /** Called as each blob reaches the registry, with how it got there. */
  readonly onBlobPushed?: (blob: Descriptor, result: PushBlobResult) => void;
}

export interface PushDeps {
  readonly content: ContentStore;
  readonly images: ImageStore;
}

export interface PushResult {
  /** The digest of the manifest the tag now points at. */
  readonly digest: Digest;
  readonly blobs: Readonly<Record<string, PushBlobResult>>;
}

/** Pushes the local image `source` (a name in the image store) as `destination`. */
export async function pushImage(
  source: string,
  destination: ImageReference,
  deps: PushDeps,
  options: PushOptions = {},
): Promise<PushResult> {
  const record = await deps.images.get(source);
  if (!record) throw new ManifestError(`no local image ${source}`);
  const origin = parseImageReference(record.name);
  const mountFrom =
    origin.domain === destination.domain && origin.path !== destination.path ? origin.path : undefined;
  const client = new RegistryClient(destination.domain, options.registry);
  const blobs: Record<string, PushBlobResult> = {};

  // An index whose platform manifests are not all here is pushed as the one manifest this node has.
  const top = await pushableTop(record.target, record.manifest, deps.content);
  for (const manifest of top.manifests) {
    const parsed = parseManifest(
      await deps.content.readBytes(manifest.digest),
      manifest.mediaType,
      `manifest ${manifest.digest}`,
    );
    if (parsed.kind !== 'manifest')
      throw new ManifestError(`manifest ${manifest.digest} is not an image manifest`);
    await inParallel([parsed.config, ...parsed.layers], options.concurrency ?? 3, async (blob) => {
      blobs[blob.digest] = await client.pushBlob(destination.path, blob, deps.content, {
        ...(mountFrom !== undefined && { mountFrom }),
        ...(options.chunkSize !== undefined && { chunkSize: options.chunkSize }),
        ...(options.onProgress !== undefined && { onProgress: options.onProgress }),
      });
      options.onBlobPushed?.(blob, blobs[blob.digest]!);
    });
    if (manifest.digest !== top.tagged.digest) {
      await client.putManifest(
        destination.path,
        manifest.digest,
        manifest.mediaType,
        await deps.content.readBytes(manifest.digest),
      );
    }
  }
  const reference = destination.digest ?? destination.tag;
  if (destination.digest !== undefined && destination.digest !== top.tagged.digest) {
    throw new ManifestError(
      `${formatImageReference(destination)} names a digest other than the image's ${top.tagged.digest}`,
    );
  }
  const digest = await client.putManifest(
    destination.path,
    reference!,
    top.tagged.mediaType,
    await deps.content.readBytes(top.tagged.digest),
  );
  return { digest, blobs };
}

async function pushableTop(
  target: Descriptor,
  platformManifest: Descriptor,
  content: ContentStore,
): Promise<{ tagged: Descriptor; manifests: Descriptor[] }> {
  if (target.digest === platformManifest.digest) return { tagged: target, manifests: [target] };
  const index = parseManifest(
    await content.readBytes(target.digest),
    target.mediaType,
    `index ${target.digest}`,
  );
  if (index.kind === 'index') {
    const present = await Promise.all(index.manifests.map((m) => content.info(m.digest)));
    if (present.every(Boolean)) return { tagged: target, manifests: [...index.manifests] };
  }
  return { tagged: platformManifest, manifests: [platformManifest] };
}
