// Whether a CNI request means the same to the agent as to the plugin that forwarded it. A request names
// paths (CNI_NETNS, CNI_PATH, data dirs and files in its configuration); an agent in another mount namespace
// (a DaemonSet container) may see other files under the same names. Each path is resolved in both views,
// the plugin's through /proc/<pid>/root with its symlinks followed inside that root (the kernel would
// resolve an absolute symlink met under /proc/<pid>/root against the agent's root instead), and the objects
// found are compared by device and inode.
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { posix } from 'node:path';

/** Paths every served plugin may use beyond what the request names. */
const DEFAULT_PATHS = ['/var/lib/cni', '/run/tsnet', '/run/netns'];
const MAX_SYMLINKS = 40;

/** What a path is in one view: the identity of the object, or of its nearest existing ancestor + the rest. */
type Identity = string;

function identity(root: string, path: string): Identity {
  const parts = posix.normalize(path).split('/').filter(Boolean);
  let resolved: string[] = [];
  let followed = 0;
  while (parts.length > 0) {
    const part = parts.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    if (part === '.') continue;
    const candidate = [...resolved, part];
    const full = `${root}/${candidate.join('/')}`;
    let isLink: boolean;
    try {
      isLink = lstatSync(full).isSymbolicLink();
    } catch {
      // Missing here: the identity is the nearest ancestor that exists and the names below it.
      return `${idOf(`${root}/${resolved.join('/')}`)}+${[part, ...parts].join('/')}`;
    }
    if (!isLink) {
      resolved = candidate;
      continue;
    }
    if (++followed > MAX_SYMLINKS) return `loop:${path}`;
    const target = readlinkSync(full);
    if (target.startsWith('/')) resolved = [];
    parts.unshift(...target.split('/').filter(Boolean));
  }
  return idOf(`${root}/${resolved.join('/')}`);
}

function idOf(path: string): string {
  const st = statSync(path.length > 1 ? path.replace(/\/$/, '') : '/');
  return `${st.dev}:${st.ino}`;
}

/** Absolute paths a request depends on: CNI_NETNS, CNI_PATH entries, and any absolute path in its config. */
export function requestPaths(env: Record<string, string>, stdin: string): string[] {
  const paths = new Set(DEFAULT_PATHS);
  const netns = env['CNI_NETNS'];
  if (netns?.startsWith('/')) paths.add(netns);
  for (const dir of (env['CNI_PATH'] ?? '').split(':')) if (dir.startsWith('/')) paths.add(dir);
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.startsWith('/') && !v.includes('\0') && v.length < 4096) paths.add(v);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  try {
    visit(JSON.parse(stdin));
  } catch {
    // not JSON: the plugin answers that itself
  }
  return [...paths];
}

/**
 * The first of `paths` that the process `pid` sees as something else than this process does, or undefined
 * when every one is the same object (or equally absent) in both views.
 */
export function firstDifferentPath(pid: number, paths: readonly string[]): string | undefined {
  const peerRoot = `/proc/${pid}/root`;
  for (const path of paths) {
    try {
      if (identity(peerRoot, path) !== identity('', path)) return path;
    } catch {
      return path; // unreadable in one view: not known to be the same
    }
  }
  return undefined;
}
