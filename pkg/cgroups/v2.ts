// cgroup v2: one directory in the unified hierarchy; controllers are enabled for it through each ancestor's
// cgroup.subtree_control, as runc's cgroups/fs2 does. The root is injectable so the code can be tested on a
// file tree laid out like cgroup2.

import { existsSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  checkCpusetAvailable,
  killPids,
  mkdirCgroup,
  parseKeyValues,
  parseLimit,
  type RemoveDir,
  readCgroupFile,
  readOptional,
  removeEmptyParents,
  removeSubtree,
  subtreePids,
  validateCgroupPath,
  waitFor,
  writeCgroupFile,
} from './files.ts';
import { CgroupError } from './layout.ts';
import { blkioWeightWarning, type CgroupManager, type CgroupStats } from './manager.ts';
import {
  blkioWeightToIoWeight,
  type CgroupResources,
  cpuBandwidth,
  cpuSharesToWeight,
  memoryLimits,
  pidsMax,
  swapOnlyLimit,
  validateResources,
} from './resources.ts';

/** The controllers a container needs, enabled on the way down when the parent offers them. */
const WANTED_CONTROLLERS = ['cpuset', 'cpu', 'io', 'memory', 'pids'] as const;

export interface V2Options {
  /** the cgroup2 mount point */
  readonly root: string;
  readonly sysBlock?: string;
  /** rmdir by default; a test tree of plain files needs a recursive removal instead */
  readonly removeDir?: RemoveDir;
}

const v2Value = (n: number): string => (n === -1 ? 'max' : String(n));

export class V2CgroupManager implements CgroupManager {
  readonly version = 2 as const;
  readonly path: string;
  readonly dir: string;

  constructor(
    path: string,
    private readonly options: V2Options,
  ) {
    this.path = validateCgroupPath(path);
    this.dir = join(options.root, this.path);
  }

