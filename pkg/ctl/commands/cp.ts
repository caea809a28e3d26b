// tsnetctl cp: files between a container and here, both ways, as docker cp does: `-` is a tar on
// stdin/stdout; a local path is packed or unpacked here (tar-stream), with docker's naming rules (into an
// existing directory; else the copy takes the destination's name). Unpacking refuses entries that would land
// outside the destination, through `..` or a symlink.
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readlink, realpath, rm, stat, symlink, utimes } from 'node:fs/promises';
import { basename, dirname, join, posix, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as grpc from '@grpc/grpc-js';
import { Command } from 'commander';
import tar from 'tar-stream';
import { ApiCallError, callError } from '../../api/client.ts';
import type { ArchiveChunk__Output } from '../../api/generated/tsnet/v1/ArchiveChunk.ts';
import { FlagError } from '../errors.ts';
import type { CliContext } from './context.ts';

const CHUNK_BYTES = 256 << 10;

/** docker's splitCpArg: `CONTAINER:PATH`, unless the argument is a path (absolute or relative with `.`). */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const colon = arg.indexOf(':');
  if (colon <= 0) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** The call is made when the data is first read: its failure cannot come before anyone listens. */
async function* archiveData(
  host: string,
  open: () => AsyncIterable<ArchiveChunk__Output>,
): AsyncIterable<Buffer> {
  try {
    for await (const chunk of open()) yield chunk.data;
  } catch (err) {
    throw callError(host, err);
  }
}

/** What is at `path` in the container: the first entry of its tar (then the call is cut); undefined: nothing. */
async function statInContainer(
  ctx: CliContext,
  container: string,
  path: string,
): Promise<tar.Header | undefined> {
  const agent = ctx.agent();
  let call: ReturnType<typeof agent.copyFrom> | undefined;
  const extract = tar.extract();
  const open = () => {
    call = agent.copyFrom(container, path);
    return call;
  };
  const feed = pipeline(Readable.from(archiveData(agent.host, open)), extract).catch((err: unknown) => err);
  const notFound = (err: unknown) => err instanceof ApiCallError && err.code === grpc.status.NOT_FOUND;
  try {
    for await (const entry of extract) {
      entry.resume();
      return entry.header;
    }
  } catch (err) {
    const failure = (await feed) ?? err;
    if (notFound(failure)) return undefined;
    throw failure;
  } finally {
    call?.cancel();
    extract.destroy();
  }
  const failure = await feed;
  if (failure && !notFound(failure)) throw failure;
  return undefined;
}

/** Packs `source` as `rootName` (its subtree below), streaming file contents. */
function packPath(source: string, rootName: string): tar.Pack {
  const pack = tar.pack();
  const add = async (path: string, name: string): Promise<void> => {
    const st = await lstat(path);
    const header = { name, mode: st.mode & 0o7777, mtime: st.mtime, uid: st.uid, gid: st.gid };
    if (st.isDirectory()) {
      pack.entry({ ...header, type: 'directory' });
      for (const child of (await readdir(path)).sort()) await add(join(path, child), posix.join(name, child));
    } else if (st.isSymbolicLink()) {
      pack.entry({ ...header, type: 'symlink', linkname: await readlink(path) });
    } else if (st.isFile()) {
      const entry = pack.entry({ ...header, type: 'file', size: st.size });
      await pipeline(createReadStream(path), entry);
    }
    // Sockets, fifos and devices are not copied (docker cp skips what it cannot archive).
  };
  add(source, rootName).then(
    () => pack.finalize(),
    (err: unknown) => pack.destroy(err as Error),
  );
  return pack;
}

/** Unpacks a tar into `dir`, the top entry renamed to `rootName` when given; nothing lands outside `dir`. */
async function unpackInto(data: AsyncIterable<Buffer>, dir: string, rootName?: string): Promise<void> {
  const root = await realpath(dir);
  const extract = tar.extract();
  const feed = pipeline(Readable.from(data), extract);
  let top: string | undefined;
  const inside = (p: string) => p === root || p.startsWith(root + sep);
  for await (const entry of extract) {
    const h = entry.header;
    const parts = posix
      .normalize(h.name)
      .split('/')
      .filter((p) => p !== '' && p !== '.');
    if (parts.length === 0 || parts.includes('..')) {
      entry.resume();
      if (parts.includes('..'))
        throw new Error(`refusing archive entry ${JSON.stringify(h.name)}: outside the destination`);
      continue;
    }
    top ??= parts[0];
    if (rootName !== undefined && parts[0] === top) parts[0] = rootName;
    const target = join(root, ...parts);
    // A symlink unpacked earlier must not carry a later entry out of the destination.
    const parent = await realpath(dirname(target)).catch(() => undefined);
    if (!parent || !inside(parent)) {
      entry.resume();
      throw new Error(`refusing archive entry ${JSON.stringify(h.name)}: outside the destination`);
    }
    const mode = (h.mode ?? 0o644) & 0o7777;
    if (h.type === 'directory') {
      await mkdir(target, { recursive: true, mode });
      entry.resume();
    } else if (h.type === 'file' || h.type === 'contiguous-file') {
      await rm(target, { force: true });
      await pipeline(entry, createWriteStream(target, { mode }));
      if (h.mtime) await utimes(target, h.mtime, h.mtime);
    } else if (h.type === 'symlink') {
      entry.resume();
      await rm(target, { force: true });
      await symlink(h.linkname ?? '', target);
    } else entry.resume();
  }
  await feed;
}

async function copyFromContainer(
  ctx: CliContext,
  container: string,
  path: string,
  dest: string,
): Promise<void> {
  const agent = ctx.agent();
  const data = archiveData(agent.host, () => agent.copyFrom(container, path));
  if (dest === '-') {
    await pipeline(Readable.from(data), ctx.stdout, { end: false });
    return;
  }
  const target = resolve(dest);
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) return unpackInto(data, target);
  const parent = await stat(dirname(target)).catch(() => undefined);
  if (!parent?.isDirectory()) throw new Error(`no such directory: ${dirname(dest)}`);
  return unpackInto(data, dirname(target), basename(target));
}

