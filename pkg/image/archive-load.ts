// `load`: an image archive into the content store and the image store. Two formats:
//   - docker-archive (`docker save`, `podman save`, skopeo's docker-archive:): manifest.json lists each image's
//     Config, RepoTags and Layers (uncompressed tars named by diffID, `<id>/layer.tar`, or blobs/sha256/…);
//     the older `repositories` file names images whose RepoTags are empty.
//   - OCI image layout (`oci-layout`, index.json, blobs/<alg>/<hex>): stored as it is, digests unchanged.
// An archive that has both (Docker 25's save) is read as the OCI layout, so manifest digests are kept.
//
// The whole archive is staged and checked first (every blob present, its digest and size right, every
// docker-archive layer matching the diffID its config lists); only then are blobs written to the content store
// (each verified again by its writer), manifests last, and names last of all. A bad archive stores nothing.
//
// docker-archive layers are stored as they are (uncompressed tars: the blob digest is the diffID, so nothing
// is recompressed) under a synthesised Docker schema 2 manifest with the `…rootfs.diff.tar` layer type, as
// containerd's importer does; a registry takes it as is on push.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { compressionOf } from '../archive/compression.ts';
import {
  type Digest,
  DigestError,
  digestAlgorithm,
  digestHex,
  digestOf,
  parseDigest,
} from '../content/digest.ts';
import { type ContentStore, writeBlob } from '../content/store.ts';
import { DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, OCI_INDEX } from '../registry/mediatypes.ts';
import { ArchiveError, type StagedArchive, type StagedFile, stageArchive } from './archive-stage.ts';
import { type Descriptor, type ImageManifest, ManifestError, parseManifest } from './manifest.ts';
import { hostPlatform, type Platform, PlatformError, selectPlatformManifest } from './platform.ts';
import { formatImageReference, ImageReferenceError, parseImageReference } from './reference.ts';
import type { ImageStore } from './store.ts';

/** An uncompressed layer in a Docker schema 2 manifest (the distribution spec's name for it). */
export const DOCKER_LAYER = 'application/vnd.docker.image.rootfs.diff.tar';

const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';
const OCI_REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export interface ArchiveDeps {
  readonly content: ContentStore;
  readonly images: ImageStore;
  /** Where an archive is staged while it is checked: on disk (not tmpfs), ideally the data dir's filesystem. */
  readonly scratchDir: string;
}

export interface ArchiveProgress {
  /** A blob's short ID (12 hex digits), or empty for the whole operation. */
  readonly id: string;
  readonly status: string;
  readonly current?: number;
  readonly total?: number;
}

export interface LoadOptions {
  /** Which image of a multi-platform OCI index to keep; default the node's. */
  readonly platform?: Platform;
  readonly onProgress?: (progress: ArchiveProgress) => void;
  /** Runs the storing and naming (not the staging) under the caller's lock, e.g. the catalog's shared one. */
  readonly whileStoring?: StoreGuard;
}

/** Wraps the part of an operation that writes to the stores. */
export type StoreGuard = <T>(store: () => Promise<T>) => Promise<T>;

export interface LoadedImage {
  /** The image ID: its config's digest. */
  readonly id: Digest;
  /** Canonical names recorded for it (none for an untagged image). */
  readonly names: readonly string[];
  readonly manifest: Descriptor;
}

interface PlannedBlob {
  readonly descriptor: Descriptor;
  readonly source: StagedFile | Buffer;
  readonly isManifest: boolean;
}

interface PlannedImage {
  readonly id: Digest;
  readonly names: readonly string[];
  readonly target: Descriptor;
  readonly manifest: Descriptor;
  readonly platform: Platform;
}

interface LoadPlan {
  readonly blobs: PlannedBlob[];
  readonly images: PlannedImage[];
}

