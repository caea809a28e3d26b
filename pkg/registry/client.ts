// A client of one registry over the OCI distribution API (Node's fetch): manifests, blobs streamed into the
// content store with resume, uploads (monolithic, chunked, cross-repository mount), and the auth dance.
// Plain HTTP only for loopback registries (as Docker does) or those the caller lists as insecure.
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { type Digest, digestAlgorithm, digestOf, parseDigest } from '../content/digest.ts';
import { ContentError, type ContentInfo, type ContentStore, type ContentWriter } from '../content/store.ts';
import {
  type AuthChallenge,
  type BasicCredentials,
  basicAuthorization,
  fetchBearerToken,
  parseAuthChallenge,
} from './auth.ts';
import { MANIFEST_ACCEPT } from './mediatypes.ts';

/** A blob or manifest as a manifest refers to it. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
}

export interface FetchedManifest {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly bytes: Buffer;
}

/** Byte progress of one blob: `current` of `total` bytes are in the store (or at the registry). */
export interface BlobProgress {
  readonly digest: Digest;
  readonly current: number;
  readonly total: number;
}

export type ProgressListener = (progress: BlobProgress) => void;

export interface RegistryClientOptions {
  /** Registries (`host[:port]`) reachable over plain HTTP besides loopback ones. */
  readonly insecure?: readonly string[];
  /** Basic credentials for a registry domain (from `tsnetctl login`); anonymous when undefined. */
  readonly credentials?: (domain: string) => BasicCredentials | undefined;
  /** How often an interrupted blob download resumes before the pull fails. */
  readonly blobRetries?: number;
  /** A blob download that receives nothing for this long is cut and resumed. */
  readonly idleTimeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export interface PushBlobOptions {
  /** Another repository of the same registry that has the blob: mount it instead of uploading. */
  readonly mountFrom?: string;
  /** Upload in PATCH chunks of this many bytes instead of one PUT. */
  readonly chunkSize?: number;
  readonly onProgress?: ProgressListener;
}

export type PushBlobResult = 'exists' | 'mounted' | 'uploaded';

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DOCKER_HUB_ENDPOINT = 'registry-1.docker.io';

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    message: string,
    readonly status?: number,
    /** The registry's error code (`MANIFEST_UNKNOWN`, `BLOB_UNKNOWN`, `DENIED`, ...). */
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** Made anew for each attempt: an auth retry must send the body again. */
  readonly body?: () => Buffer | AsyncIterable<Uint8Array> | undefined;
  /** The token scopes this request needs. */
  readonly scopes: readonly string[];
  /** A full URL (upload locations), else `/v2/...` is resolved against the registry. */
  readonly url?: string;
  readonly signal?: AbortSignal;
}

