// `docker cp` both ways and `docker export`, over a container's files on the host. Paths are resolved inside
// the container's root the way Docker's FollowSymlinkInScope does: a symlink — absolute or full of `..` —
// never leads out of the root. A running container is reached through /proc/PID/root, so its volumes and
// bind mounts are seen as the container sees them; a stopped one through its root filesystem on the host.
//
// Known limit: resolution and use are separate steps, so a process inside a running container that swaps a
// directory for a symlink in between could redirect one write (Docker once had the same race, CVE-2018-15664;
// openat2 with RESOLVE_IN_ROOT would close it and needs a native binding).
import { constants, createReadStream, createWriteStream } from 'node:fs';
import {
  access,
  chmod,
  link,
  lstat,
  lutimes,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  rm,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { createEntryNode, LayerError, layerPath } from '../archive/apply.ts';
import { packTree } from '../archive/tree.ts';
import type { ContainerHandle } from './handle.ts';

/** A copy the user asked for that cannot be done: a missing path, a bad archive. */
export class CopyError extends Error {
  override name = 'CopyError';
}

export class ContainerPathNotFoundError extends CopyError {
  override name = 'ContainerPathNotFoundError';
  constructor(path: string, container: string) {
    super(`Could not find the file ${path} in container ${container}`);
  }
}

/** Linux's own limit on symlinks followed in one lookup. */
const MAX_SYMLINKS = 40;

/** Filesystems the runtime mounts for the container itself: never part of what cp or export copies. */
const RUNTIME_FS_TYPES = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'mqueue', 'devtmpfs']);

/** Where the container's `/` is on the host for reading and writing its files now. */
export function containerRoot(handle: ContainerHandle): string {
  const live = (handle.status === 'running' || handle.status === 'paused') && handle.pid !== undefined;
  return live ? `/proc/${handle.pid}/root` : handle.rootfs;
}

/**
 * The host path of `path` (a path in the container, taken from its `/`) with every symlink resolved inside
 * `root`: an absolute target restarts from `root`, `..` stops at it. The last component is followed only with
 * `followLast`; missing components are kept as they are (the caller's lstat finds them missing).
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string> {
  const resolved: string[] = [];
  const pending = path.split('/');
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    const isLast = pending.every((p) => p === '' || p === '.');
    if (!isLast || followLast) {
      const st = await lstat(candidate).catch(missingAsUndefined);
      if (st?.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS)
          throw new CopyError(`too many levels of symbolic links in ${JSON.stringify(path)}`);
        const target = await readlink(candidate);
        if (target.startsWith('/')) resolved.length = 0;
        pending.unshift(...target.split('/'));
        continue;
      }
    }
    resolved.push(part);
  }
  // The root itself with a trailing "/": /proc/PID/root is a symlink to lstat, the directory with the slash.
  return resolved.length > 0 ? join(root, ...resolved) : `${root.replace(/\/+$/, '')}/`;
}

// ------------------------------------------------------------------------------------------- copy out

/**
 * `docker cp CONTAINER:PATH -`: a tar of the file or directory at `path`, named by its base name. A final
 * symlink is copied as a symlink unless the path ends in `/` or `/.`; `/.` copies a directory's content.
 */
export async function copyFromContainer(handle: ContainerHandle, path: string): Promise<Readable> {
  const absolute = posix.join('/', path);
  const contentOnly = path === '/' || path.endsWith('/.') || path === '.';
  const followLast = contentOnly || path.endsWith('/');
  const root = containerRoot(handle);
  const runtimeMounts = await runtimeMountPoints(handle);
  if (insideAny(absolute, runtimeMounts)) throw new ContainerPathNotFoundError(path, handle.name);
  const hostPath = await resolveInRoot(root, absolute, followLast);
  const st = await lstat(hostPath).catch(missingAsUndefined);
  if (!st) throw new ContainerPathNotFoundError(path, handle.name);
  if (followLast && !st.isDirectory()) throw new CopyError(`${path}: not a directory`);
  const name = contentOnly ? '' : posix.basename(absolute);
  return packTree(hostPath, name, { descend: skipping(root, runtimeMounts) });
}

