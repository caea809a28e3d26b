// Which cgroup hierarchies this host has, read from /proc/self/mountinfo: the v1 controllers with their
// mount points, and the cgroup2 mount. A host with any v1 controller is driven through v1 (the "hybrid"
// layout keeps its cgroup2 mount nearly empty, as runc also assumes).
import { readFileSync } from 'node:fs';

export type CgroupMode = 'v1' | 'hybrid' | 'v2';

/** The v1 controllers the manager drives (name=systemd is tracked too, so processes join it like runc's). */
export const V1_CONTROLLERS = [
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'blkio',
  'pids',
  'name=systemd',
] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

export interface CgroupLayout {
  readonly mode: CgroupMode;
  /** v1: controller → mount point (co-mounted controllers share one). */
  readonly v1: ReadonlyMap<V1Controller, string>;
  /** The cgroup2 mount point, when there is one. */
  readonly unified: string | undefined;
}

export class CgroupError extends Error {
  override name = 'CgroupError';
}

/** Parses mountinfo text (see proc(5)): fields before " - " then fstype, source, super options. */
export function parseCgroupLayout(mountinfo: string): CgroupLayout {
  const v1 = new Map<V1Controller, string>();
  let unified: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fields = line.slice(0, sep).split(' ');
    const [fstype, , superOptions = ''] = line.slice(sep + 3).split(' ');
    const mountPoint = unescapeMountPath(fields[4] ?? '');
    if (fstype === 'cgroup2') {
      unified ??= mountPoint;
    } else if (fstype === 'cgroup') {
      for (const option of superOptions.split(',')) {
        const controller = V1_CONTROLLERS.find((c) => c === option);
        if (controller !== undefined && !v1.has(controller)) v1.set(controller, mountPoint);
      }
    }
  }
  const mode: CgroupMode = v1.size === 0 ? 'v2' : unified === undefined ? 'v1' : 'hybrid';
  if (mode === 'v2' && unified === undefined) {
    throw new CgroupError('no cgroup mount found in mountinfo (neither cgroup v1 controllers nor cgroup2)');
  }
  return { mode, v1, unified };
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
export function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

let hostLayout: CgroupLayout | undefined;

/** This process's layout, read once. */
export function detectCgroupLayout(mountinfoPath = '/proc/self/mountinfo'): CgroupLayout {
  if (mountinfoPath !== '/proc/self/mountinfo') return parseCgroupLayout(readFileSync(mountinfoPath, 'utf8'));
  hostLayout ??= parseCgroupLayout(readFileSync(mountinfoPath, 'utf8'));
  return hostLayout;
}