async function copyToContainer(
  ctx: CliContext,
  source: string,
  container: string,
  path: string,
): Promise<void> {
  let tarData: AsyncIterable<Buffer>;
  let into = path;
  if (source === '-') tarData = ctx.stdin as AsyncIterable<Buffer>;
  else {
    const local = await lstat(source).catch(() => undefined);
    if (!local) throw new Error(`lstat ${source}: no such file or directory`);
    const there = await statInContainer(ctx, container, path);
    let rootName = basename(resolve(source));
    if (there?.type === 'directory') {
      // into the directory, under the source's own name
    } else if (local.isDirectory() && there) {
      throw new Error(`cannot copy directory to file: ${container}:${path}`);
    } else {
      rootName = posix.basename(path);
      into = posix.dirname(path);
    }
    tarData = packPath(source, rootName) as unknown as AsyncIterable<Buffer>;
  }
  const agent = ctx.agent();
  const { stream, done } = agent.copyTo();
  done.catch(() => {}); // read after the upload, which may fail first
  stream.write({ options: { container, path: into } });
  try {
    for await (const piece of tarData)
      for (let at = 0; at < piece.length; at += CHUNK_BYTES)
        if (!stream.write({ data: piece.subarray(at, at + CHUNK_BYTES) }))
          await new Promise((r) => stream.once('drain', r));
  } catch (err) {
    stream.cancel();
    throw err;
  }
  stream.end();
  await done;
}

export function cpCommand(ctx: CliContext, name = 'cp'): Command {
  return new Command(name)
    .description('Copy files/folders between a container and the local filesystem')
    .usage(
      '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       tsnetctl cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
    )
    .argument('<SRC>')
    .argument('<DEST>')
    .action(async (src: string, dest: string) => {
      const from = splitCpArg(src);
      const to = splitCpArg(dest);
      if (from.container && to.container) throw new FlagError('copying between containers is not supported');
      if (from.container) return copyFromContainer(ctx, from.container, from.path, dest);
      if (to.container) return copyToContainer(ctx, src, to.container, to.path);
      throw new FlagError('must specify at least one container source');
    });
}
