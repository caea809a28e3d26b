// One interface over cgroup v1 and v2 for a container's cgroup (runc's cgroups.Manager idea): the runtime
// creates, limits, joins, freezes, measures and destroys a container's cgroup without knowing the version.
import { readdirSync, readFileSync } from 'node:fs';
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
  const inUse: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(sysBlock);
  } catch {
    names = [];
  }
  for (const dev of names) {
    try {
      const sched = /\[([^\]]+)\]/.exec(readFileSync(join(sysBlock, dev, 'queue', 'scheduler'), 'utf8'))?.[1];
      if (sched === 'bfq') return undefined;
      if (sched !== undefined && sched !== 'none') inUse.push(`${dev}: ${sched}`);
    } catch {
      // a device without a queue
    }
  }
  return `blkio weight ${weight} written to ${file} has no effect: no block device uses the bfq scheduler${inUse.length ? ` (${inUse.join(', ')})` : ''}`;
}
