// The build context: a directory minus what `.dockerignore` excludes (Docker's rules, `!` exceptions included,
// through @balena/dockerignore), the sources a COPY/ADD names matched in it (wildcards with Go's filepath.Match
// semantics, as Docker matches them), and a content hash of what a copy takes, for the build cache. Sources may
// not leave the context, neither by `..` nor through a symlink.
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, open, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, posix, sep } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { Ignore } from '@balena/dockerignore';
import { applyLayer } from '../archive/apply.ts';
import { byCodeUnits } from '../text/order.ts';

// The package is CommonJS (`module.exports = factory`) while its typings declare an ES default export, which
// NodeNext then reads as `{ default }`: require gives the factory under the type its typings mean.
const ignore = createRequire(import.meta.url)(
  '@balena/dockerignore',
) as typeof import('@balena/dockerignore').default;

/** A COPY/ADD source that cannot be used. */
export class ContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextError';
  }
}

export interface ContextEntry {
  /** Path relative to the context root, `/`-separated. */
  path: string;
  stats: Stats;
}

/** What one COPY/ADD source selects: the matched top entries and everything below them. */
export interface SourceSelection {
  /** The source as written (after expansion). */
  source: string;
  /** Entries the source names directly (a directory's content is copied, not the directory itself). */
  matches: ContextEntry[];
  /** Every entry copied (matches and, for directories, their included content), sorted by path. */
  entries: ContextEntry[];
}

export class BuildContext {
  private constructor(
    /** The context directory (real path). */
    readonly root: string,
    private readonly ignorer: Ignore,
    /** Whether `.dockerignore` re-includes (`!`) anything: an excluded directory may then hold included files. */
    readonly hasExceptions: boolean,
  ) {}