/** Loads a docker-archive or OCI layout tar from `input`; returns the images it named (or stored untagged). */
export async function loadArchive(
  input: Readable | AsyncIterable<Uint8Array>,
  deps: ArchiveDeps,
  options: LoadOptions = {},
): Promise<LoadedImage[]> {
  const staged = await stageArchive(input, deps.scratchDir);
  try {
    const plan = await planLoad(staged, options.platform ?? hostPlatform());
    const guard: StoreGuard = options.whileStoring ?? ((store) => store());
    await guard(async () => {
      await storeBlobs(plan.blobs, deps.content, options.onProgress);
      // Names last: a name means its manifest and every blob behind it are stored.
      for (const { names, target, manifest, platform } of plan.images) {
        for (const name of names) await deps.images.put({ name, target, manifest, platform });
      }
    });
    return plan.images.map(({ id, names, manifest }) => ({ id, names, manifest }));
  } finally {
    await staged.remove();
  }
}

async function planLoad(staged: StagedArchive, platform: Platform): Promise<LoadPlan> {
  try {
    if (staged.file('oci-layout') && staged.file('index.json')) return await planOciLayout(staged, platform);
    if (staged.file('manifest.json')) return await planDockerArchive(staged);
  } catch (err) {
    // Everything the parsers refuse is a fault of the archive.
    if (
      err instanceof ManifestError ||
      err instanceof DigestError ||
      err instanceof PlatformError ||
      err instanceof ImageReferenceError
    ) {
      throw new ArchiveError(err.message);
    }
    throw err;
  }
  throw new ArchiveError(
    'archive is neither a docker-archive (no manifest.json) nor an OCI image layout (no oci-layout and index.json)',
  );
}

// --- OCI image layout --------------------------------------------------------------------------------------

async function planOciLayout(staged: StagedArchive, platform: Platform): Promise<LoadPlan> {
  const layout = (await staged.readJson('oci-layout')) as { imageLayoutVersion?: unknown } | null;
  if (typeof layout?.imageLayoutVersion !== 'string')
    throw new ArchiveError('oci-layout has no imageLayoutVersion');
  const indexFile = staged.file('index.json')!;
  const index = parseManifest(await readStaged(indexFile), OCI_INDEX, 'index.json');
  if (index.kind !== 'index') throw new ArchiveError('index.json is not an image index');
  const rawEntries = ((await staged.readJson('index.json')) as { manifests: { annotations?: unknown }[] })
    .manifests;

  const plan: LoadPlan = { blobs: [], images: [] };
  for (const [i, entry] of index.manifests.entries()) {
    const what = `index.json manifests[${i}]`;
    const targetBytes = await readStaged(blobOf(staged, entry, what));
    const target: Descriptor = { mediaType: entry.mediaType, digest: entry.digest, size: entry.size };
    let parsed = parseManifest(targetBytes, entry.mediaType, `${what} (${entry.digest})`);
    let manifestDescriptor = target;
    let manifestBytes = targetBytes;
    if (parsed.kind === 'index') {
      const child = selectPlatformManifest(parsed, platform, what);
      manifestBytes = await readStaged(blobOf(staged, child, `${what}: platform manifest`));
      parsed = parseManifest(manifestBytes, child.mediaType, `manifest ${child.digest}`);
      if (parsed.kind !== 'manifest')
        throw new ArchiveError(`${what}: an index inside an index is not supported`);
      manifestDescriptor = { mediaType: child.mediaType, digest: child.digest, size: child.size };
      plan.blobs.push({ descriptor: target, source: targetBytes, isManifest: true });
    }
    const imagePlatform = await planImageBlobs(staged, parsed, manifestDescriptor.digest, plan);
    plan.blobs.push({ descriptor: manifestDescriptor, source: manifestBytes, isManifest: true });
    plan.images.push({
      id: parsed.config.digest,
      names: namesFromAnnotations(rawEntries[i]?.annotations),
      target,
      manifest: manifestDescriptor,
      platform: imagePlatform,
    });
  }
  if (plan.images.length === 0) throw new ArchiveError('index.json lists no images');
  return plan;
}

