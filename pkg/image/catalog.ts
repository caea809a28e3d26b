// The node's images as Docker shows them: the image store's names grouped by image ID (the config digest),
// each with its manifest and config, found by name, ID, unique ID prefix or name@digest; and their removal,
// which garbage-collects by references: a blob or snapshot goes only when no remaining name leads to it.
import type { HealthcheckSpec } from '../container/create-spec.ts';
import type { Digest } from '../content/digest.ts';
import { ContentError, type ContentStore } from '../content/store.ts';
import { chainIds, EXTRACT_PURPOSE } from '../snapshot/chain.ts';
import type { OverlaySnapshotter } from '../snapshot/overlay.ts';
import { SharedLock } from '../sync/shared-lock.ts';
import { type Descriptor, type ImageManifest, ManifestError, parseManifest } from './manifest.ts';
import {
  familiarName,
  familiarString,
  type ImageReference,
  ImageReferenceError,
  parseImageReference,
  repositoryName,
} from './reference.ts';
import type { ImageRecord, ImageStore } from './store.ts';

/** The parts of an image config (OCI image spec / Docker) that tsnet reads. */
export interface ImageConfigFile {
  readonly created?: string;
  readonly author?: string;
  readonly architecture?: string;
  readonly os?: string;
  readonly variant?: string;
  readonly comment?: string;
  readonly config?: ContainerConfig;
  readonly rootfs?: { readonly type?: string; readonly diff_ids?: readonly string[] };
  readonly history?: readonly HistoryItem[];
}

export interface ContainerConfig {
  readonly User?: string;
  readonly Env?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly Entrypoint?: readonly string[];
  readonly WorkingDir?: string;
  readonly ExposedPorts?: Readonly<Record<string, object>>;
  readonly Volumes?: Readonly<Record<string, object>>;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  /** Docker's extension (HEALTHCHECK); durations in nanoseconds */
  readonly Healthcheck?: HealthcheckSpec;
  /** Docker's extension (SHELL): what a CMD-SHELL healthcheck runs under */
  readonly Shell?: readonly string[];
}

export interface HistoryItem {
  readonly created?: string;
  readonly created_by?: string;
  readonly author?: string;
  readonly comment?: string;
  readonly empty_layer?: boolean;
}

export interface LocalImage {
  /** The config digest, as Docker's image ID. */
  readonly id: Digest;
  /** Every name pointing at this image, tags and digests. */
  readonly records: readonly ImageRecord[];
  readonly manifest: ImageManifest;
  readonly config: ImageConfigFile;
  /** The sum of the layer sizes. */
  readonly size: number;
  /** `busybox:latest` as Docker prints them. */
  readonly repoTags: readonly string[];
  /** `busybox@sha256:…`. */
  readonly repoDigests: readonly string[];
}

export interface ImageStores {
  readonly content: ContentStore;
  readonly images: ImageStore;
  readonly snapshots: OverlaySnapshotter;
}

export class ImageNotFoundError extends Error {
  override readonly name = 'ImageNotFoundError';
  constructor(readonly image: string) {
    super(`No such image: ${image}`);
  }
}

/** A removal Docker would refuse without force (HTTP 409 there). */
export class ImageConflictError extends Error {
  override readonly name = 'ImageConflictError';
}

export interface RemovedImages {
  /** Image IDs and the layer chains (ChainIDs) whose snapshots went. */
  readonly deleted: string[];
  /** Bytes of blobs removed from the content store. */
  readonly reclaimed: number;
}

/** A name's kind: `repo:tag` or `repo@digest`. */
export function isDigestName(record: Pick<ImageRecord, 'name'>): boolean {
  return parseImageReference(record.name).digest !== undefined;
}

/**
 * Where an image without a name is kept (a build without -t, a commit without REPO): a digest name in a
 * repository no registry can serve (`.invalid` is reserved, RFC 2606), which keeps its content from the
 * garbage collector and which listings and inspect leave out, so it shows as Docker's `<none>` image.
 */
export const UNTAGGED_REPOSITORY = 'tsnet.invalid/untagged';

/** Whether a name is the keep-alive name of an unnamed image (see UNTAGGED_REPOSITORY). */
export function isUntaggedName(name: string): boolean {
  return name.startsWith(`${UNTAGGED_REPOSITORY}@`);
}

/**
 * Blobs and layer chains that work in progress uses without any name leading to them yet (a build's base
 * image, its new and cached layers): the garbage collector keeps them until the lease is released
 * (containerd's leases). Add to it under the catalog's shared lock, before checking that the content is there.
 */
export interface CatalogLease {
  keepBlobs(digests: Iterable<string>): void;
  keepChains(chainIds: Iterable<string>): void;
  release(): void;
}

export class ImageCatalog {
  /**
   * Pulls, pushes and tags share it; removals hold it alone. Without it a removal could delete a blob that a
   * concurrent pull found present a moment ago and is about to name.
   */
  readonly lock = new SharedLock();
  readonly #leases = new Set<{ blobs: Set<string>; chains: Set<string> }>();