  /** Opens `dir` as a context, reading its `.dockerignore` (absent: nothing excluded). */
  static async open(dir: string): Promise<BuildContext> {
    const root = await realpath(dir).catch((err: NodeJS.ErrnoException) => {
      throw new ContextError(
        `build context ${dir}: ${err.code === 'ENOENT' ? 'no such directory' : err.message}`,
      );
    });
    const st = await lstat(root);
    if (!st.isDirectory()) throw new ContextError(`build context ${dir}: not a directory`);
    const text = await readFile(join(root, '.dockerignore'), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    const patterns = parseDockerignore(text);
    return new BuildContext(
      root,
      ignore().add(patterns),
      patterns.some((p) => p.startsWith('!')),
    );
  }

  /**
   * Whether the context includes `path` (relative). The Dockerfile and .dockerignore are read even when
   * excluded, but are then not copied (Docker documents exactly this).
   */
  includes(path: string): boolean {
    return path === '' || !this.ignorer.ignores(path);
  }

  /** Matches the COPY/ADD sources against the context; a source that matches nothing is an error. */
  async select(sources: readonly string[]): Promise<SourceSelection[]> {
    const out: SourceSelection[] = [];
    for (const source of sources) out.push(await this.#selectOne(source));
    return out;
  }

  async #selectOne(source: string): Promise<SourceSelection> {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) || source.startsWith('git@'))
      throw new ContextError(
        `${source}: URL and git sources are not supported (copy the file into the context)`,
      );
    const cleaned = contextPath(source);
    let matches: ContextEntry[];
    if (hasWildcard(cleaned)) {
      const pattern = compileGoPattern(cleaned);
      matches = (await this.#walk('')).filter((e) => pattern.test(e.path));
    } else {
      await this.#refuseEscape(source, cleaned);
      const stats = await lstat(join(this.root, cleaned)).catch(() => undefined);
      matches = stats && this.includes(cleaned) ? [{ path: cleaned, stats }] : [];
      // An excluded directory may still hold re-included (`!`) files: then it is copied with those.
      if (!matches.length && stats?.isDirectory() && (await this.#walk(cleaned)).length > 0)
        matches = [{ path: cleaned, stats }];
    }
    if (matches.length === 0)
      throw new ContextError(
        `${source}: not found in the build context${cleaned !== '' && this.ignorer.ignores(cleaned) ? ' (excluded by .dockerignore)' : ''}`,
      );
    const entries = new Map<string, ContextEntry>();
    for (const m of matches) {
      if (this.includes(m.path)) entries.set(m.path, m);
      if (m.stats.isDirectory()) for (const e of await this.#walk(m.path)) entries.set(e.path, e);
    }
    return {
      source,
      matches,
      entries: [...entries.values()].sort((a, b) => byCodeUnits(a.path, b.path)),
    };
  }

  /** A path through a symlink that points out of the context is refused, as Docker refuses it. */
  async #refuseEscape(source: string, cleaned: string): Promise<void> {
    const parts = cleaned.split('/').filter(Boolean);
    // Parents only: the source itself, if a symlink, is copied as a symlink.
    for (let i = 1; i < parts.length; i++) {
      const path = join(this.root, ...parts.slice(0, i));
      const st = await lstat(path).catch(() => undefined);
      if (!st?.isSymbolicLink()) continue;
      const real = await realpath(path).catch(() => undefined);
      if (real === undefined || (real !== this.root && !real.startsWith(this.root + sep)))
        throw new ContextError(
          `${source}: forbidden path outside the build context (through the symlink ${parts.slice(0, i).join('/')})`,
        );
    }
  }

  /** Included entries below `dir` (relative), depth first in path order, not following symlinks. */
  async #walk(dir: string): Promise<ContextEntry[]> {
    const out: ContextEntry[] = [];
    const visit = async (rel: string) => {
      const names = await readdir(join(this.root, rel)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOTDIR' || err.code === 'ENOENT') return [];
        throw err;
      });
      for (const name of names.sort(byCodeUnits)) {
        const path = rel === '' ? name : `${rel}/${name}`;
        const stats = await lstat(join(this.root, path));
        const entry = { path, stats };
        if (this.includes(path)) out.push(entry);
        if (stats.isDirectory()) await visit(path);
      }
    };
    await visit(dir);
    return out;
  }

  /**
   * sha256 over what the selections copy: paths relative to each match, types, modes, symlink targets and file
   * contents. Times and owners are left out, so touching a file does not invalidate the cache; editing it does.
   */
  async contentHash(selections: readonly SourceSelection[]): Promise<string> {
    const hash = createHash('sha256');
    for (const selection of selections) {
      hash.update(`source ${selection.source}\0`);
      for (const entry of selection.entries) {
        const { stats } = entry;
        const kind = stats.isDirectory() ? 'd' : stats.isSymbolicLink() ? 'l' : stats.isFile() ? 'f' : 'o';
        hash.update(`${entry.path}\0${kind}\0${(stats.mode & 0o7777).toString(8)}\0`);
        if (kind === 'l') hash.update(await readlink(join(this.root, entry.path)));
        if (kind === 'f') hash.update(await fileDigest(join(this.root, entry.path)));
        hash.update('\n');
      }
    }
    return `sha256:${hash.digest('hex')}`;
  }

  /**
   * What of the context a client sends (as Docker's CLI sends it): the included entries and `.dockerignore`
   * (the agent reads it again); an excluded directory is left out whole unless an exception may re-include
   * something below it.
   */
  sends(path: string, isDirectory: boolean): 'keep' | 'skip' | 'content' {
    if (path === '.dockerignore' || this.includes(path)) return 'keep';
    return isDirectory && this.hasExceptions ? 'content' : 'skip';
  }

  /** The host path of a context-relative path. */
  hostPath(path: string): string {
    return join(this.root, ...path.split('/'));
  }
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `.dockerignore` lines → patterns: comments and blank lines dropped, each pattern cleaned as Docker does. */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.startsWith('#')) continue;
    let line = raw.trim();
    if (line === '') continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1).trim();
    line = posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '');
    if (line === '' || line === '.') continue;
    patterns.push(negate ? `!${line}` : line);
  }
  return patterns;
}

/** A source path relative to the context root; `..` that would leave the root is refused. */
export function contextPath(source: string): string {
  const normal = posix.normalize(`/${source}`);
  const escapes = posix.normalize(source.replace(/^\/+/, '')).split('/')[0] === '..';
  if (escapes) throw new ContextError(`${source}: forbidden path outside the build context`);
  return normal.replace(/^\/+/, '').replace(/\/+$/, '');
}