/** Adds the config and layers of `manifest` to the plan (each present and intact); returns the platform. */
async function planImageBlobs(
  staged: StagedArchive,
  manifest: ImageManifest,
  digest: Digest,
  plan: LoadPlan,
): Promise<Platform> {
  const configFile = blobOf(staged, manifest.config, `config of manifest ${digest}`);
  const config = parseConfig(await readStaged(configFile), `config ${manifest.config.digest}`);
  if (config.diffIds.length !== manifest.layers.length) {
    throw new ArchiveError(
      `manifest ${digest} has ${manifest.layers.length} layers but its config lists ${config.diffIds.length} diffIDs`,
    );
  }
  for (const [i, layer] of manifest.layers.entries()) {
    const file = blobOf(staged, layer, `layer ${i} of manifest ${digest}`);
    plan.blobs.push({ descriptor: layer, source: file, isManifest: false });
  }
  plan.blobs.push({ descriptor: manifest.config, source: configFile, isManifest: false });
  return config.platform;
}

/** The blob for `d` under blobs/, checked against the descriptor's digest and size. */
function blobOf(staged: StagedArchive, d: Descriptor, what: string): StagedFile {
  const name = `blobs/${digestAlgorithm(d.digest)}/${digestHex(d.digest)}`;
  const file = staged.file(name);
  if (!file) throw new ArchiveError(`${what}: blob ${d.digest} is not in the archive (no ${name})`);
  if (digestAlgorithm(d.digest) !== 'sha256')
    throw new ArchiveError(`${what}: blob ${d.digest}: only sha256 blobs can be loaded`);
  if (file.digest !== d.digest)
    throw new ArchiveError(`${what}: ${name} has content ${file.digest}, not ${d.digest}`);
  if (file.size !== d.size)
    throw new ArchiveError(`${what}: ${name} is ${file.size} bytes, the descriptor says ${d.size}`);
  return file;
}

/** `io.containerd.image.name` (a full name), else `org.opencontainers.image.ref.name` when it is a reference. */
function namesFromAnnotations(value: unknown): string[] {
  const annotations = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const full = annotations[CONTAINERD_NAME_ANNOTATION];
  if (typeof full === 'string' && full !== '') return [canonical(full, CONTAINERD_NAME_ANNOTATION)];
  const ref = annotations[OCI_REF_NAME_ANNOTATION];
  // A bare tag ("latest", as Docker 25 writes beside the containerd name) names no repository.
  if (typeof ref !== 'string' || !/[/:]/.test(ref)) return [];
  return [canonical(ref, OCI_REF_NAME_ANNOTATION)];
}

// --- docker-archive ----------------------------------------------------------------------------------------

interface DockerManifestEntry {
  readonly Config: string;
  readonly RepoTags: readonly string[];
  readonly Layers: readonly string[];
}

