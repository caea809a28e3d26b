// One interface over cgroup v1 and v2 for a container's cgroup (runc's cgroups.Manager idea): the runtime
// creates, limits, joins, freezes, measures and destroys a container's cgroup without knowing the version.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupResources } from './resources.ts';

export interface CgroupStats {
  /** total CPU time of the cgroup's tasks in nanoseconds */
  readonly cpuUsageNs: number;
  /** memory charged to the cgroup, page cache included (what Docker shows) */
  readonly memoryUsage: number;
  /** usage minus inactive file pages: what the kernel cannot reclaim easily (what users expect) */
  readonly memoryWorkingSet: number;
  /** the hard limit in bytes, null when unlimited */
  readonly memoryLimit: number | null;
  readonly pidsCurrent: number;
  readonly blkioReadBytes: number;
  readonly blkioWriteBytes: number;
  /** tasks the OOM killer killed in this cgroup */
  readonly oomKills: number;
}

export interface CgroupManager {
  readonly version: 1 | 2;
  /** relative to each hierarchy's root, e.g. "tsnet/<id>" */
  readonly path: string;
  /** Creates the cgroup (and its parents) in every hierarchy; idempotent. */
  create(): Promise<void>;
  /** Writes the limits; returns warnings for settings that cannot take effect here. */
  apply(resources: CgroupResources): Promise<string[]>;
  addProcess(pid: number): Promise<void>;
  /** Freezes every task and waits until the kernel reports the cgroup frozen. */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  stats(): Promise<CgroupStats>;
  /** The pids in the cgroup and its descendants. */
  pids(): Promise<number[]>;
  exists(): boolean;
  /** Kills every task, then removes the cgroup and its descendants from every hierarchy. */
  destroy(): Promise<void>;
}

/** Each block device's I/O schedulers (/sys/block/DEV/queue/scheduler): those there, and the one in use. */
function blockSchedulers(sysBlock: string): { dev: string; available: string[]; active?: string }[] {
  const out: { dev: string; available: string[]; active?: string }[] = [];
  for (const dev of safeReaddir(sysBlock)) {
    let text: string;
    try {
      text = readFileSync(join(sysBlock, dev, 'queue', 'scheduler'), 'utf8');
    } catch {
      continue; // a device without a queue
    }
    const names = text.trim().split(/\s+/).filter(Boolean);
    const active = names.find((n) => n.startsWith('['))?.slice(1, -1);
    out.push({ dev, available: names.map((n) => n.replace(/^\[|\]$/g, '')), ...(active && { active }) });
  }
  return out;
}

/**
 * Whether a container's cgroup will have a weight file (v1 blkio.weight or blkio.bfq.weight, v2 io.weight or
 * io.bfq.weight), which runc writes for a spec's blockIO.weight and fails without. BFQ adds its files to
 * every non-root cgroup once it is loaded (it is then listed among a device's schedulers); blkio.weight
 * (CFQ) and io.weight (iocost) show in the root's children too. `roots`: the blkio (v1) or unified (v2)
 * mount points.
 */
export function hasBlkioWeightFile(roots: readonly string[], sysBlock = '/sys/block'): boolean {
  if (blockSchedulers(sysBlock).some((d) => d.available.includes('bfq'))) return true;
  const names = ['blkio.weight', 'blkio.bfq.weight', 'io.weight', 'io.bfq.weight'];
  for (const root of roots) {
    const dirs = [root, ...safeReaddir(root).map((child) => join(root, child))];
    if (dirs.some((dir) => names.some((name) => existsSync(join(dir, name))))) return true;
  }
  return false;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * A weight only matters under a proportional I/O scheduler (BFQ; CFQ is gone from current kernels). Returns
 * a warning naming the schedulers in use when no block device uses one.
 */
export function blkioWeightWarning(
  weight: number,
  file: string | undefined,
  sysBlock = '/sys/block',
): string | undefined {
  if (file === undefined) {
    return `blkio weight ${weight} ignored: this kernel has no blkio/io weight file`;
  }
  const devices = blockSchedulers(sysBlock);
  if (devices.some((d) => d.active === 'bfq')) return undefined;
  const inUse = devices.flatMap((d) => (d.active && d.active !== 'none' ? [`${d.dev}: ${d.active}`] : []));
  return `blkio weight ${weight} written to ${file} has no effect: no block device uses the bfq scheduler${inUse.length ? ` (${inUse.join(', ')})` : ''}`;
}
