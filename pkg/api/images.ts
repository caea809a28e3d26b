// The Images service: Docker's image verbs over the node's catalog (names → manifests → content, layers as
// snapshots). Long operations stream Docker's progress messages; a failure is the last message's `error` and
// the call's status, one line each. Load/Save/Import live in images-archive.ts.
import * as grpc from '@grpc/grpc-js';
import { LayerError } from '../archive/apply.ts';
import { DigestError } from '../content/digest.ts';
import { ContentError } from '../content/store.ts';
import type { EventBus } from '../events/bus.ts';
import {
  canonicalNameOf,
  type ImageCatalog,
  ImageConflictError,
  ImageNotFoundError,
  isDigestName,
  isUntaggedName,
  type LocalImage,
} from '../image/catalog.ts';
import { ManifestError } from '../image/manifest.ts';
import { hostPlatform, type Platform, PlatformError, parsePlatform } from '../image/platform.ts';
import { pullImage } from '../image/pull.ts';
import { pushImage } from '../image/push.ts';
import {
  familiarName,
  familiarString,
  formatImageReference,
  type ImageReference,
  ImageReferenceError,
  parseImageReference,
  repositoryName,
} from '../image/reference.ts';
import { RegistryAuthError } from '../registry/auth.ts';
import { RegistryClient, type RegistryClientOptions, RegistryError } from '../registry/client.ts';
import {
  CredentialsError,
  findCredentials,
  removeCredentials,
  storeCredentials,
} from '../registry/credentials.ts';
import { unpackLayers } from '../snapshot/chain.ts';
import { agentErrorStatus, unaryHandler } from './errors.ts';
import type { HistoryEntry } from './generated/tsnet/v1/HistoryEntry.ts';
import type { ImageSummary } from './generated/tsnet/v1/ImageSummary.ts';
import type { ImagesHandlers } from './generated/tsnet/v1/Images.ts';
import type { ProgressMessage } from './generated/tsnet/v1/ProgressMessage.ts';
import { archiveHandlers } from './images-archive.ts';
import { buildHandlers, type ImageBuilder } from './images-build.ts';

export interface ImagesDeps {
  /** The open catalog; throws ImagesNotReadyError until the image service has opened its stores. */
  catalog(): ImageCatalog;
  readonly events: EventBus;
  /** Registries reachable over plain HTTP besides loopback ones. */
  readonly insecureRegistries: readonly string[];
  /** Docker's config.json shape: `tsnetctl login` writes it. */
  readonly credentialsFile: string;
  /** The containers using an image (by ID); rmi refuses those without force. */
  inUse(imageId: string): Promise<string[]>;
  /** Where uploaded archives are staged while they are checked (on disk, under the data dir). */
  readonly scratchDir: string;
  /** Builds and commits (the container engine's); throws ImagesNotReadyError while there is none. */
  builder(): ImageBuilder;
}

export class ImagesNotReadyError extends Error {
  override readonly name = 'ImagesNotReadyError';
}

/** A request the agent refuses as malformed. */
class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
}

export function imagesHandlers(deps: ImagesDeps): ImagesHandlers {
  return {
    List: unary((req) => listImages(deps, req.all, req.filters)),
    Inspect: unary(async (req) => ({
      json: JSON.stringify(inspectJson(await deps.catalog().find(req.image))),
    })),
    History: unary(async (req) => ({ entries: historyOf(await deps.catalog().find(req.image)) })),
    Pull: streaming((req, send) => pull(deps, req.reference, req.platform, req.allTags, send)),
    Push: streaming((req, send) => push(deps, req.reference, send)),
    Tag: unary(async (req) => {
      await tag(deps, req.source, req.target);
      return {};
    }),
    Remove: unary((req) => removeImage(deps, req.image, req.force)),
    Prune: unary((req) => pruneImages(deps, req.all, req.filters)),
    Login: unary((req) => login(deps, req.server, req.username, req.password)),
    Logout: unary(async (req) => {
      await removeCredentials(deps.credentialsFile, registryDomain(req.server));
      return {};
    }),
    ...archiveHandlers(deps),
    ...buildHandlers(deps),
  };
}

// ---------------------------------------------------------------------------------------------- list

const LIST_FILTERS = new Set(['reference', 'dangling', 'label', 'before', 'since']);