async function planDockerArchive(staged: StagedArchive): Promise<LoadPlan> {
  const entries = parseDockerManifest(await staged.readJson('manifest.json'));
  const repositories = staged.file('repositories')
    ? parseRepositories(await staged.readJson('repositories'))
    : [];
  const plan: LoadPlan = { blobs: [], images: [] };
  for (const [i, entry] of entries.entries()) {
    const what = `manifest.json[${i}]`;
    const configFile = staged.file(entry.Config);
    if (!configFile)
      throw new ArchiveError(`${what} names config ${entry.Config}, which is not in the archive`);
    const named = digestNamed(entry.Config);
    if (named !== undefined && named !== configFile.digest)
      throw new ArchiveError(`${what}: config ${entry.Config} has content ${configFile.digest}`);
    const config = parseConfig(await readStaged(configFile), `config ${entry.Config}`);
    if (config.diffIds.length !== entry.Layers.length) {
      throw new ArchiveError(
        `${what} lists ${entry.Layers.length} layers but config ${entry.Config} lists ${config.diffIds.length} diffIDs`,
      );
    }
    const layers: Descriptor[] = [];
    for (const [j, layerName] of entry.Layers.entries()) {
      const file = staged.file(layerName);
      if (!file) throw new ArchiveError(`${what} names layer ${layerName}, which is not in the archive`);
      const mediaType = await checkDiffId(file, config.diffIds[j]!, `${what} layer ${layerName}`);
      const layer: Descriptor = { mediaType, digest: file.digest, size: file.size };
      layers.push(layer);
      plan.blobs.push({ descriptor: layer, source: file, isManifest: false });
    }
    const configDescriptor: Descriptor = {
      mediaType: DOCKER_CONFIG,
      digest: configFile.digest,
      size: configFile.size,
    };
    plan.blobs.push({ descriptor: configDescriptor, source: configFile, isManifest: false });
    const manifestBytes = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: configDescriptor, layers }),
    );
    const manifest: Descriptor = {
      mediaType: DOCKER_MANIFEST,
      digest: digestOf(manifestBytes),
      size: manifestBytes.length,
    };
    plan.blobs.push({ descriptor: manifest, source: manifestBytes, isManifest: true });
    const topLayerId = entry.Layers.at(-1)?.split('/').at(-2);
    const tags =
      entry.RepoTags.length > 0
        ? entry.RepoTags
        : repositories.filter((r) => r.layerId === topLayerId).map((r) => r.name);
    plan.images.push({
      id: configFile.digest,
      names: [...new Set(tags.map((t) => canonical(t, `${what} RepoTags`)))],
      target: manifest,
      manifest,
      platform: config.platform,
    });
  }
  return plan;
}

function parseDockerManifest(value: unknown): DockerManifestEntry[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new ArchiveError('manifest.json is not a non-empty array of images');
  return value.map((item: unknown, i) => {
    const e = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
    if (typeof e['Config'] !== 'string') throw new ArchiveError(`manifest.json[${i}] has no Config`);
    if (!strings(e['Layers'])) throw new ArchiveError(`manifest.json[${i}] has no Layers list`);
    if (e['RepoTags'] != null && !strings(e['RepoTags']))
      throw new ArchiveError(`manifest.json[${i}] has an invalid RepoTags`);
    return {
      Config: e['Config'],
      Layers: e['Layers'] as string[],
      RepoTags: (e['RepoTags'] as string[] | null | undefined) ?? [],
    };
  });
}

/** The legacy `repositories` file: {"repo": {"tag": "<v1 ID of the top layer>"}}. */
function parseRepositories(value: unknown): { name: string; layerId: string }[] {
  if (typeof value !== 'object' || value === null)
    throw new ArchiveError('repositories is not a JSON object');
  const result: { name: string; layerId: string }[] = [];
  for (const [repo, tags] of Object.entries(value)) {
    if (typeof tags !== 'object' || tags === null) continue;
    for (const [tag, id] of Object.entries(tags as Record<string, unknown>)) {
      if (typeof id === 'string') result.push({ name: `${repo}:${tag}`, layerId: id });
    }
  }
  return result;
}

/** The digest an entry's name claims (`<hex>.json`, `blobs/sha256/<hex>`), if it claims one. */
function digestNamed(name: string): Digest | undefined {
  const match = /(?:^|\/)([0-9a-f]{64})(?:\.json)?$/.exec(name);
  return match ? (`sha256:${match[1]}` as Digest) : undefined;
}

/** Checks a layer's uncompressed content against its diffID; returns its media type. */
async function checkDiffId(file: StagedFile, diffId: Digest, what: string): Promise<string> {
  const head = Buffer.alloc(4);
  const handle = await open(file.path, 'r');
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const compression = compressionOf(head.subarray(0, Math.min(head.length, file.size)));
  if (compression === 'zstd')
    throw new ArchiveError(`${what} is zstd-compressed: this Node cannot decode it`);
  let actual = file.digest;
  if (compression === 'gzip') {
    const hash = createHash('sha256');
    try {
      await pipeline(
        createReadStream(file.path),
        createGunzip(),
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            hash.update(chunk);
            callback();
          },
        }),
      );
    } catch (err) {
      throw new ArchiveError(`${what} is not valid gzip: ${(err as Error).message}`);
    }
    actual = `sha256:${hash.digest('hex')}` as Digest;
  }
  if (actual !== diffId)
    throw new ArchiveError(`${what} has content ${actual}, but its config lists diffID ${diffId}`);
  return compression === 'gzip' ? DOCKER_LAYER_GZIP : DOCKER_LAYER;
}

