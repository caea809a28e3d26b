// Content digests (`algorithm:hex`), validated before they become file names or go over the wire.
import { createHash, type Hash } from 'node:crypto';

/** A validated digest string such as `sha256:` + 64 lowercase hex digits. */
export type Digest = string & { readonly __digest: unique symbol };

export type DigestAlgorithm = 'sha256' | 'sha512';

// The algorithms go-digest registers, with the length of their hex encoding.
const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export class DigestError extends Error {
  override readonly name = 'DigestError';
}

/** Checks `value` is `sha256:<64 hex>` or `sha512:<128 hex>` (lowercase), as go-digest's Validate does. */
export function parseDigest(value: string): Digest {
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (colon <= 0 || !(algorithm in HEX_LENGTH)) {
    throw new DigestError(`invalid digest ${JSON.stringify(value)}: expected sha256:<64 hex digits>`);
  }
  const length = HEX_LENGTH[algorithm as DigestAlgorithm];
  if (hex.length !== length || !/^[0-9a-f]+$/.test(hex)) {
    throw new DigestError(
      `invalid digest ${JSON.stringify(value)}: ${algorithm} needs ${length} lowercase hex digits`,
    );
  }
  return value as Digest;
}

export function isDigest(value: string): value is Digest {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

export function digestAlgorithm(digest: Digest): DigestAlgorithm {
  return digest.slice(0, digest.indexOf(':')) as DigestAlgorithm;
}

export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

/** A running hash for the algorithm of `digest`. */
export function hasherFor(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

/** The digest of bytes in memory (manifests, configs). */
export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}` as Digest;
}