export class RegistryClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly credentials: BasicCredentials | undefined;
  private readonly blobRetries: number;
  private readonly idleTimeoutMs: number;
  private challenge: AuthChallenge | undefined;
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly domain: string,
    options: RegistryClientOptions = {},
  ) {
    const secure = !(isLoopbackDomain(domain) || options.insecure?.includes(domain));
    const host = domain === 'docker.io' ? DOCKER_HUB_ENDPOINT : domain;
    this.baseUrl = `${secure ? 'https' : 'http'}://${host}`;
    this.fetchImpl = options.fetch ?? fetch;
    this.credentials = options.credentials?.(domain);
    this.blobRetries = options.blobRetries ?? 5;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  }

  /** `GET /v2/`: the registry speaks the distribution API (after authenticating if it asks). */
  async ping(): Promise<void> {
    const response = await this.request('/v2/', { scopes: [] });
    await expectStatus(response, [200], `ping ${this.baseUrl}`);
  }

  /** Fetches a manifest or index by tag or digest, with the full Accept list, and verifies its digest. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const what = `manifest ${this.domain}/${repository}${reference.includes(':') ? '@' : ':'}${reference}`;
    const response = await this.request(`/v2/${repository}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT.join(', ') },
      scopes: [pullScope(repository)],
    });
    await expectStatus(response, [200], `get ${what}`);
    const length = Number(response.headers.get('content-length') ?? '0');
    if (length > MAX_MANIFEST_BYTES) {
      await discardBody(response);
      throw new RegistryError(`${what} is too large (${length} bytes)`);
    }
    let bytes: Buffer;
    try {
      bytes = Buffer.from(await response.arrayBuffer());
    } catch (err) {
      // fetch reports a connection dropped mid-body as a bare TypeError ("terminated")
      throw new RegistryError(
        `get ${what}: the response was cut: ${(err as Error).message}`,
        undefined,
        undefined,
        {
          cause: err,
        },
      );
    }
    if (bytes.length > MAX_MANIFEST_BYTES)
      throw new RegistryError(`${what} is too large (${bytes.length} bytes)`);
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const expected = reference.includes(':') ? parseDigest(reference) : headerDigest(response);
    const digest = digestOf(bytes, expected ? digestAlgorithm(expected) : 'sha256');
    if (expected && digest !== expected) {
      throw new RegistryError(
        `${what} has digest ${digest}, but ${expected} was expected`,
        undefined,
        'DIGEST_INVALID',
      );
    }
    return { mediaType: mediaType || mediaTypeInside(bytes), digest: expected ?? digest, bytes };
  }

  /** `HEAD` of a blob: its size when the repository has it, else undefined. */
  async blobSize(repository: string, digest: Digest): Promise<number | undefined> {
    const response = await this.request(`/v2/${repository}/blobs/${digest}`, {
      method: 'HEAD',
      scopes: [pullScope(repository)],
    });
    if (response.status === 404) return undefined;
    await expectStatus(response, [200], `check blob ${digest} in ${repository}`);
    return Number(response.headers.get('content-length') ?? '0');
  }

  /**
   * Downloads a blob into the store, verifying size and digest. An interrupted transfer resumes with `Range`
   * from what is already stored, also what an earlier, killed pull left in the store's ingest.
   */
  async fetchBlob(
    repository: string,
    descriptor: Pick<Descriptor, 'digest' | 'size'>,
    store: ContentStore,
    onProgress?: ProgressListener,
  ): Promise<ContentInfo> {
    const { digest, size } = descriptor;
    // The ref is the digest: two pulls of one layer share the ingest, and the second waits for the first.
    const opened = await store.openWriter({ ref: `fetch-${digest}`, expected: digest, size });
    if (opened.status === 'exists') {
      if (opened.info.size !== size) {
        throw new ContentError(
          'size-mismatch',
          `blob ${digest} is ${opened.info.size} bytes, the manifest says ${size}`,
        );
      }
      onProgress?.({ digest, current: size, total: size });
      return opened.info;
    }
    const { writer } = opened;
    try {
      let lastError: unknown;
      for (let attempt = 0; attempt <= this.blobRetries; attempt++) {
        try {
          await this.downloadInto(repository, digest, size, writer, onProgress);
          if (writer.offset === size) return await writer.commit();
          lastError = new RegistryError(`blob ${digest} ended after ${writer.offset} of ${size} bytes`);
        } catch (err) {
          if (!isTransferInterruption(err)) throw err;
          lastError = err;
        }
      }
      throw new RegistryError(
        `cannot download blob ${digest} from ${this.domain}/${repository} after ${this.blobRetries + 1} attempts: ${(lastError as Error).message} (${writer.offset} of ${size} bytes kept for resume)`,
        undefined,
        undefined,
        { cause: lastError },
      );
    } finally {
      await writer.close(); // no-op after commit; keeps a partial download for the next pull
    }
  }

  private async downloadInto(
    repository: string,
    digest: Digest,
    size: number,
    writer: ContentWriter,
    onProgress: ProgressListener | undefined,
  ): Promise<void> {
    const offset = writer.offset;
    if (offset === size) return;
    // A registry that stops sending without closing would hang the pull: cut the transfer when idle.
    const idle = new AbortController();
    let timer = setTimeout(() => idle.abort(), this.idleTimeoutMs);
    const stillAlive = () => {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(), this.idleTimeoutMs);
    };
    try {
      const response = await this.request(`/v2/${repository}/blobs/${digest}`, {
        headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
        scopes: [pullScope(repository)],
        signal: idle.signal,
      });
      if (offset > 0 && response.status === 416) {
        await discardBody(response);
        await writer.truncate(); // our partial data does not fit this blob: start over
        throw new TransferInterrupted(`the registry refused to resume ${digest} at ${offset}`);
      }
      await expectStatus(response, [200, 206], `get blob ${digest} from ${repository}`);
      if (response.status === 206) {
        const start = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1];
        if (Number(start) !== offset) {
          await discardBody(response);
          await writer.truncate();
          throw new TransferInterrupted(
            `the registry resumed ${digest} at ${start ?? '?'} instead of ${offset}`,
          );
        }
      } else if (offset > 0) {
        await writer.truncate(); // the registry ignored Range and sends everything
      }
      if (!response.body) throw new TransferInterrupted(`blob ${digest} came without a body`);
      onProgress?.({ digest, current: writer.offset, total: size });
      try {
        for await (const chunk of response.body) {
          stillAlive();
          await writer.write(chunk);
          onProgress?.({ digest, current: writer.offset, total: size });
        }
      } catch (err) {
        if (err instanceof ContentError) throw err; // too large: not an interruption
        const reason = idle.signal.aborted ? `no data for ${this.idleTimeoutMs} ms` : (err as Error).message;
        throw new TransferInterrupted(`download of ${digest} broke off: ${reason}`, { cause: err });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Uploads a blob from the store unless the repository has it; mounts it from `mountFrom` when possible. */
  async pushBlob(
    repository: string,
    descriptor: Pick<Descriptor, 'digest' | 'size'>,
    store: ContentStore,
    options: PushBlobOptions = {},
  ): Promise<PushBlobResult> {
    const { digest, size } = descriptor;
    const done = () => options.onProgress?.({ digest, current: size, total: size });
    if ((await this.blobSize(repository, digest)) !== undefined) {
      done();
      return 'exists';
    }
    const scopes = [pushScope(repository), ...(options.mountFrom ? [pullScope(options.mountFrom)] : [])];
    const query = options.mountFrom
      ? `?${new URLSearchParams({ mount: digest, from: options.mountFrom })}`
      : '';
    const started = await this.request(`/v2/${repository}/blobs/uploads/${query}`, {
      method: 'POST',
      scopes,
    });
    await expectStatus(started, [201, 202], `start the upload of ${digest} to ${repository}`);
    if (started.status === 201) {
      done();
      return 'mounted';
    }
    let location = this.uploadLocation(started, digest);
    const chunkSize = options.chunkSize;
    if (chunkSize !== undefined && chunkSize > 0 && size > chunkSize) {
      const data = await store.readBytes(digest);
      for (let at = 0; at < size; at += chunkSize) {
        const chunk = data.subarray(at, Math.min(at + chunkSize, size));
        const patched = await this.request('', {
          url: location,
          method: 'PATCH',
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${at}-${at + chunk.length - 1}`,
            'content-length': String(chunk.length),
          },
          body: () => chunk,
          scopes,
        });
        await expectStatus(patched, [202], `upload bytes ${at}- of ${digest} to ${repository}`);
        location = this.uploadLocation(patched, digest);
        options.onProgress?.({ digest, current: at + chunk.length, total: size });
      }
      await this.finishUpload(location, digest, repository, scopes, undefined);
    } else {
      await this.finishUpload(location, digest, repository, scopes, {
        size,
        open: async () => countingBytes(await store.reader(digest), digest, size, options.onProgress),
      });
    }
    done();
    return 'uploaded';
  }

  private async finishUpload(
    location: string,
    digest: Digest,
    repository: string,
    scopes: readonly string[],
    content: { size: number; open: () => Promise<AsyncIterable<Uint8Array>> } | undefined,
  ): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    // The body stream is opened before the request, as fetch reads it synchronously from the factory. A stream
    // cannot be sent twice, but the POST that began the upload already earned the token for these scopes.
    const stream = content ? await content.open() : undefined;
    const response = await this.request('', {
      url: url.toString(),
      method: 'PUT',
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(content?.size ?? 0),
      },
      body: () => stream,
      scopes,
    });
    await expectStatus(response, [201], `finish the upload of ${digest} to ${repository}`);
  }

  private uploadLocation(response: Response, digest: Digest): string {
    const location = response.headers.get('location');
    if (!location)
      throw new RegistryError(`the registry gave no upload location for ${digest}`, response.status);
    return new URL(location, this.baseUrl).toString();
  }

  /** `PUT` of a manifest under a tag or digest; returns the digest the registry stored it under. */
  async putManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Buffer,
  ): Promise<Digest> {
    const response = await this.request(`/v2/${repository}/manifests/${reference}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body: () => bytes,
      scopes: [pushScope(repository)],
    });
    await expectStatus(response, [201], `put manifest ${this.domain}/${repository}:${reference}`);
    return headerDigest(response) ?? digestOf(bytes);
  }

  /** One request with the current authorization; on a 401 answers the challenge once and tries again. */
  private async request(path: string, options: RequestOptions): Promise<Response> {
    const url = options.url ?? `${this.baseUrl}${path}`;
    let response = await this.send(url, options, await this.authorizationFor(options.scopes));
    if (response.status !== 401) return response;
    const header = response.headers.get('www-authenticate');
    await discardBody(response);
    const challenge = header ? parseAuthChallenge(header) : undefined;
    if (!challenge)
      throw new RegistryError(`${url}: HTTP 401 without a usable WWW-Authenticate challenge`, 401);
    this.challenge = challenge;
    this.tokens.clear();
    response = await this.send(
      url,
      options,
      await this.authorizationFor(options.scopes, challenge.params['scope']),
    );
    if (response.status === 401) {
      await discardBody(response);
      const who = this.credentials ? `user ${this.credentials.username}` : 'anonymous access';
      throw new RegistryError(
        `${this.domain} refused ${who} for ${options.scopes.join(' ') || url}`,
        401,
        'UNAUTHORIZED',
      );
    }
    return response;
  }

  private async authorizationFor(
    scopes: readonly string[],
    challengeScope?: string,
  ): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      if (!this.credentials)
        throw new RegistryError(`${this.domain} needs credentials (basic auth)`, 401, 'UNAUTHORIZED');
      return basicAuthorization(this.credentials);
    }
    if (challenge.scheme !== 'bearer') {
      throw new RegistryError(`${this.domain} asks for unsupported auth scheme ${challenge.scheme}`, 401);
    }
    // Cached by the request's scopes: a ping (no scopes) reuses the token its challenge's scope got.
    const key = scopes.join(' ');
    const wanted = scopes.length > 0 ? scopes : challengeScope ? [challengeScope] : [];
    let token = this.tokens.get(key);
    if (!token) {
      token = await fetchBearerToken(challenge, wanted, this.credentials, this.fetchImpl);
      this.tokens.set(key, token);
    }
    return token;
  }

  private async send(
    url: string,
    options: RequestOptions,
    authorization: string | undefined,
  ): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (authorization) headers['authorization'] = authorization;
    const body = options.body?.();
    try {
      return await this.fetchImpl(url, {
        method: options.method ?? 'GET',
        headers,
        ...(options.signal !== undefined && { signal: options.signal }),
        ...(body !== undefined && { body: body as unknown as RequestInit['body'], duplex: 'half' }),
      } as RequestInit);
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message;
      throw new TransferInterrupted(
        `cannot reach ${new URL(url).origin} (${options.method ?? 'GET'} ${new URL(url).pathname}): ${cause ?? (err as Error).message}`,
        { cause: err },
      );
    }
  }
}