async function listImages(
  deps: ImagesDeps,
  _all: boolean,
  filterArgs: readonly string[],
): Promise<{ images: ImageSummary[] }> {
  const filters = parseFilters(filterArgs, LIST_FILTERS);
  const catalog = deps.catalog();
  const images = await catalog.all();
  const createdOf = async (name: string) => createdUnix((await catalog.find(name)).config);
  const before = filters.get('before');
  const since = filters.get('since');
  const beforeTimes = before ? await Promise.all([...before].map(createdOf)) : [];
  const sinceTimes = since ? await Promise.all([...since].map(createdOf)) : [];
  const dangling = filters.get('dangling');
  if (dangling && [...dangling].some((v) => v !== 'true' && v !== 'false'))
    throw new InvalidRequestError(
      `invalid filter 'dangling=${[...dangling].join(',')}': expected true or false`,
    );
  const out: ImageSummary[] = [];
  for (const image of images) {
    const created = createdUnix(image.config);
    if (dangling && !dangling.has(String(image.repoTags.length === 0))) continue;
    if (!matchesLabels(image, filters.get('label'))) continue;
    if (beforeTimes.length && !beforeTimes.every((t) => created < t)) continue;
    if (sinceTimes.length && !sinceTimes.every((t) => created > t)) continue;
    const references = filters.get('reference');
    let repoTags = [...image.repoTags];
    let repoDigests = [...image.repoDigests];
    if (references) {
      const patterns = [...references].map(globRegExp);
      const hit = (name: string) => {
        const repo = name.replace(/[:@][^/]*$/, '');
        return patterns.some((p) => p.test(name) || p.test(repo));
      };
      repoTags = repoTags.filter(hit);
      repoDigests = repoDigests.filter(hit);
      if (repoTags.length === 0 && repoDigests.length === 0) continue;
    }
    out.push({
      id: image.id,
      repoTags,
      repoDigests,
      createdUnix: created,
      size: image.size,
      labels: { ...(image.config.config?.Labels ?? {}) },
      containers: (await deps.inUse(image.id)).length,
    });
  }
  return { images: out.sort((a, b) => Number(b.createdUnix) - Number(a.createdUnix)) };
}

function parseFilters(args: readonly string[], known: ReadonlySet<string>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of args) {
    const eq = f.indexOf('=');
    const key = eq > 0 ? f.slice(0, eq) : '';
    if (!known.has(key))
      throw new InvalidRequestError(
        `invalid filter ${JSON.stringify(f)}: expected key=value with key one of ${[...known].join(', ')}`,
      );
    const values = out.get(key) ?? new Set<string>();
    values.add(f.slice(eq + 1));
    out.set(key, values);
  }
  return out;
}

/** Docker's label filter: `key` (present) or `key=value`; every given one must hold. */
function matchesLabels(image: LocalImage, wanted: ReadonlySet<string> | undefined): boolean {
  if (!wanted) return true;
  const labels = image.config.config?.Labels ?? {};
  return [...wanted].every((w) => {
    const eq = w.indexOf('=');
    return eq < 0 ? w in labels : labels[w.slice(0, eq)] === w.slice(eq + 1);
  });
}

/** A shell-style pattern (`busy*`, `repo:v?`) as path.Match reads it: `*` and `?` never cross a `/`. */
function globRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

function createdUnix(config: LocalImage['config']): number {
  const t = config.created ? Date.parse(config.created) : Number.NaN;
  return Number.isNaN(t) ? 0 : Math.floor(t / 1000);
}

// ---------------------------------------------------------------------------------------------- inspect

/** `docker image inspect`'s object for one image. */
export function inspectJson(image: LocalImage): Record<string, unknown> {
  const c = image.config;
  const cc = c.config ?? {};
  const latest =
    image.records
      .map((r) => r.updatedAt)
      .sort()
      .at(-1) ?? '';
  return {
    Id: image.id,
    RepoTags: image.repoTags,
    RepoDigests: image.repoDigests,
    Parent: '',
    Comment: c.comment ?? '',
    Created: c.created ?? '',
    Author: c.author ?? '',
    Config: {
      User: cc.User ?? '',
      ...(cc.ExposedPorts !== undefined && { ExposedPorts: cc.ExposedPorts }),
      Env: cc.Env ?? null,
      Cmd: cc.Cmd ?? null,
      Volumes: cc.Volumes ?? null,
      WorkingDir: cc.WorkingDir ?? '',
      Entrypoint: cc.Entrypoint ?? null,
      Labels: cc.Labels ?? null,
      ...(cc.StopSignal !== undefined && { StopSignal: cc.StopSignal }),
    },
    Architecture: c.architecture ?? '',
    ...(c.variant !== undefined && { Variant: c.variant }),
    Os: c.os ?? '',
    Size: image.size,
    GraphDriver: { Name: 'overlay', Data: null },
    RootFS: { Type: c.rootfs?.type ?? 'layers', Layers: c.rootfs?.diff_ids ?? [] },
    Metadata: { LastTagTime: latest || '0001-01-01T00:00:00Z' },
  };
}

