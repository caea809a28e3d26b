// Image references normalised as Docker normalises them (distribution/reference's ParseNormalizedNamed):
// `busybox` is `docker.io/library/busybox:latest`. The grammar is the distribution reference grammar:
//
//   reference        := name [ ":" tag ] [ "@" digest ]
//   name             := [domain '/'] path-component ['/' path-component]*
//   domain           := host [':' port-number]
//   host             := domain-name | '[' IPv6address ']'
//   path-component   := alpha-numeric [separator alpha-numeric]*   (lowercase only)
//   separator        := /[_.]|__|[-]+/
//   tag              := /[\w][\w.-]{0,127}/
//   digest           := algorithm ":" hex   (then validated as sha256 / sha512)
import { type Digest, DigestError, parseDigest } from '../content/digest.ts';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_MAX_LENGTH = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const REMAINDER_RE = new RegExp(
  `^(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`,
);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

/** A fully qualified image reference. At least one of `tag` and `digest` is set (a bare name gets `latest`). */
export interface ImageReference {
  /** The registry, `host[:port]`; `docker.io` for Docker Hub. */
  readonly domain: string;
  /** The repository inside the registry, e.g. `library/busybox`. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

export class ImageReferenceError extends Error {
  override readonly name = 'ImageReferenceError';
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid image reference ${JSON.stringify(input)}: ${reason}`);
  }
}

/** Parses and normalises a reference as `docker pull` would (docker.io, library/, :latest). */
export function parseImageReference(input: string): ImageReference {
  if (input === '') throw new ImageReferenceError(input, 'empty');
  if (IDENTIFIER_RE.test(input)) {
    throw new ImageReferenceError(input, 'a 64-digit hex string is an image ID, not a repository name');
  }
  const { domain, remainder } = splitDomain(input);
  if (!DOMAIN_RE.test(domain)) throw new ImageReferenceError(input, `invalid registry host ${domain}`);
  const tagSep = remainder.indexOf(':');
  const remoteName = tagSep >= 0 ? remainder.slice(0, tagSep) : remainder;
  if (remoteName.toLowerCase() !== remoteName) {
    throw new ImageReferenceError(input, `repository name ${remoteName} must be lowercase`);
  }
  const match = REMAINDER_RE.exec(remainder);
  if (!match) throw new ImageReferenceError(input, describeGrammarError(remainder));
  const [, path = '', tag, digestText] = match;
  if (domain.length + 1 + path.length > NAME_MAX_LENGTH) {
    throw new ImageReferenceError(
      input,
      `repository name must not be more than ${NAME_MAX_LENGTH} characters`,
    );
  }
  let digest: Digest | undefined;
  if (digestText !== undefined) {
    try {
      digest = parseDigest(digestText);
    } catch (err) {
      if (err instanceof DigestError) throw new ImageReferenceError(input, err.message);
      throw err;
    }
  }
  if (tag === undefined && digest === undefined) return { domain, path, tag: DEFAULT_TAG };
  return { domain, path, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

// Docker's splitDockerDomain: the first component is a registry only if it looks like a host (has a dot or a
// port, is localhost, or has uppercase letters, which a repository cannot).
function splitDomain(input: string): { domain: string; remainder: string } {
  const slash = input.indexOf('/');
  let domain = DEFAULT_DOMAIN;
  let remainder = input;
  if (slash >= 0) {
    const first = input.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      domain = first;
      remainder = input.slice(slash + 1);
    }
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

function describeGrammarError(remainder: string): string {
  const at = remainder.indexOf('@');
  const beforeDigest = at >= 0 ? remainder.slice(0, at) : remainder;
  const colon = beforeDigest.lastIndexOf(':');
  const tag = colon >= 0 ? beforeDigest.slice(colon + 1) : undefined;
  if (
    at >= 0 &&
    !/^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/.test(remainder.slice(at + 1))
  ) {
    return 'invalid digest (expected sha256:<64 hex digits>)';
  }
  if (tag !== undefined && !TAG_RE.test(tag)) {
    return 'invalid tag (letters, digits, _ . -; at most 128; not starting with . or -)';
  }
  return 'invalid repository name (lowercase letters and digits separated by . _ __ - or /)';
}

/** `domain/path`: the repository's full name. */
export function repositoryName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The canonical form: `docker.io/library/busybox:latest`, `host:5000/a/b@sha256:…`. */
export function formatImageReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The short name Docker shows: `busybox`, `user/app`, `localhost:5000/app`. */
export function familiarName(ref: Pick<ImageReference, 'domain' | 'path'>): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  const rest = ref.path.slice(OFFICIAL_REPO_PREFIX.length);
  return ref.path.startsWith(OFFICIAL_REPO_PREFIX) && !rest.includes('/') ? rest : ref.path;
}

/** The form Docker prints: `busybox:latest`, `localhost:5000/app@sha256:…`. */
export function familiarString(ref: ImageReference): string {
  return `${familiarName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The same repository with another tag (`tsnetctl tag`); the tag is checked against the grammar. */
export function withTag(ref: ImageReference, tag: string): ImageReference {
  if (!TAG_RE.test(tag)) throw new ImageReferenceError(tag, 'invalid tag');
  return { domain: ref.domain, path: ref.path, tag };
}