// --- shared ------------------------------------------------------------------------------------------------

interface ConfigSummary {
  readonly diffIds: readonly Digest[];
  readonly platform: Platform;
}

/** What loading needs from an image config: rootfs.diff_ids and the platform. */
export function parseConfig(bytes: Uint8Array, what: string): ConfigSummary {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ArchiveError(`${what} is not JSON: ${(err as Error).message}`);
  }
  if (typeof config !== 'object' || config === null) throw new ArchiveError(`${what} is not a JSON object`);
  const rootfs = config['rootfs'] as { diff_ids?: unknown } | undefined;
  if (!Array.isArray(rootfs?.diff_ids)) throw new ArchiveError(`${what} has no rootfs.diff_ids`);
  const diffIds = rootfs.diff_ids.map((d: unknown) => {
    try {
      return parseDigest(String(d));
    } catch (err) {
      throw new ArchiveError(`${what}: diff_ids: ${(err as Error).message}`);
    }
  });
  const host = hostPlatform();
  const platform: Platform = {
    os: typeof config['os'] === 'string' ? config['os'] : host.os,
    architecture: typeof config['architecture'] === 'string' ? config['architecture'] : host.architecture,
    ...(typeof config['variant'] === 'string' && config['variant'] !== '' && { variant: config['variant'] }),
  };
  return { diffIds, platform };
}

function canonical(name: string, what: string): string {
  try {
    return formatImageReference(parseImageReference(name));
  } catch (err) {
    throw new ArchiveError(`${what}: ${(err as Error).message}`);
  }
}

/** Manifests and configs are read whole: a blob that claims to be one cannot make the agent read gigabytes. */
const MAX_METADATA_BYTES = 16 << 20;

async function readStaged(file: StagedFile): Promise<Buffer> {
  if (file.size > MAX_METADATA_BYTES)
    throw new ArchiveError(
      `archive entry ${file.name} is ${file.size} bytes, too large for a manifest or config`,
    );
  return readFile(file.path);
}

/** Writes the planned blobs (manifests last), each once, reporting per-layer progress. */
async function storeBlobs(
  blobs: readonly PlannedBlob[],
  content: ContentStore,
  onProgress?: (progress: ArchiveProgress) => void,
): Promise<void> {
  const seen = new Set<string>();
  const ordered = [...blobs.filter((b) => !b.isManifest), ...blobs.filter((b) => b.isManifest)];
  for (const { descriptor, source } of ordered) {
    if (seen.has(descriptor.digest)) continue;
    seen.add(descriptor.digest);
    const id = shortId(descriptor.digest);
    const total = descriptor.size;
    if (await content.info(descriptor.digest)) {
      if (!Buffer.isBuffer(source)) onProgress?.({ id, status: 'Already exists', current: total, total });
      continue;
    }
    const options = { ref: `load-${descriptor.digest}`, expected: descriptor.digest, size: total };
    if (Buffer.isBuffer(source)) {
      await writeBlob(content, options, source);
      continue;
    }
    let current = 0;
    let reported = 0;
    const counted = async function* () {
      for await (const chunk of createReadStream(source.path)) {
        current += (chunk as Buffer).length;
        if (onProgress && current - reported >= 1 << 20) {
          reported = current;
          onProgress({ id, status: 'Loading layer', current, total });
        }
        yield chunk as Buffer;
      }
    };
    await writeBlob(content, options, counted());
    onProgress?.({ id, status: 'Loading layer', current: total, total });
  }
}

export function shortId(digest: Digest): string {
  return digestHex(digest).slice(0, 12);
}