  /** A new lease (see CatalogLease); release it however the work ends. */
  lease(): CatalogLease {
    const held = { blobs: new Set<string>(), chains: new Set<string>() };
    this.#leases.add(held);
    return {
      keepBlobs: (digests) => {
        for (const d of digests) held.blobs.add(d);
      },
      keepChains: (chains) => {
        for (const c of chains) held.chains.add(c);
      },
      release: () => {
        this.#leases.delete(held);
      },
    };
  }

  constructor(readonly stores: ImageStores) {}

  /** Every image with at least one name, oldest name first within an image. */
  async all(): Promise<LocalImage[]> {
    const byId = new Map<
      string,
      { records: ImageRecord[]; manifest: ImageManifest; config: ImageConfigFile }
    >();
    for (const record of await this.stores.images.list()) {
      const loaded = await this.load(record).catch((err: unknown) => {
        // A name whose blobs are gone (removed by hand) is not an image: skip it rather than fail every list.
        if (err instanceof ContentError && err.code === 'not-found') return undefined;
        throw err;
      });
      if (!loaded) continue;
      const entry = byId.get(loaded.manifest.config.digest);
      if (entry) entry.records.push(record);
      else byId.set(loaded.manifest.config.digest, { ...loaded, records: [record] });
    }
    return [...byId.entries()].map(([id, e]) => describe(id as Digest, e.records, e.manifest, e.config));
  }