// ---------------------------------------------------------------------------------------------- history

/** `docker history`: newest step first; the top step carries the image ID and tags, older ones "<missing>". */
export function historyOf(image: LocalImage): HistoryEntry[] {
  const steps = image.config.history ?? [];
  const layers = image.manifest.layers;
  let layer = 0;
  const entries = steps.map((step): HistoryEntry => {
    const size = step.empty_layer ? 0 : (layers[layer++]?.size ?? 0);
    return {
      id: '<missing>',
      createdUnix: step.created ? Math.floor(Date.parse(step.created) / 1000) || 0 : 0,
      createdBy: step.created_by ?? '',
      size,
      comment: step.comment ?? '',
      tags: [],
      emptyLayer: step.empty_layer === true,
    };
  });
  // An image without history (made by hand) still has its layers: one step each.
  if (entries.length === 0) {
    for (const l of layers)
      entries.push({
        id: '<missing>',
        createdUnix: createdUnix(image.config),
        createdBy: '',
        size: l.size,
        comment: '',
        tags: [],
        emptyLayer: false,
      });
  }
  entries.reverse();
  if (entries[0]) entries[0] = { ...entries[0], id: image.id, tags: [...image.repoTags] };
  return entries;
}

// ---------------------------------------------------------------------------------------------- pull

type Send = (message: ProgressMessage) => void;

function shortId(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13);
}

async function registryOptions(deps: ImagesDeps, domain: string): Promise<RegistryClientOptions> {
  const credentials = await findCredentials(deps.credentialsFile, domain);
  return {
    insecure: deps.insecureRegistries,
    credentials: (d) => (d === domain ? credentials : undefined),
  };
}

/** `docker pull`: into the catalog, layers unpacked, Docker's progress messages through `send`. */
export async function pull(
  deps: ImagesDeps,
  reference: string,
  platformText: string,
  allTags: boolean,
  send: Send,
): Promise<void> {
  if (allTags) throw new InvalidRequestError('pull --all-tags is not supported by this agent');
  const parsed = parseImageReference(reference);
  // A digest names the content; a tag beside it is noise (Docker drops it too).
  const ref: ImageReference =
    parsed.digest !== undefined
      ? { domain: parsed.domain, path: parsed.path, digest: parsed.digest }
      : parsed;
  const platform: Platform = platformText ? parsePlatformArgument(platformText) : hostPlatform();
  const catalog = deps.catalog();
  const { content, images, snapshots } = catalog.stores;
  const name = formatImageReference(ref);
  const shown = familiarString(ref);
  await catalog.lock.withShared(async () => {
    const before = await images.get(name);
    const layerIds = new Map<string, string>(); // digest → short id
    const present = new Set<string>();
    const reported = new Map<string, number>();
    const result = await pullImage(
      ref,
      {
        content,
        images: catalog.namingStore,
      },
      {
        platform,
        registry: await registryOptions(deps, ref.domain),
        onManifest: async (manifest) => {
          for (const layer of manifest.layers) {
            const id = shortId(layer.digest);
            layerIds.set(layer.digest, id);
            if (await content.info(layer.digest)) {
              present.add(layer.digest);
              send({ id, status: 'Already exists' });
            } else send({ id, status: 'Pulling fs layer' });
          }
        },
        onProgress: ({ digest, current, total }) => {
          const id = layerIds.get(digest);
          if (id === undefined || present.has(digest)) return;
          const last = reported.get(digest) ?? -1;
          // Enough lines to draw a bar by, not one per network chunk.
          if (current !== total && current - last < Math.max(total / 50, 64 * 1024)) return;
          if (current === last) return;
          reported.set(digest, current);
          send({ id, status: 'Downloading', current, total });
          if (current === total) send({ id, status: 'Download complete' });
        },
        beforeNaming: async (manifest) => {
          const config = await catalog.config(manifest);
          const diffIds = config.rootfs?.diff_ids ?? [];
          if (diffIds.length !== manifest.layers.length)
            throw new ManifestError(
              `image config ${manifest.config.digest} lists ${diffIds.length} layers, the manifest ${manifest.layers.length}`,
            );
          const sources = manifest.layers.map((layer, i) => ({
            diffId: diffIds[i]!,
            open: async () => {
              send({ id: shortId(layer.digest), status: 'Extracting', current: 0, total: layer.size });
              return content.reader(layer.digest);
            },
          }));
          await unpackLayers(snapshots, sources, (p) => {
            const layer = manifest.layers[p.layer]!;
            if (p.state === 'unpacked' || !present.has(layer.digest))
              send({ id: shortId(layer.digest), status: 'Pull complete' });
          });
        },
      },
    );
    // Docker keeps the digest a tag was pulled at as a RepoDigest: `repo@sha256:…` names the image too.
    if (ref.digest === undefined) {
      await catalog.name({
        name: `${repositoryName(ref)}@${result.record.target.digest}`,
        target: result.record.target,
        manifest: result.record.manifest,
        platform: result.record.platform,
      });
    }
    send({ status: `Digest: ${result.record.target.digest}` });
    const upToDate = before?.target.digest === result.record.target.digest;
    send({ status: `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${shown}` });
  });
  deps.events.publish('image', 'pull', shown, { name: familiarName(ref) });
}

