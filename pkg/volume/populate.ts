// Docker's copy of an image's content into an empty volume on first use: what the image holds at the mount
// point is copied with its modes, owners, times, symlinks, hard links, device nodes and extended attributes
// (those the volume's filesystem takes), and the volume's root gets the mode and owner of the image's
// directory. Paths in the image are resolved inside the image: its symbolic links never lead to the host.
import { constants, type Stats } from 'node:fs';
import {
  chmod,
  copyFile,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  readdir,
  readlink,
  realpath,
  rm,
  symlink,
} from 'node:fs/promises';
import { join, posix } from 'node:path';
import { lgetxattr, llistxattr, lsetxattr, mknod } from '../../native/libc.ts';

const MAX_SYMLINKS = 40;

/**
 * `path` (absolute, in the image) as a host path under `root`, following the image's symbolic links as the
 * container would see them ("/" is `root`, ".." stops there); undefined when it does not exist.
 */
export async function resolveInRoot(root: string, path: string): Promise<string | undefined> {
  const pending = path.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const component = pending.shift()!;
    if (component === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, component);
    let st: Stats;
    try {
      st = await lstat(candidate);
    } catch (err) {
      if (
        (err as NodeJS.ErrnoException).code === 'ENOENT' ||
        (err as NodeJS.ErrnoException).code === 'ENOTDIR'
      )
        return undefined;
      throw err;
    }
    if (!st.isSymbolicLink()) {
      resolved.push(component);
      continue;
    }
    if (++links > MAX_SYMLINKS)
      throw new Error(`resolving ${path} in the image: too many levels of symbolic links`);
    const target = await readlink(candidate);
    if (posix.isAbsolute(target)) resolved.length = 0;
    pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
  }
  return join(root, ...resolved);
}

/** Errors that mean "this filesystem does not take that attribute": the copy goes on without it. */
const XATTR_UNSUPPORTED = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EPERM', 'EACCES', 'EINVAL']);

function copyXattrs(source: string, destination: string): void {
  let names: string[];
  try {
    names = llistxattr(source);
  } catch {
    return;
  }
  for (const name of names) {
    const value = lgetxattr(source, name);
    if (value === undefined) continue;
    try {
      lsetxattr(destination, name, value);
    } catch (err) {
      if (!XATTR_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
}

function deviceNumbers(rdev: number): { major: number; minor: number } {
  const r = BigInt(rdev);
  return {
    major: Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn)),
    minor: Number((r & 0xffn) | ((r >> 12n) & ~0xffn)),
  };
}

/** Owner, mode (after chown, which clears set-id bits), attributes and times of `source` onto `destination`. */
async function copyMetadata(source: string, destination: string, st: Stats): Promise<void> {
  await lchown(destination, st.uid, st.gid);
  if (!st.isSymbolicLink()) await chmod(destination, st.mode & 0o7777);
  copyXattrs(source, destination);
  await lutimes(destination, st.atime, st.mtime);
}

class TreeCopy {
  /** (dev, inode) of a multiply linked file → its first copy, so hard links stay links */
  private readonly linked = new Map<string, string>();

  async copyEntry(source: string, destination: string): Promise<void> {
    const st = await lstat(source);
    if (st.isDirectory()) {
      await mkdir(destination, { mode: 0o700 });
      await this.copyChildren(source, destination);
    } else if (st.isSymbolicLink()) {
      await symlink(await readlink(source), destination);
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? this.linked.get(key) : undefined;
      if (first !== undefined) {
        await link(first, destination);
        return;
      }
      await copyFile(source, destination, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      if (st.nlink > 1) this.linked.set(key, destination);
    } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      const { major, minor } = deviceNumbers(st.rdev);
      mknod(destination, st.mode, major, minor);
    } else return; // a socket is a live endpoint, not content
    await copyMetadata(source, destination, st);
  }

  async copyChildren(source: string, destination: string): Promise<void> {
    for (const name of await readdir(source))
      await this.copyEntry(join(source, name), join(destination, name));
  }
}

/**
 * Copies what the image holds at `target` into `volumeDir` when the volume is empty and the image has a
 * directory there; answers whether it copied.
 */
export async function populateVolume(
  imageRootfs: string,
  target: string,
  volumeDir: string,
): Promise<boolean> {
  if ((await readdir(volumeDir)).length > 0) return false;
  const source = await resolveInRoot(imageRootfs, target);
  if (source === undefined) return false;
  const st = await lstat(source);
  if (!st.isDirectory()) return false;
  const [from, into] = [await realpath(source), await realpath(volumeDir)];
  if (into === from || into.startsWith(`${from}/`))
    throw new Error(`copying the image's ${target} into the volume: the volume lies inside it`);
  try {
    await new TreeCopy().copyChildren(source, volumeDir);
  } catch (err) {
    // half a copy would count as content next time: the volume stays empty instead
    for (const name of await readdir(volumeDir))
      await rm(join(volumeDir, name), { recursive: true, force: true });
    throw new Error(`copying the image's ${target} into the volume: ${(err as Error).message}`, {
      cause: err,
    });
  }
  await lchown(volumeDir, st.uid, st.gid);
  await chmod(volumeDir, st.mode & 0o7777);
  return true;
}