  /** The image `nameOrId` names: a reference (`busybox`, `repo@sha256:…`), a full ID or a unique ID prefix. */
  async find(nameOrId: string): Promise<LocalImage> {
    const images = await this.all();
    const byName = canonicalNameOf(nameOrId);
    if (byName !== undefined) {
      const found = images.find((i) => i.records.some((r) => r.name === byName));
      if (found) return found;
      const ref = parseImageReference(nameOrId);
      // `repo@digest` also finds an image pulled by tag whose target (or platform manifest) has that digest.
      if (ref.digest !== undefined) {
        const repo = repositoryName(ref);
        const match = images.find((i) =>
          i.records.some(
            (r) =>
              repositoryName(parseImageReference(r.name)) === repo &&
              (r.target.digest === ref.digest || r.manifest.digest === ref.digest),
          ),
        );
        if (match) return match;
      }
    }
    const hex = /^(?:sha256:)?([0-9a-f]{1,64})$/.exec(nameOrId)?.[1];
    if (hex !== undefined) {
      const matches = images.filter((i) => i.id.slice('sha256:'.length).startsWith(hex));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1)
        throw new ImageConflictError(
          `ambiguous image ID prefix ${nameOrId}: it matches ${matches.length} images`,
        );
    }
    if (byName === undefined && hex === undefined) parseImageReference(nameOrId); // the reference's own error
    throw new ImageNotFoundError(nameOrId);
  }

  /** The config of an image manifest in the store. */
  async config(manifest: ImageManifest): Promise<ImageConfigFile> {
    const bytes = await this.stores.content.readBytes(manifest.config.digest);
    try {
      const parsed = JSON.parse(bytes.toString('utf8')) as unknown;
      if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
      return parsed as ImageConfigFile;
    } catch (err) {
      throw new ManifestError(
        `image config ${manifest.config.digest} is not JSON: ${(err as Error).message}`,
      );
    }
  }

  async manifestOf(descriptor: Descriptor): Promise<ImageManifest> {
    const bytes = await this.stores.content.readBytes(descriptor.digest);
    const parsed = parseManifest(bytes, descriptor.mediaType, `manifest ${descriptor.digest}`);
    if (parsed.kind !== 'manifest') throw new ManifestError(`${descriptor.digest} is not an image manifest`);
    return parsed;
  }

  /**
   * The image store as pulls, loads and imports write it: names go through `name`, so an image a new name
   * moves away from keeps a digest name instead of losing its content.
   */
  get namingStore(): ImageStore {
    const { images } = this.stores;
    return {
      get: (n) => images.get(n),
      list: () => images.list(),
      put: (r) => this.name(r),
      delete: (n) => images.delete(n),
    };
  }

  /**
   * Points `record.name` at an image. An image that thereby loses its last name stays reachable as
   * `repo@digest` of the repository it was in (Docker's `<none>` image), so its content is never orphaned.
   */
  async name(record: Omit<ImageRecord, 'createdAt' | 'updatedAt'>): Promise<ImageRecord> {
    const previous = await this.stores.images.get(record.name);
    const stored = await this.stores.images.put(record);
    // A name given to an unnamed image replaces its keep-alive name: removing that name removes the image.
    const keepAlive = `${UNTAGGED_REPOSITORY}@${record.manifest.digest}`;
    if (!isUntaggedName(record.name) && (await this.stores.images.get(keepAlive)))
      await this.stores.images.delete(keepAlive);
    if (previous && previous.manifest.digest !== record.manifest.digest) {
      const still = (await this.stores.images.list()).some(
        (r) => r.manifest.digest === previous.manifest.digest,
      );
      if (!still) {
        const repo = repositoryName(parseImageReference(previous.name));
        await this.stores.images.put({ ...previous, name: `${repo}@${previous.target.digest}` });
      }
    }
    return stored;
  }

  /** Removes every name of `images`, then collects the garbage. Call with the lock held alone. */
  async removeImages(images: readonly LocalImage[]): Promise<RemovedImages> {
    for (const image of images) for (const r of image.records) await this.stores.images.delete(r.name);
    const collected = await this.collectGarbage();
    return { deleted: [...images.map((i) => i.id), ...collected.snapshots], reclaimed: collected.reclaimed };
  }

  /**
   * Deletes every blob and layer snapshot no name leads to (containerd's GC by references): what removed
   * images left, and what a failed or killed pull stored without naming. A snapshot something builds on (a
   * container's) stays, and with it its chain. Call with the lock held alone: a pull in progress holds blobs
   * it has not named yet.
   */
  async collectGarbage(): Promise<{ snapshots: string[]; reclaimed: number }> {
    const keptBlobs = new Set<string>();
    const keptChains = new Set<string>();
    for (const record of await this.stores.images.list()) {
      keptBlobs.add(record.target.digest);
      keptBlobs.add(record.manifest.digest);
    }
    for (const image of await this.all()) {
      for (const d of await this.blobsOf(image)) keptBlobs.add(d);
      for (const c of chainIds(image.config.rootfs?.diff_ids ?? [])) keptChains.add(c);
    }
    for (const held of this.#leases) {
      for (const d of held.blobs) keptBlobs.add(d);
      for (const c of held.chains) keptChains.add(c);
    }
    let reclaimed = 0;
    for (const blob of await this.stores.content.list()) {
      if (keptBlobs.has(blob.digest)) continue;
      if (await this.stores.content.delete(blob.digest)) reclaimed += blob.size;
    }
    const removed: string[] = [];
    for (;;) {
      const all = await this.stores.snapshots.list();
      const parents = new Set(all.map((s) => s.parent).filter((p) => p !== undefined));
      const garbage = all.filter(
        (s) =>
          !parents.has(s.key) &&
          ((s.kind === 'committed' && !keptChains.has(s.key)) ||
            (s.kind === 'active' && s.key.startsWith(`${EXTRACT_PURPOSE}-`))),
      );
      if (garbage.length === 0) return { snapshots: removed, reclaimed };
      for (const s of garbage) {
        await this.stores.snapshots.remove(s.key);
        if (s.kind === 'committed') removed.push(s.key);
      }
    }
  }

  /** Every blob an image's names lead to: targets (and the index's manifests here), manifest, config, layers. */
  private async blobsOf(image: LocalImage): Promise<string[]> {
    const out = new Set<string>([
      image.manifest.config.digest,
      ...image.manifest.layers.map((l) => l.digest),
    ]);
    for (const r of image.records) {
      out.add(r.target.digest);
      out.add(r.manifest.digest);
      if (r.target.digest === r.manifest.digest) continue;
      const bytes = await this.stores.content.readBytes(r.target.digest).catch(() => undefined);
      if (!bytes) continue;
      const index = parseManifest(bytes, r.target.mediaType, `index ${r.target.digest}`);
      if (index.kind === 'index') for (const m of index.manifests) out.add(m.digest);
    }
    return [...out];
  }

  private async load(record: ImageRecord): Promise<{ manifest: ImageManifest; config: ImageConfigFile }> {
    const manifest = await this.manifestOf(record.manifest);
    return { manifest, config: await this.config(manifest) };
  }
}

/**
 * The image store name a user's string means (`repo:tag`, or `repo@digest` with any tag dropped), or undefined
 * when it is not a reference (an ID prefix).
 */
export function canonicalNameOf(input: string): string | undefined {
  try {
    const ref = parseImageReference(input);
    return `${repositoryName(ref)}${ref.digest !== undefined ? `@${ref.digest}` : `:${ref.tag}`}`;
  } catch (err) {
    if (err instanceof ImageReferenceError) return undefined;
    throw err;
  }
}

function describe(
  id: Digest,
  records: ImageRecord[],
  manifest: ImageManifest,
  config: ImageConfigFile,
): LocalImage {
  const repoTags: string[] = [];
  const repoDigests = new Set<string>();
  for (const r of records) {
    if (isUntaggedName(r.name)) continue;
    const ref: ImageReference = parseImageReference(r.name);
    if (ref.digest !== undefined) repoDigests.add(`${familiarName(ref)}@${ref.digest}`);
    else repoTags.push(familiarString(ref));
  }
  return {
    id,
    records,
    manifest,
    config,
    size: manifest.layers.reduce((sum, l) => sum + l.size, 0),
    repoTags,
    repoDigests: [...repoDigests],
  };
}