function parsePlatformArgument(text: string): Platform {
  try {
    return parsePlatform(text);
  } catch (err) {
    throw new InvalidRequestError((err as Error).message);
  }
}

// ---------------------------------------------------------------------------------------------- push

async function push(deps: ImagesDeps, reference: string, send: Send): Promise<void> {
  const ref = parseImageReference(reference);
  const name = formatImageReference(ref);
  const catalog = deps.catalog();
  const { content, images } = catalog.stores;
  await catalog.lock.withShared(async () => {
    const record = await images.get(name);
    if (!record)
      throw new ImageNotFoundError(`An image does not exist locally with the tag: ${familiarString(ref)}`);
    send({ status: `The push refers to repository [${familiarName(ref)}]` });
    const manifest = await catalog.manifestOf(record.manifest);
    const layerIds = new Map(manifest.layers.map((l) => [l.digest as string, shortId(l.digest)]));
    for (const id of layerIds.values()) send({ id, status: 'Preparing' });
    // Blobs pulled from another repository of the same registry are mounted from there, not uploaded.
    const mountSource = (await images.list()).find((r) => {
      const other = parseImageReference(r.name);
      return (
        r.target.digest === record.target.digest && other.domain === ref.domain && other.path !== ref.path
      );
    });
    const origin = parseImageReference(mountSource?.name ?? record.name);
    const result = await pushImage(
      mountSource?.name ?? name,
      ref,
      { content, images },
      {
        registry: await registryOptions(deps, ref.domain),
        onProgress: ({ digest, current, total }) => {
          const id = layerIds.get(digest);
          if (id !== undefined && current < total) send({ id, status: 'Pushing', current, total });
        },
        onBlobPushed: (blob, how) => {
          const id = layerIds.get(blob.digest);
          if (id === undefined) return;
          const status =
            how === 'exists'
              ? 'Layer already exists'
              : how === 'mounted'
                ? `Mounted from ${origin.path}`
                : 'Pushed';
          send({ id, status });
        },
      },
    );
    const size = (await content.info(result.digest))?.size ?? 0;
    send({ status: `${ref.tag ?? ref.digest}: digest: ${result.digest} size: ${size}` });
  });
  deps.events.publish('image', 'push', familiarString(ref), { name: familiarName(ref) });
}

// ---------------------------------------------------------------------------------------------- tag

async function tag(deps: ImagesDeps, source: string, target: string): Promise<void> {
  const targetRef = parseImageReference(target);
  if (targetRef.digest !== undefined)
    throw new InvalidRequestError(`refusing to create a tag with a digest reference: ${target}`);
  const catalog = deps.catalog();
  await catalog.lock.withShared(async () => {
    const image = await catalog.find(source);
    const record = image.records.find((r) => !isDigestName(r)) ?? image.records[0]!;
    await catalog.name({
      name: formatImageReference(targetRef),
      target: record.target,
      manifest: record.manifest,
      platform: record.platform,
    });
    deps.events.publish('image', 'tag', image.id, { name: familiarString(targetRef) });
  });
}

// ---------------------------------------------------------------------------------------------- remove

/**
 * Docker's rmi: a name is untagged; the image goes with its last tag (its digest names of that repository
 * with it). An ID removes every name, refused without force when the names span several repositories. An
 * image a container uses is refused without force; with force its names go and its snapshots stay while a
 * container builds on them.
 */