function hasWildcard(path: string): boolean {
  return /[*?[]/.test(path);
}

/**
 * Go's filepath.Match as a RegExp over `/`-separated paths: `*` any run of non-separators, `?` one, `[...]`
 * a class (`^` negates, ranges allowed), `\` escapes. Malformed patterns are an error, as Go's ErrBadPattern.
 */
export function compileGoPattern(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      const next = pattern[++i];
      if (next === undefined) throw new ContextError(`${pattern}: syntax error in pattern (trailing \\)`);
      re += escapeRegExp(next);
    } else if (c === '[') {
      const end = classEnd(pattern, i);
      if (end < 0) throw new ContextError(`${pattern}: syntax error in pattern (unclosed [)`);
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      if (body === '') throw new ContextError(`${pattern}: syntax error in pattern (empty class)`);
      const cls = body.replace(/\\(.)/g, '$1').replace(/[\]\\^]/g, '\\$&');
      re += negate ? `[^/${cls}]` : `[${cls}]`;
      i = end;
    } else re += escapeRegExp(c);
  }
  return new RegExp(`^${re}$`, 'u');
}

function classEnd(pattern: string, open: number): number {
  for (let j = open + 1; j < pattern.length; j++) {
    if (pattern[j] === '\\') j++;
    else if (pattern[j] === ']' && j > open + 1 + (pattern[open + 1] === '^' ? 1 : 0)) return j;
  }
  return -1;
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Where a copied entry lands: Docker's rules for a destination ending in `/`, several sources, a directory. */
export function destinationOf(
  entry: string,
  match: ContextEntry,
  dest: string,
  manySources: boolean,
): string {
  const toDir = dest.endsWith('/') || manySources || match.stats.isDirectory();
  const below = match.stats.isDirectory()
    ? posix.relative(`/${match.path}`, `/${entry}`)
    : posix.basename(entry);
  if (match.stats.isDirectory() && entry === match.path) return posix.normalize(dest);
  return toDir ? posix.join(dest, below) : posix.normalize(dest);
}

/**
 * Whether ADD should unpack `hostPath`: a tar, plain or gzip-compressed, recognised by its content (the name
 * does not matter, as in Docker). bzip2 and xz are not read here; such a file is copied as it is.
 */
export async function localArchiveCompression(hostPath: string): Promise<'none' | 'gzip' | undefined> {
  const head = await readHead(hostPath, 512);
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const inner = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      let length = 0;
      const gunzip = createGunzip();
      const source = createReadStream(hostPath);
      const stop = () => {
        source.destroy();
        gunzip.destroy();
        resolve(Buffer.concat(chunks).subarray(0, 512));
      };
      gunzip.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        if (length >= 512) stop();
      });
      gunzip.on('end', stop);
      gunzip.on('error', stop);
      source.on('error', stop);
      source.pipe(gunzip);
    });
    return isTarHeader(inner) ? 'gzip' : undefined;
  }
  return isTarHeader(head) ? 'none' : undefined;
}

async function readHead(path: string, size: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buf = Buffer.alloc(size);
    const { bytesRead } = await file.read(buf, 0, size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/** A ustar/GNU header: the magic at 257 and a header checksum that adds up. */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  const magic = block.subarray(257, 262).toString('latin1');
  if (magic !== 'ustar') return false;
  const stored = Number.parseInt(block.subarray(148, 156).toString('latin1').replace(/\0.*$/, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return stored === sum;
}

/**
 * ADD of a local archive: unpacked into `dest` (an existing directory of the stage's root), owners, modes,
 * times and xattrs kept, nothing written outside `dest` (apply.ts refuses escapes and writes through symlinks).
 * Unlike Docker, an entry named `.wh.*` becomes a whiteout, since apply.ts reads the tar as a layer.
 */
export async function extractArchive(hostPath: string, dest: string): Promise<void> {
  await applyLayer(createReadStream(hostPath), dest);
}
