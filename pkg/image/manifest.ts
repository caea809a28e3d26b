// Image manifests and indexes (Docker schema 2 and OCI), parsed from registry bytes and checked before use:
// every digest valid, every size a non-negative integer, so nothing unchecked reaches the content store.
import { type Digest, parseDigest } from '../content/digest.ts';
import type { Descriptor } from '../registry/client.ts';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  isImageManifestMediaType,
  isIndexMediaType,
  OCI_INDEX,
  OCI_MANIFEST,
} from '../registry/mediatypes.ts';
import type { Platform } from './platform.ts';

export type { Descriptor };

export interface IndexEntry extends Descriptor {
  readonly platform?: Platform;
}

export interface ImageManifest {
  readonly kind: 'manifest';
  readonly mediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
}

export interface ImageIndex {
  readonly kind: 'index';
  readonly mediaType: string;
  readonly manifests: readonly IndexEntry[];
}

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

/** Parses a manifest or index; `mediaType` is the registry's Content-Type (the body's own field wins if absent). */
export function parseManifest(
  bytes: Uint8Array,
  mediaType: string,
  what: string,
): ImageManifest | ImageIndex {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ManifestError(`${what} is not JSON: ${(err as Error).message}`);
  }
  if (typeof body !== 'object' || body === null) throw new ManifestError(`${what} is not a JSON object`);
  if (body['schemaVersion'] !== 2) {
    throw new ManifestError(
      `${what} has schemaVersion ${String(body['schemaVersion'])}; only schema 2 is supported`,
    );
  }
  const type = mediaTypeOf(body, mediaType, what);
  if (isIndexMediaType(type)) {
    if (!Array.isArray(body['manifests']))
      throw new ManifestError(`${what} (an index) has no manifests array`);
    return {
      kind: 'index',
      mediaType: type,
      manifests: body['manifests'].map((m, i) => parseIndexEntry(m, `${what} manifests[${i}]`)),
    };
  }
  if (!Array.isArray(body['layers'])) throw new ManifestError(`${what} has no layers array`);
  return {
    kind: 'manifest',
    mediaType: type,
    config: parseDescriptor(body['config'], `${what} config`),
    layers: body['layers'].map((l, i) => parseDescriptor(l, `${what} layers[${i}]`)),
  };
}

function mediaTypeOf(body: Record<string, unknown>, header: string, what: string): string {
  const inside = typeof body['mediaType'] === 'string' ? body['mediaType'] : undefined;
  const known = (t: string | undefined) =>
    t !== undefined && (isIndexMediaType(t) || isImageManifestMediaType(t));
  if (known(header)) {
    if (inside !== undefined && inside !== header) {
      throw new ManifestError(`${what} says it is ${inside} but was served as ${header}`);
    }
    return header;
  }
  if (known(inside)) return inside!;
  // OCI allows omitting mediaType: tell an index from a manifest by its shape.
  if (Array.isArray(body['manifests'])) return OCI_INDEX;
  if (body['config'] !== undefined) return OCI_MANIFEST;
  throw new ManifestError(
    `${what} has an unsupported media type ${header || inside || '(none)'}; supported: ${[OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST].join(', ')}`,
  );
}

export function parseDescriptor(value: unknown, what: string): Descriptor {
  if (typeof value !== 'object' || value === null) throw new ManifestError(`${what} is not a descriptor`);
  const d = value as Record<string, unknown>;
  if (typeof d['mediaType'] !== 'string') throw new ManifestError(`${what} has no mediaType`);
  if (typeof d['size'] !== 'number' || !Number.isSafeInteger(d['size']) || d['size'] < 0) {
    throw new ManifestError(`${what} has an invalid size ${String(d['size'])}`);
  }
  let digest: Digest;
  try {
    digest = parseDigest(String(d['digest']));
  } catch (err) {
    throw new ManifestError(`${what}: ${(err as Error).message}`);
  }
  return { mediaType: d['mediaType'], digest, size: d['size'] };
}

function parseIndexEntry(value: unknown, what: string): IndexEntry {
  const descriptor = parseDescriptor(value, what);
  const p = (value as Record<string, unknown>)['platform'];
  if (typeof p !== 'object' || p === null) return descriptor;
  const platform = p as Record<string, unknown>;
  if (typeof platform['os'] !== 'string' || typeof platform['architecture'] !== 'string') {
    throw new ManifestError(`${what} has a platform without os and architecture`);
  }
  return {
    ...descriptor,
    platform: {
      os: platform['os'],
      architecture: platform['architecture'],
      ...(typeof platform['variant'] === 'string' &&
        platform['variant'] !== '' && { variant: platform['variant'] }),
    },
  };
}