async function removeImage(
  deps: ImagesDeps,
  target: string,
  force: boolean,
): Promise<{ untagged: string[]; deleted: string[] }> {
  const catalog = deps.catalog();
  return catalog.lock.withExclusive(async () => {
    const image = await catalog.find(target);
    const { images } = catalog.stores;
    const byName = image.records.find((r) => r.name === canonicalNameOf(target));
    const containers = await deps.inUse(image.id);
    const untagged: string[] = [];
    const untag = async (names: readonly string[]) => {
      for (const n of names) {
        if (await images.delete(n)) {
          // the keep-alive name of an unnamed image is no tag: Docker prints only its deletion
          if (!isUntaggedName(n)) untagged.push(familiarString(parseImageReference(n)));
          deps.events.publish('image', 'untag', image.id, { name: image.id });
        }
      }
    };
    if (byName) {
      const rest = image.records.filter((r) => r !== byName);
      const repo = repositoryName(parseImageReference(byName.name));
      const sameRepoDigests = rest.filter(
        (r) => isDigestName(r) && repositoryName(parseImageReference(r.name)) === repo,
      );
      const tagsLeftInRepo = rest.some(
        (r) => !isDigestName(r) && repositoryName(parseImageReference(r.name)) === repo,
      );
      const leftAfter =
        isDigestName(byName) || tagsLeftInRepo ? rest : rest.filter((r) => !sameRepoDigests.includes(r));
      if (leftAfter.length === 0 && containers.length > 0 && !force)
        throw new ImageConflictError(
          `conflict: unable to remove repository reference "${target}" (must force) - container ${containers[0]!.slice(0, 12)} is using its referenced image ${shortId(image.id)}`,
        );
      await untag([byName.name, ...(leftAfter === rest ? [] : sameRepoDigests.map((r) => r.name))]);
      if (leftAfter.length > 0) return { untagged, deleted: [] };
    } else {
      const repos = new Set(image.records.map((r) => repositoryName(parseImageReference(r.name))));
      if (!force && repos.size > 1)
        throw new ImageConflictError(
          `conflict: unable to delete ${shortId(image.id)} (must be forced) - image is referenced in multiple repositories`,
        );
      if (!force && containers.length > 0)
        throw new ImageConflictError(
          `conflict: unable to delete ${shortId(image.id)} (must be forced) - image is being used by container ${containers[0]!.slice(0, 12)}`,
        );
      await untag(image.records.map((r) => r.name));
    }
    const removed = await catalog.removeImages([image]);
    deps.events.publish('image', 'delete', image.id, { name: image.id });
    return { untagged, deleted: removed.deleted };
  });
}

// ---------------------------------------------------------------------------------------------- prune

const PRUNE_FILTERS = new Set(['label', 'until']);

/**
 * `docker image prune [-a]`: images without a tag (every unused one with `all`), none a container uses, then
 * every blob and layer snapshot no name leads to.
 */
async function pruneImages(
  deps: ImagesDeps,
  all: boolean,
  filterArgs: readonly string[],
): Promise<{ deleted: string[]; spaceReclaimed: number }> {
  const filters = parseFilters(filterArgs, PRUNE_FILTERS);
  const until = [...(filters.get('until') ?? [])].map(parseUntil);
  const catalog = deps.catalog();
  return catalog.lock.withExclusive(async () => {
    const victims: LocalImage[] = [];
    for (const image of await catalog.all()) {
      if (!all && image.repoTags.length > 0) continue;
      if (!matchesLabels(image, filters.get('label'))) continue;
      if (until.some((t) => createdUnix(image.config) >= t)) continue;
      if ((await deps.inUse(image.id)).length > 0) continue;
      victims.push(image);
    }
    // With no image to remove, still collect what failed or killed pulls stored without a name.
    const removed = await catalog.removeImages(victims);
    for (const v of victims) deps.events.publish('image', 'delete', v.id, { name: v.id });
    return { deleted: removed.deleted, spaceReclaimed: removed.reclaimed };
  });
}

