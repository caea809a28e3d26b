// Network namespaces: named ones compatible with `ip netns` (bind mounts under /run/netns), entering and
// leaving them, identity by inode, and per-namespace sysctls.
import {
  closeSync,
  constants as fsc,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import {
  CLONE_NEWNET,
  gettid,
  MNT_DETACH,
  MS_BIND,
  MS_REC,
  MS_SHARED,
  mount,
  SyscallError,
  setns,
  umount2,
  unshare,
} from '../../native/libc.ts';

export const NETNS_RUN_DIR = '/run/netns';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$/;

/** An open reference to a network namespace (a file descriptor on its nsfs inode). */
export interface Netns {
  readonly fd: number;
  readonly path: string;
  /** `dev:ino` of the nsfs inode: equal for the same namespace, whatever path opened it. */
  readonly id: string;
  close(): void;
}

/** Validates a namespace name the way `ip netns` would accept it as a file name. */
export function validateNetnsName(name: string): void {
  if (!NAME_RE.test(name) || name === '.' || name === '..') {
    throw new Error(
      `invalid network namespace name ${JSON.stringify(name)}: use letters, digits, '_', '.', '-'`,
    );
  }
}

export function namedNetnsPath(name: string): string {
  validateNetnsName(name);
  return `${NETNS_RUN_DIR}/${name}`;
}

/** Opens a namespace by path (/run/netns/NAME, /proc/PID/ns/net, ...). */
export function openNetns(path: string): Netns {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY);
  } catch (err) {
    throw new Error(`open network namespace ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const st = fstatSync(fd);
  let closed = false;
  return {
    fd,
    path,
    id: `${st.dev}:${st.ino}`,
    close() {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

/** The namespace of the calling thread. */
export function currentNetns(): Netns {
  return openNetns(`/proc/self/task/${gettid()}/ns/net`);
}

/** Identity of the namespace at `path` without keeping it open. */
export function netnsId(path: string): string {
  const st = statSync(path);
  return `${st.dev}:${st.ino}`;
}

/** True when both paths refer to one namespace. */
export function sameNetns(a: string, b: string): boolean {
  return netnsId(a) === netnsId(b);
}

/** True when `path` is a network namespace file (an nsfs inode), not a plain file or a missing path. */
export function isNetns(path: string): boolean {
  try {
    const ns = openNetns(path);
    try {
      setnsCheck(ns.fd);
      return true;
    } finally {
      ns.close();
    }
  } catch {
    return false;
  }
}

// setns into the current namespace is a no-op that still validates the fd type (EINVAL if not a netns).
function setnsCheck(fd: number): void {
  const self = currentNetns();
  try {
    setns(fd, CLONE_NEWNET);
  } finally {
    setns(self.fd, CLONE_NEWNET);
    self.close();
  }
}

/**
 * Runs `fn` with the calling thread inside the namespace at `path` and always returns to the original one,
 * also when `fn` throws. `fn` must be synchronous: an await inside would let other code run in the wrong
 * namespace. Sockets and child processes created inside stay bound to that namespace.
 */
export function withNetns<T>(path: string, fn: () => T): T {
  const target = openNetns(path);
  let origin: Netns;
  try {
    origin = currentNetns();
  } catch (err) {
    target.close();
    throw err;
  }
  try {
    setns(target.fd, CLONE_NEWNET);
    try {
      const result = fn();
      if (result instanceof Promise) {
        throw new Error(
          'withNetns: the function must be synchronous; open sockets inside and use them after',
        );
      }
      return result;
    } finally {
      setns(origin.fd, CLONE_NEWNET);
    }
  } finally {
    origin.close();
    target.close();
  }
}

function ensureRunDirShared(): void {
  mkdirSync(NETNS_RUN_DIR, { recursive: true, mode: 0o755 });
  try {
    mount('', NETNS_RUN_DIR, 'none', MS_SHARED | MS_REC, null);
  } catch (err) {
    if (!(err instanceof SyscallError) || err.code !== 'EINVAL') throw err;
    // Not a mount point yet: bind it onto itself, then make it shared (what `ip netns add` does).
    mount(NETNS_RUN_DIR, NETNS_RUN_DIR, 'none', MS_BIND | MS_REC, null);
    mount('', NETNS_RUN_DIR, 'none', MS_SHARED | MS_REC, null);
  }
}

/**
 * Creates a named namespace at /run/netns/NAME, visible to `ip netns`. Fails with EEXIST when the name is
 * taken. Returns its path.
 */
export function createNamedNetns(name: string): string {
  const path = namedNetnsPath(name);
  ensureRunDirShared();
  return createNetnsAt(path);
}

/**
 * Creates a new network namespace kept alive by a bind mount of its nsfs inode on `path` (a new file; EEXIST
 * when it exists), e.g. a container's namespace under the agent's run dir. Returns `path`.
 */
export function createNetnsAt(path: string): string {
  closeSync(openSync(path, fsc.O_RDONLY | fsc.O_CREAT | fsc.O_EXCL, 0o444));
  const origin = currentNetns();
  try {
    unshare(CLONE_NEWNET);
    try {
      mount(`/proc/self/task/${gettid()}/ns/net`, path, 'none', MS_BIND, null);
    } finally {
      setns(origin.fd, CLONE_NEWNET);
    }
  } catch (err) {
    try {
      unlinkSync(path);
    } catch {
      // the file may already be gone; the original error matters
    }
    throw err;
  } finally {
    origin.close();
  }
  return path;
}

/** Deletes a named namespace (lazy unmount, then unlink). Missing is not an error. */
export function deleteNamedNetns(name: string): void {
  deleteNetnsAt(namedNetnsPath(name));
}

/** Releases the namespace bound at `path` (lazy unmount, then unlink). Missing is not an error. */
export function deleteNetnsAt(path: string): void {
  try {
    umount2(path, MNT_DETACH);
  } catch (err) {
    if (!(err instanceof SyscallError) || (err.code !== 'EINVAL' && err.code !== 'ENOENT')) throw err;
  }
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function sysctlPath(key: string): string {
  if (!/^net[./][A-Za-z0-9_.\-/]+$/.test(key) || key.includes('..')) {
    throw new Error(`invalid network sysctl key ${JSON.stringify(key)}`);
  }
  // Interface names may contain '.', so callers pass them with '/' (net/ipv4/conf/eth0.100/forwarding) or dots.
  return `/proc/sys/${key.includes('/') ? key : key.replaceAll('.', '/')}`;
}

/** Reads a network sysctl (`net.ipv4.ip_forward`) as seen from the namespace at `netnsPath`. */
export function readSysctl(netnsPath: string, key: string): string {
  const path = sysctlPath(key);
  return withNetns(netnsPath, () => readFileSync(path, 'utf8').trim());
}

/** Writes a network sysctl inside the namespace at `netnsPath`; skips the write when already set. */
export function writeSysctl(netnsPath: string, key: string, value: string): void {
  const path = sysctlPath(key);
  withNetns(netnsPath, () => {
    if (readFileSync(path, 'utf8').trim() === value) return;
    writeFileSync(path, value);
  });
}

/** Sysctl path for one interface, safe for names containing dots. */
export function interfaceSysctlKey(family: 'ipv4' | 'ipv6', ifname: string, setting: string): string {
  if (ifname.includes('/') || ifname === '.' || ifname === '..')
    throw new Error(`invalid interface name ${ifname}`);
  return `net/${family}/conf/${ifname}/${setting}`;
}
