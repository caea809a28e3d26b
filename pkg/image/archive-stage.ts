// Reads an image archive (a tar, gzip-compressed or not) into a scratch directory: every regular file is
// written to disk and hashed as it streams past, so nothing is held in memory and nothing reaches the content
// store until the whole archive has been read and checked. Archive writers put manifest.json last, so the
// archive's meaning is only known at its end; the loader decides then what to store.
//
// Entry names are validated (no absolute names, no `..`, no NUL); symlinks and hard links are kept as aliases
// of other entries (Docker's older `save` links a shared layer.tar to the first copy), resolved inside the
// archive only. Devices, FIFOs and other entry types are refused.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { LayerError, layerPath } from '../archive/apply.ts';
import { detectCompression } from '../archive/compression.ts';
import type { Digest } from '../content/digest.ts';
import { removeOrphanedTemps, tempPathFor } from '../fsutil/atomic.ts';

/** An archive that cannot be loaded: bad tar, bad entry, missing or inconsistent parts. */
export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
}

export interface StagedFile {
  /** The entry's name in the archive, normalised (`a/b`, no `./`). */
  readonly name: string;
  readonly path: string;
  readonly size: number;
  /** sha256 of the entry's bytes as stored in the archive. */
  readonly digest: Digest;
}

export interface StagedArchive {
  readonly dir: string;
  /** The file an archive name refers to, following links. */
  file(name: string): StagedFile | undefined;
  /** Reads a small entry (manifests, configs) as JSON; a clear error when it is missing, large or not JSON. */
  readJson(name: string): Promise<unknown>;
  remove(): Promise<void>;
}

const MAX_ENTRIES = 100_000;
/** Metadata entries (manifest.json, configs, index.json) are read into memory: bound them. */
const MAX_JSON_BYTES = 16 << 20;
const MAX_LINK_HOPS = 16;
/** Scratch entries are named as fsutil's temporaries (with the writer's pid), so a sweep knows the dead ones. */
const STAGING_NAME = 'archive';
export const IMPORT_SCRATCH_NAME = 'import.tar.gz';
/** A build's unpacked context (pkg/api/images-build.ts). */
export const BUILD_CONTEXT_NAME = 'build-context';

/** Removes what loads and imports killed mid-way left in `scratchDir` (their process is gone); returns names. */
export function sweepScratch(scratchDir: string): string[] {
  return removeOrphanedTemps(scratchDir, {
    targets: [STAGING_NAME, IMPORT_SCRATCH_NAME, BUILD_CONTEXT_NAME],
  });
}

/** Stages `input` under a new directory in `scratchDir`; on failure nothing is left behind. */
export async function stageArchive(
  input: Readable | AsyncIterable<Uint8Array>,
  scratchDir: string,
): Promise<StagedArchive> {
  const dir = tempPathFor(join(scratchDir, STAGING_NAME));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = new Map<string, StagedFile>();
  const links = new Map<string, string>(); // normalised name -> normalised target name
  try {
    await readEntries(input instanceof Readable ? input : Readable.from(input), dir, files, links);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    if (err instanceof ArchiveError) throw err;
    if (err instanceof LayerError) throw new ArchiveError(`archive ${err.message}`);
    throw new ArchiveError(`archive is not a valid tar stream: ${(err as Error).message}`);
  }

  const resolve = (name: string): StagedFile | undefined => {
    let current = normalise(name);
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const file = files.get(current);
      if (file) return file;
      const target = links.get(current);
      if (target === undefined) return undefined;
      current = target;
    }
    return undefined;
  };
  return {
    dir,
    file: resolve,
    async readJson(name) {
      const file = resolve(name);
      if (!file) throw new ArchiveError(`archive has no ${name}`);
      if (file.size > MAX_JSON_BYTES)
        throw new ArchiveError(`archive entry ${name} is ${file.size} bytes, more than metadata may be`);
      try {
        return JSON.parse(await readFile(file.path, 'utf8')) as unknown;
      } catch (err) {
        throw new ArchiveError(`archive entry ${name} is not JSON: ${(err as Error).message}`);
      }
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

async function readEntries(
  raw: Readable,
  dir: string,
  files: Map<string, StagedFile>,
  links: Map<string, string>,
): Promise<void> {
  const { compression, stream } = await detectCompression(raw);
  if (compression === 'zstd')
    throw new ArchiveError('archive is zstd-compressed: this Node cannot decode it');
  const tarStream = compression === 'gzip' ? stream.pipe(createGunzip()) : stream;
  if (tarStream !== stream) stream.on('error', (err) => tarStream.destroy(err));
  const extract = tar.extract();
  tarStream.on('error', (err) => extract.destroy(err));
  tarStream.pipe(extract);
  let count = 0;
  let sawEnd = false;
  try {
    for await (const entry of extract) {
      try {
        if (++count > MAX_ENTRIES) throw new ArchiveError(`archive has more than ${MAX_ENTRIES} entries`);
        await stageEntry(entry.header, entry, dir, count, files, links);
      } finally {
        entry.resume();
      }
    }
    sawEnd = true;
  } finally {
    if (!sawEnd) tarStream.destroy();
  }
  if (count === 0) throw new ArchiveError('archive is empty (no tar entries)');
}

async function stageEntry(
  header: tar.Header,
  content: AsyncIterable<unknown>,
  dir: string,
  index: number,
  files: Map<string, StagedFile>,
  links: Map<string, string>,
): Promise<void> {
  const name = layerPath(header.name).join('/');
  switch (header.type) {
    case 'directory':
      return;
    case 'file':
    case 'contiguous-file': {
      if (name === '')
        throw new ArchiveError(`archive entry ${JSON.stringify(header.name)}: a file without a name`);
      if (files.has(name) || links.has(name)) throw new ArchiveError(`archive has ${name} twice`);
      const path = join(dir, String(index));
      const hash = createHash('sha256');
      let size = 0;
      const file = await open(path, 'wx', 0o600);
      try {
        for await (const chunk of content) {
          const bytes = chunk as Uint8Array;
          hash.update(bytes);
          size += bytes.length;
          await file.write(bytes);
        }
      } finally {
        await file.close();
      }
      if (size !== header.size)
        throw new ArchiveError(`archive entry ${name} is truncated: ${size} of ${header.size} bytes`);
      files.set(name, { name, path, size, digest: `sha256:${hash.digest('hex')}` as Digest });
      return;
    }
    case 'symlink':
    case 'link': {
      const target = linkTarget(name, header.linkname ?? '', header.type);
      if (files.has(name) || links.has(name)) throw new ArchiveError(`archive has ${name} twice`);
      links.set(name, target);
      return;
    }
    default:
      throw new ArchiveError(
        `archive entry ${JSON.stringify(header.name)}: ${header.type} entries have no place in an image archive`,
      );
  }
}

/** A link's target as an archive name: a symlink is relative to its own directory, a hard link to the root. */
function linkTarget(name: string, linkname: string, type: 'symlink' | 'link'): string {
  const joined = type === 'symlink' ? posix.join(posix.dirname(name), linkname) : linkname;
  const target = posix.normalize(joined);
  if (linkname === '' || posix.isAbsolute(linkname) || target === '..' || target.startsWith('../')) {
    throw new ArchiveError(
      `archive entry ${name}: link to ${JSON.stringify(linkname)} points outside the archive`,
    );
  }
  return normalise(target);
}

function normalise(name: string): string {
  return name
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/');
}