/** `until=`: a Unix time, an RFC 3339 time, or a duration ago (`24h`, `90m`, `30s`). */
function parseUntil(value: string): number {
  const duration = /^(\d+)(h|m|s)$/.exec(value);
  if (duration) {
    const seconds = Number(duration[1]) * ({ h: 3600, m: 60, s: 1 } as const)[duration[2] as 'h' | 'm' | 's'];
    return Math.floor(Date.now() / 1000) - seconds;
  }
  if (/^\d+$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new InvalidRequestError(`invalid filter 'until=${value}': expected a time or a duration`);
  return Math.floor(t / 1000);
}

// ---------------------------------------------------------------------------------------------- login

/** A registry as `login` takes it: `host[:port]`, a URL, or empty for Docker Hub. */
export function registryDomain(server: string): string {
  const host = server
    .trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/.*$/, '');
  if (host === '' || host === 'index.docker.io' || host === 'registry-1.docker.io') return 'docker.io';
  if (!/^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?$/.test(host))
    throw new InvalidRequestError(`invalid registry ${JSON.stringify(server)}: expected HOST[:PORT]`);
  return host;
}

async function login(
  deps: ImagesDeps,
  server: string,
  username: string,
  password: string,
): Promise<{ status: string }> {
  const domain = registryDomain(server);
  if (username === '' || password === '')
    throw new InvalidRequestError('login needs a username and a password');
  const credentials = { username, password };
  try {
    await new RegistryClient(domain, {
      insecure: deps.insecureRegistries,
      credentials: () => credentials,
    }).ping();
  } catch (err) {
    if (err instanceof RegistryAuthError || (err instanceof RegistryError && err.status === 401))
      throw new LoginRefusedError(`login to ${domain} refused: ${(err as Error).message}`);
    throw err;
  }
  await storeCredentials(deps.credentialsFile, domain, credentials);
  return { status: 'Login Succeeded' };
}

class LoginRefusedError extends Error {
  override readonly name = 'LoginRefusedError';
}

// ---------------------------------------------------------------------------------------------- plumbing

/** The status a failure maps to, with a one-line message. */
export function statusOf(err: unknown): { code: grpc.status; details: string } {
  const message = ((err as Error)?.message ?? String(err)).replace(/\s*\n\s*/g, ' ').trim();
  const code = (() => {
    if (
      err instanceof ImageReferenceError ||
      err instanceof InvalidRequestError ||
      err instanceof DigestError ||
      err instanceof CredentialsError
    )
      return grpc.status.INVALID_ARGUMENT;
    if (err instanceof ImageNotFoundError || err instanceof PlatformError) return grpc.status.NOT_FOUND;
    if (err instanceof ImageConflictError) return grpc.status.FAILED_PRECONDITION;
    if (err instanceof LoginRefusedError) return grpc.status.UNAUTHENTICATED;
    if (err instanceof ImagesNotReadyError) return grpc.status.UNAVAILABLE;
    if (err instanceof RegistryAuthError) return grpc.status.NOT_FOUND;
    if (err instanceof RegistryError) {
      if (err.status === 404 || err.status === 401 || err.status === 403) return grpc.status.NOT_FOUND;
      if (err.status === undefined || err.status >= 500) return grpc.status.UNAVAILABLE;
      return grpc.status.INTERNAL;
    }
    if (err instanceof ManifestError || err instanceof LayerError || err instanceof ContentError)
      return grpc.status.INTERNAL;
    return grpc.status.INTERNAL;
  })();
  return { code, details: registryMessage(err) ?? message };
}

/** Docker's words for the registry's refusals. */
function registryMessage(err: unknown): string | undefined {
  if (err instanceof RegistryAuthError) return `pull access denied: ${err.message}`;
  if (!(err instanceof RegistryError)) return undefined;
  const detail = err.message.replace(/\s*\n\s*/g, ' ');
  if (err.code === 'MANIFEST_UNKNOWN') return `manifest unknown: ${detail}`;
  if (err.code === 'NAME_UNKNOWN' || err.status === 401 || err.status === 403)
    return `pull access denied, repository does not exist or may require 'tsnetctl login': ${detail}`;
  if (err.status === 404) return `manifest unknown: ${detail}`;
  return undefined;
}

function errorStatus(err: unknown): grpc.ServerErrorResponse {
  const { code, details } = statusOf(err);
  return agentErrorStatus(code, details);
}

function unary<Req, Res>(fn: (request: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return unaryHandler(fn, errorStatus);
}

function streaming<Req>(
  fn: (request: Req, send: Send) => Promise<void>,
): grpc.handleServerStreamingCall<Req, ProgressMessage> {
  return (call) => {
    const send: Send = (m) => {
      if (!call.cancelled) call.write(m);
    };
    fn(call.request, send).then(
      () => call.end(),
      (err: unknown) => {
        const status = errorStatus(err);
        send({ status: '', error: status.details ?? '' });
        call.emit('error', status);
      },
    );
  };
}