/** Passes a blob's bytes through, reporting how many went by. */
async function* countingBytes(
  source: Readable,
  digest: Digest,
  total: number,
  onProgress: ProgressListener | undefined,
): AsyncGenerator<Uint8Array> {
  let current = 0;
  for await (const chunk of source) {
    current += (chunk as Buffer).length;
    yield chunk as Buffer;
    onProgress?.({ digest, current, total });
  }
}

/** A network failure or a broken-off body: worth retrying (resuming). */
class TransferInterrupted extends RegistryError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, undefined, undefined, options);
  }
}

function isTransferInterruption(err: unknown): boolean {
  return err instanceof TransferInterrupted;
}

function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

function headerDigest(response: Response): Digest | undefined {
  const value = response.headers.get('docker-content-digest');
  if (!value) return undefined;
  try {
    return parseDigest(value);
  } catch {
    return undefined;
  }
}

function mediaTypeInside(bytes: Buffer): string {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown };
    return typeof parsed.mediaType === 'string' ? parsed.mediaType : '';
  } catch {
    return '';
  }
}

async function expectStatus(response: Response, ok: readonly number[], what: string): Promise<void> {
  if (ok.includes(response.status)) return;
  let code: string | undefined;
  let detail = '';
  try {
    const body = (await response.json()) as { errors?: { code?: string; message?: string }[] };
    code = body.errors?.[0]?.code;
    detail = body.errors?.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ') ?? '';
  } catch {
    // not a registry error document
  }
  throw new RegistryError(
    `${what}: HTTP ${response.status}${detail ? ` (${detail})` : ''}`,
    response.status,
    code,
  );
}

/** `localhost`, 127.0.0.0/8 and ::1, with or without a port: plain HTTP is allowed there, as Docker allows. */
export function isLoopbackDomain(domain: string): boolean {
  const host = domain.startsWith('[') ? domain.slice(1, domain.indexOf(']')) : domain.replace(/:\d+$/, '');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return isIP(host) === 6 && (host === '::1' || host === '0:0:0:0:0:0:0:1');
}

/** Drops a response's body unread; a body already cut (a dropped connection) has nothing left to drop. */
async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}