/**
 * `docker export`: the container's root filesystem without what is mounted on it (volumes, binds, /proc...),
 * read from the rootfs on the host, where the container's mounts are not: a directory on another device than
 * the root is a mount point, written empty.
 */
export async function exportContainer(handle: ContainerHandle): Promise<Readable> {
  const rootSt = await lstat(handle.rootfs).catch(missingAsUndefined);
  if (!rootSt?.isDirectory())
    throw new CopyError(`container ${handle.name} has no root filesystem at ${handle.rootfs}`);
  return packTree(handle.rootfs, '', { descend: (_, st) => st.dev === rootSt.dev });
}

/** Mount points (paths in the container) of the runtime's own filesystems, from the container's mountinfo. */
async function runtimeMountPoints(handle: ContainerHandle): Promise<string[]> {
  if (containerRoot(handle) === handle.rootfs) return [];
  const text = await readFile(`/proc/${handle.pid}/mountinfo`, 'utf8').catch(() => '');
  const points: string[] = [];
  for (const line of text.split('\n')) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
    const [before, after] = line.split(' - ');
    const mountPoint = before?.split(' ')[4];
    const fsType = after?.split(' ')[0];
    if (mountPoint === undefined || fsType === undefined) continue;
    const point = unescapeMountinfo(mountPoint);
    // runc's /dev is a tmpfs of its own; the rootfs's /dev is what Docker copies.
    if (RUNTIME_FS_TYPES.has(fsType) || point === '/dev' || point.startsWith('/dev/')) points.push(point);
  }
  return points;
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

function insideAny(path: string, points: readonly string[]): boolean {
  return points.some((p) => p !== '/' && (path === p || path.startsWith(`${p}/`)));
}

function skipping(root: string, points: readonly string[]) {
  const hostPoints = new Set(points.map((p) => join(root, p)));
  return (hostPath: string) => !hostPoints.has(hostPath);
}

// -------------------------------------------------------------------------------------------- copy in

export interface CopyToOptions {
  /** where the uploaded tar is kept while it is checked (default: the OS temp dir) */
  readonly scratchDir?: string;
}

/**
 * `docker cp - CONTAINER:DIR`: extracts a tar into the directory `path` of the container. The whole archive
 * is checked before anything is written — an entry with `..`, an absolute name or a hard link out of the
 * archive refuses it all. Entries are written as the container's root would write them: symlinks on the way
 * are followed inside the container's root, never out of it. Owners are the container's root (docker cp
 * without -a); modes and times are kept.
 */
