// Which stored image a user means: a name (`busybox`, `host:5000/app:v1`) first, else an image ID (the config
// digest, `sha256:<hex>` or a unique prefix of its hex), as Docker resolves `docker save ARG`.
import type { ContentStore } from '../content/store.ts';
import { parseManifest } from './manifest.ts';
import { ImageReferenceError } from './reference.ts';
import type { ImageRecord, ImageStore } from './store.ts';

export class NoSuchImageError extends Error {
  override readonly name = 'NoSuchImageError';
}

export interface ResolvedImage {
  readonly record: ImageRecord;
  /** False when the request was an ID: Docker then writes no RepoTags for it. */
  readonly byName: boolean;
}

const ID_RE = /^(?:sha256:)?([0-9a-f]{1,64})$/;

export async function resolveImage(
  request: string,
  deps: { readonly content: ContentStore; readonly images: ImageStore },
): Promise<ResolvedImage> {
  try {
    const record = await deps.images.get(request);
    if (record) return { record, byName: true };
  } catch (err) {
    if (!(err instanceof ImageReferenceError)) throw err;
    if (!ID_RE.test(request)) throw err;
  }
  const id = ID_RE.exec(request)?.[1];
  if (id === undefined) throw new NoSuchImageError(`no such image: ${request}`);
  const matches = new Map<string, ImageRecord>();
  for (const record of await deps.images.list()) {
    const configDigest = await configDigestOf(record, deps.content);
    if (configDigest?.slice('sha256:'.length).startsWith(id) && !matches.has(configDigest))
      matches.set(configDigest, record);
  }
  if (matches.size > 1)
    throw new NoSuchImageError(`image ID ${request} is ambiguous: it matches ${matches.size} images`);
  const record = [...matches.values()][0];
  if (!record) throw new NoSuchImageError(`no such image: ${request}`);
  return { record, byName: false };
}

async function configDigestOf(record: ImageRecord, content: ContentStore): Promise<string | undefined> {
  try {
    const parsed = parseManifest(
      await content.readBytes(record.manifest.digest),
      record.manifest.mediaType,
      record.name,
    );
    return parsed.kind === 'manifest' ? parsed.config.digest : undefined;
  } catch {
    return undefined; // a name whose manifest is gone cannot be what the ID means
  }
}
