// The build cache: a step's key is a hash of what decides its result (the parent's chain ID, the instruction
// with its words expanded, the variables a RUN sees, and for COPY/ADD the content hash of what it copies; not
// the line number, the comments or file times), and the index maps a key to the layer the step made and the
// config change it recorded. One file per key under the cache directory, each written temp + fsync + rename,
// so concurrent builds and crashes leave entries either complete or absent.
import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fsutil/atomic.ts';
import { readTextIfExists } from '../fsutil/read.ts';
import { canonicalJson } from '../text/canonical-json.ts';
import type { HistoryEntry, ImageRuntimeConfig } from './config.ts';
import type { Instruction } from './dockerfile.ts';

export interface CacheKeyInput {
  /** The chain ID of the stage's layers so far (or the base image's; `scratch` for none). */
  parentChainId: string;
  /** The instruction after expansion (its line and source text are left out of the key). */
  instruction: Instruction;
  /** `KEY=value` a RUN runs with (ENV and ARG), in any order. */
  env?: readonly string[];
  /** The argv a RUN runs, after SHELL wrapping (a SHELL change invalidates RUN). */
  argv?: readonly string[];
  /** The working directory and user a RUN or COPY runs with. */
  workdir?: string;
  user?: string;
  /** BuildContext.contentHash of a COPY/ADD's sources (or the digest of the stage/image it copies from). */
  contentHash?: string;
}

/** sha256 over a canonical form of the input: same meaning, same key. */
export function cacheKey(input: CacheKeyInput): string {
  const { line: _line, text: _text, ...instruction } = input.instruction;
  const canonical = {
    parent: input.parentChainId,
    instruction,
    env: input.env ? [...input.env].sort() : undefined,
    argv: input.argv,
    workdir: input.workdir,
    user: input.user,
    content: input.contentHash,
  };
  return `sha256:${createHash('sha256').update(canonicalJson(canonical)).digest('hex')}`;
}

export interface CachedLayer {
  /** Digest of the compressed layer blob in the content store. */
  digest: string;
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids entry). */
  diffId: string;
  size: number;
  mediaType: string;
}

export interface CacheEntry {
  /** The layer the step made; absent for a step that changed no file. */
  layer?: CachedLayer;
  /** What the step changed in the config (applied over the parent's config on a hit). */
  configDelta?: Partial<ImageRuntimeConfig>;
  history: HistoryEntry;
}

const KEY = /^sha256:([0-9a-f]{64})$/;

export interface BuildCacheOptions {
  /** --no-cache: every lookup misses; results are still recorded for later builds, as Docker does. */
  noCache?: boolean;
}

export class BuildCache {
  constructor(
    private readonly dir: string,
    private readonly options: BuildCacheOptions = {},
  ) {}

  #path(key: string): string {
    const m = KEY.exec(key);
    if (!m) throw new Error(`invalid build cache key ${JSON.stringify(key)}`);
    return join(this.dir, `${m[1]}.json`);
  }

  /** The entry for `key`, or undefined (a miss, --no-cache, or an unreadable entry, which is dropped). */
  async lookup(key: string): Promise<CacheEntry | undefined> {
    if (this.options.noCache) return undefined;
    const path = this.#path(key);
    const text = await readTextIfExists(path);
    if (text === undefined) return undefined;
    const entry = parseEntry(text);
    if (!entry) await rm(path, { force: true }); // written by a different version or damaged: rebuild the step
    return entry;
  }

  async store(key: string, entry: CacheEntry): Promise<void> {
    const path = this.#path(key);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  }

  /** Drops an entry (its layer blob is gone from the content store: a hit would dangle). */
  async forget(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }
}

function parseEntry(text: string): CacheEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const entry = value as Record<string, unknown>;
  const history = entry.history as Record<string, unknown> | undefined;
  if (!history || typeof history.created_by !== 'string') return undefined;
  const layer = entry.layer as Record<string, unknown> | undefined;
  if (
    layer !== undefined &&
    (typeof layer.digest !== 'string' || typeof layer.diffId !== 'string' || typeof layer.size !== 'number')
  )
    return undefined;
  return value as CacheEntry;
}