export async function copyToContainer(
  handle: ContainerHandle,
  path: string,
  input: Readable,
  options: CopyToOptions = {},
): Promise<{ entries: number }> {
  const absolute = posix.join('/', path);
  const root = containerRoot(handle);
  if (root === handle.rootfs && handle.spec.HostConfig?.ReadonlyRootfs)
    throw new CopyError(`container ${handle.name}: container rootfs is marked read-only`);
  const dest = await resolveInRoot(root, absolute);
  const st = await lstat(dest).catch(missingAsUndefined);
  if (!st) throw new ContainerPathNotFoundError(path, handle.name);
  if (!st.isDirectory()) throw new CopyError(`extraction point is not a directory: ${path}`);
  await access(dest, constants.W_OK).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EROFS') throw new CopyError(`${path} in container ${handle.name} is read-only`);
    throw err;
  });

  const scratch = await mkdtemp(join(options.scratchDir ?? tmpdir(), 'tsnet-cp-'));
  try {
    const spooled = join(scratch, 'upload.tar');
    await pipeline(input, createWriteStream(spooled));
    await forEachEntry(spooled, async (header) => checkEntry(header));
    const extractor = new ScopedExtractor(root, absolute);
    await forEachEntry(spooled, (header, content) => extractor.write(header, content));
    await extractor.finish();
    return { entries: extractor.entries };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

type EntryVisitor = (header: tar.Header, content: AsyncIterable<unknown>) => Promise<void>;

async function forEachEntry(file: string, visit: EntryVisitor): Promise<void> {
  const extract = tar.extract();
  const source = createReadStream(file);
  source.on('error', (err) => extract.destroy(err));
  source.pipe(extract);
  try {
    for await (const entry of extract) {
      try {
        await visit(entry.header, entry);
      } finally {
        entry.resume();
      }
    }
  } catch (err) {
    source.destroy();
    if (err instanceof CopyError) throw err;
    if (err instanceof LayerError) throw new CopyError(err.message);
    throw new CopyError(`not a valid tar archive: ${(err as Error).message}`);
  }
}

const SUPPORTED_TYPES = new Set<string>([
  'file',
  'contiguous-file',
  'directory',
  'symlink',
  'link',
  'fifo',
  'character-device',
  'block-device',
]);

function checkEntry(header: tar.Header): void {
  layerPath(header.name);
  if (!SUPPORTED_TYPES.has(header.type))
    throw new CopyError(`entry ${JSON.stringify(header.name)}: unsupported tar entry type ${header.type}`);
  if (header.type === 'link' && layerPath(header.linkname ?? '').length === 0)
    throw new CopyError(`entry ${JSON.stringify(header.name)}: hard link without a target`);
  if (header.type === 'symlink' && !header.linkname)
    throw new CopyError(`entry ${JSON.stringify(header.name)}: symlink without a target`);
}

/** Writes checked entries below a directory of the container, resolving each parent inside the root. */
class ScopedExtractor {
  entries = 0;
  readonly #dirTimes: { path: string; mtime: Date }[] = [];

  constructor(
    private readonly root: string,
    /** the destination, as a path in the container */
    private readonly dest: string,
  ) {}

  async write(header: tar.Header, content: AsyncIterable<unknown>): Promise<void> {
    const parts = layerPath(header.name);
    if (parts.length === 0) return; // "./": the destination itself keeps its owner and mode
    const parent = await this.#directory(posix.join(this.dest, ...parts.slice(0, -1)), header.name);
    const path = join(parent, parts[parts.length - 1] as string);
    const existing = await lstat(path).catch(missingAsUndefined);
    if (existing && !(existing.isDirectory() && header.type === 'directory')) {
      await rm(path, { recursive: true, force: true });
    }
    await this.#create(header, path, content);
    if (header.type !== 'link') {
      if (header.type !== 'symlink') await chmod(path, (header.mode ?? 0o644) & 0o7777);
      const mtime = header.mtime ?? new Date();
      if (header.type === 'directory') this.#dirTimes.push({ path, mtime });
      else await lutimes(path, mtime, mtime);
    }
    this.entries++;
  }

  async finish(): Promise<void> {
    for (const { path, mtime } of this.#dirTimes.reverse()) await lutimes(path, mtime, mtime);
  }

  /** The host path of a directory of the container, made (0755) where missing, resolved inside the root. */
  async #directory(containerPath: string, entry: string): Promise<string> {
    const hostPath = await resolveInRoot(this.root, containerPath);
    const st = await lstat(hostPath).catch(missingAsUndefined);
    if (st?.isDirectory()) return hostPath;
    if (st) throw new CopyError(`entry ${JSON.stringify(entry)}: ${containerPath} is not a directory`);
    await this.#directory(posix.dirname(containerPath), entry);
    // Resolved again: the parent may itself have been reached through a symlink.
    const made = await resolveInRoot(this.root, containerPath);
    await mkdir(made, { mode: 0o755 });
    return made;
  }

  async #create(header: tar.Header, path: string, content: AsyncIterable<unknown>): Promise<void> {
    if (header.type !== 'link') {
      await createEntryNode(header, path, content, (message) => new CopyError(message));
      return;
    }
    // A hard link's source is an entry written before it, below the destination, resolved inside the root.
    const source = posix.join(this.dest, ...layerPath(header.linkname));
    const target = await resolveInRoot(this.root, source, false);
    const st = await lstat(target).catch(missingAsUndefined);
    if (!st || st.isDirectory())
      throw new CopyError(
        `entry ${JSON.stringify(header.name)}: hard link to ${JSON.stringify(header.linkname)}, which is not a file written before it`,
      );
    await link(target, path);
  }
}

function missingAsUndefined(err: NodeJS.ErrnoException): undefined {
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
  throw err;
}