  async create(): Promise<void> {
    await mkdirCgroup(this.dir);
    // Top-down: a controller can be enabled for the children only once it is available to the parent.
    const segments = this.path.split('/');
    for (let depth = 0; depth < segments.length; depth++) {
      const ancestor = join(this.options.root, ...segments.slice(0, depth));
      const available = new Set((await readCgroupFile(ancestor, 'cgroup.controllers')).split(/\s+/));
      const enabled = new Set((await readOptional(ancestor, 'cgroup.subtree_control'))?.split(/\s+/) ?? []);
      const missing = WANTED_CONTROLLERS.filter((c) => available.has(c) && !enabled.has(c));
      if (missing.length) {
        await writeCgroupFile(ancestor, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
      }
    }
  }

  async apply(r: CgroupResources): Promise<string[]> {
    validateResources(r);
    const warnings: string[] = [];
    const dir = this.dir;
    if (r.memoryReservation) await writeCgroupFile(dir, 'memory.low', String(r.memoryReservation));
    const limits = memoryLimits(r);
    if (limits) {
      // memory.swap.max counts swap alone, unlike v1's memsw; a host without swap accounting lacks it.
      if (existsSync(join(dir, 'memory.swap.max'))) {
        await writeCgroupFile(dir, 'memory.swap.max', v2Value(swapOnlyLimit(limits)));
      } else if (r.memorySwap !== undefined && limits.limitWithSwap !== limits.limit) {
        warnings.push('memory+swap limit ignored: this kernel does not account swap (no memory.swap.max)');
      }
      await writeCgroupFile(dir, 'memory.max', v2Value(limits.limit));
    }
    if (r.cpuShares) await writeCgroupFile(dir, 'cpu.weight', String(cpuSharesToWeight(r.cpuShares)));
    const bw = cpuBandwidth(r);
    if (bw) await writeCgroupFile(dir, 'cpu.max', `${v2Value(bw.quota)} ${bw.period}`);
    if (r.cpusetCpus) {
      await checkCpusetAvailable(dirname(dir), 'cpuset.cpus.effective', 'cpuset cpus', r.cpusetCpus);
      await writeCgroupFile(dir, 'cpuset.cpus', r.cpusetCpus);
    }
    if (r.cpusetMems) {
      await checkCpusetAvailable(dirname(dir), 'cpuset.mems.effective', 'cpuset mems', r.cpusetMems);
      await writeCgroupFile(dir, 'cpuset.mems', r.cpusetMems);
    }
    if (r.pidsLimit !== undefined) await writeCgroupFile(dir, 'pids.max', pidsMax(r.pidsLimit));
    if (r.blkioWeight) {
      let file: string | undefined;
      if (existsSync(join(dir, 'io.weight'))) {
        file = 'io.weight';
        await writeCgroupFile(dir, file, `default ${blkioWeightToIoWeight(r.blkioWeight)}`);
      } else if (existsSync(join(dir, 'io.bfq.weight'))) {
        file = 'io.bfq.weight';
        await writeCgroupFile(dir, file, String(r.blkioWeight));
      }
      const warning = blkioWeightWarning(r.blkioWeight, file, this.options.sysBlock);
      if (warning) warnings.push(warning);
    }
    const devices = new Map<string, { rbps?: number; wbps?: number }>();
    for (const d of r.deviceReadBps ?? []) devices.set(`${d.major}:${d.minor}`, { rbps: d.rate });
    for (const d of r.deviceWriteBps ?? []) {
      const key = `${d.major}:${d.minor}`;
      devices.set(key, { ...devices.get(key), wbps: d.rate });
    }
    for (const [dev, { rbps, wbps }] of devices) {
      const parts = [dev, rbps !== undefined ? `rbps=${rbps}` : '', wbps !== undefined ? `wbps=${wbps}` : ''];
      await writeCgroupFile(dir, 'io.max', parts.filter((p) => p !== '').join(' '));
    }
    return warnings;
  }

  async addProcess(pid: number): Promise<void> {
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new CgroupError(`invalid pid ${pid}`);
    await writeCgroupFile(this.dir, 'cgroup.procs', String(pid));
  }

  async freeze(): Promise<void> {
    await writeCgroupFile(this.dir, 'cgroup.freeze', '1');
    const frozen = await waitFor(
      async () => parseKeyValues(await readOptional(this.dir, 'cgroup.events')).get('frozen') === 1,
      5000,
    );
    if (!frozen) {
      await writeCgroupFile(this.dir, 'cgroup.freeze', '0');
      throw new CgroupError(`cgroup ${this.path} did not freeze within 5 s`);
    }
  }

  async thaw(): Promise<void> {
    await writeCgroupFile(this.dir, 'cgroup.freeze', '0');
  }

  async stats(): Promise<CgroupStats> {
    const dir = this.dir;
    const usage = Number(await readCgroupFile(dir, 'memory.current'));
    const memStat = parseKeyValues(await readCgroupFile(dir, 'memory.stat'));
    const cpuStat = parseKeyValues(await readCgroupFile(dir, 'cpu.stat'));
    const events = parseKeyValues(await readOptional(dir, 'memory.events'));
    const { read, write } = sumIoStat(await readOptional(dir, 'io.stat'));
    return {
      cpuUsageNs: (cpuStat.get('usage_usec') ?? 0) * 1000,
      memoryUsage: usage,
      memoryWorkingSet: Math.max(0, usage - (memStat.get('inactive_file') ?? 0)),
      memoryLimit: parseLimit(await readOptional(dir, 'memory.max')),
      pidsCurrent: Number((await readOptional(dir, 'pids.current')) ?? 0),
      blkioReadBytes: read,
      blkioWriteBytes: write,
      oomKills: events.get('oom_kill') ?? 0,
    };
  }

  async pids(): Promise<number[]> {
    return subtreePids(this.dir);
  }

  exists(): boolean {
    return existsSync(this.dir);
  }

  async destroy(): Promise<void> {
    if (!this.exists()) {
      // runc delete removed the container's directory: the parents may still be empty leftovers
      await removeEmptyParents(this.dir, this.path);
      return;
    }
    // cgroup.kill (Linux 5.14) kills the whole subtree atomically; older kernels: freeze, kill, thaw.
    if (existsSync(join(this.dir, 'cgroup.kill'))) {
      await writeCgroupFile(this.dir, 'cgroup.kill', '1');
    } else {
      const canFreeze = existsSync(join(this.dir, 'cgroup.freeze'));
      if (canFreeze) await this.freeze().catch(() => undefined);
      killPids(subtreePids(this.dir));
      if (canFreeze) await this.thaw();
    }
    const empty = await waitFor(() => subtreePids(this.dir).length === 0, 5000);
    if (!empty) throw new CgroupError(`cgroup ${this.path} still has tasks after SIGKILL`);
    await removeSubtree(this.dir, this.options.removeDir ?? rmdir);
    await removeEmptyParents(this.dir, this.path);
  }
}

/** Sums rbytes/wbytes over the "MAJ:MIN rbytes=N wbytes=N …" lines of io.stat. */
export function sumIoStat(text: string | undefined): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const m of (text ?? '').matchAll(/\b(rbytes|wbytes)=(\d+)/g)) {
    if (m[1] === 'rbytes') read += Number(m[2]);
    else write += Number(m[2]);
  }
  return { read, write };
}
