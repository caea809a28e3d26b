// cgroup v1: one directory per hierarchy (cpu, cpuacct, cpuset, memory, …), each written with its own
// controller's files, as runc's cgroups/fs does.

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { settleAll } from '../sync/settle.ts';
import {
  checkCpusetAvailable,
  killPids,
  mkdirCgroup,
  parseKeyValues,
  parseLimit,
  readCgroupFile,
  readOptional,
  removeEmptyParents,
  removeSubtree,
  subtreePids,
  validateCgroupPath,
  waitFor,
  writeCgroupFile,
} from './files.ts';
import { CgroupError, type CgroupLayout, type V1Controller } from './layout.ts';
import { blkioWeightWarning, type CgroupManager, type CgroupStats } from './manager.ts';
import {
  type CgroupResources,
  cpuBandwidth,
  type DeviceRate,
  memoryLimits,
  pidsMax,
  validateResources,
} from './resources.ts';

export interface V1Options {
  /** where block devices' schedulers are read, for the weight warning */
  readonly sysBlock?: string;
}

export class V1CgroupManager implements CgroupManager {
  readonly version = 1 as const;
  readonly path: string;
  readonly #dirs: ReadonlyMap<V1Controller, string>;
  /** Every directory of this cgroup: the controllers' and, on a hybrid host, the cgroup2 one runc also joins. */
  readonly #allDirs: readonly string[];

  constructor(
    layout: CgroupLayout,
    path: string,
    private readonly options: V1Options = {},
  ) {
    this.path = validateCgroupPath(path);
    const dirs = new Map<V1Controller, string>();
    for (const [controller, mount] of layout.v1) dirs.set(controller, join(mount, this.path));
    this.#dirs = dirs;
    const unified = layout.mode === 'hybrid' && layout.unified ? [join(layout.unified, this.path)] : [];
    this.#allDirs = [...dirs.values(), ...unified];
  }

  /** The directory of this cgroup in one controller's hierarchy. */
  dir(controller: V1Controller): string {
    const d = this.#dirs.get(controller);
    if (d === undefined) throw new CgroupError(`cgroup v1 controller ${controller} is not mounted`);
    return d;
  }

  has(controller: V1Controller): boolean {
    return this.#dirs.has(controller);
  }

  async create(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        // each hierarchy on its own (co-mounted controllers share a directory); every one settles before
        // a failure starts the whole over
        const others = new Set(this.#allDirs);
        const cpuset = this.#dirs.get('cpuset');
        if (cpuset !== undefined) others.delete(cpuset);
        await settleAll([
          ...(cpuset !== undefined ? [this.#createCpuset(cpuset)] : []),
          ...[...others].map((dir) => mkdirCgroup(dir)),
        ]);
        return;
      } catch (err) {
        // Another container's destroy removed the shared parent while it was still empty (between its
        // mkdir and this cgroup's, or before cpuset.cpus was copied into it): make everything again.
        if (attempt >= 20 || !isMissing(err)) throw err;
      }
    }
  }

  /** A new cpuset starts with no CPUs and no memory nodes, and no task may join it: copy the parent's. */
  async #createCpuset(dir: string): Promise<void> {
    const parent = dirname(dir);
    if (!existsSync(parent)) await this.#createCpuset(parent);
    if (!existsSync(dir)) {
      try {
        await mkdir(dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // EEXIST: made by a concurrent create. ENOENT (a concurrent destroy removed the empty parent) is
        // thrown with its code for create() to start over.
        if (code !== 'EEXIST') throw new CgroupError(`cannot create cgroup ${dir}: ${code}`, { cause: err });
      }
    }
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if ((await readCgroupFile(dir, file)) === '') {
        await writeCgroupFile(dir, file, await readCgroupFile(parent, file));
      }
    }
  }

  async apply(r: CgroupResources): Promise<string[]> {
    validateResources(r);
    const warnings: string[] = [];
    if (this.has('memory')) warnings.push(...(await this.#applyMemory(r)));
    if (this.has('cpu')) {
      const cpu = this.dir('cpu');
      if (r.cpuShares) await writeCgroupFile(cpu, 'cpu.shares', String(r.cpuShares));
      const bw = cpuBandwidth(r);
      if (bw) {
        await writeCgroupFile(cpu, 'cpu.cfs_period_us', String(bw.period));
        await writeCgroupFile(cpu, 'cpu.cfs_quota_us', String(bw.quota));
      }
    }
    if (this.has('cpuset')) {
      const dir = this.dir('cpuset');
      if (r.cpusetCpus) {
        await checkCpusetAvailable(dirname(dir), 'cpuset.effective_cpus', 'cpuset cpus', r.cpusetCpus);
        await writeCgroupFile(dir, 'cpuset.cpus', r.cpusetCpus);
      }
      if (r.cpusetMems) {
        await checkCpusetAvailable(dirname(dir), 'cpuset.effective_mems', 'cpuset mems', r.cpusetMems);
        await writeCgroupFile(dir, 'cpuset.mems', r.cpusetMems);
      }
    }
    if (this.has('pids') && r.pidsLimit !== undefined) {
      await writeCgroupFile(this.dir('pids'), 'pids.max', pidsMax(r.pidsLimit));
    }
    if (this.has('blkio')) warnings.push(...(await this.#applyBlkio(r)));
    return warnings;
  }

  async #applyMemory(r: CgroupResources): Promise<string[]> {
    const dir = this.dir('memory');
    const warnings: string[] = [];
    if (r.memoryReservation) {
      await writeCgroupFile(dir, 'memory.soft_limit_in_bytes', String(r.memoryReservation));
    }
    const limits = memoryLimits(r);
    if (!limits) return warnings;
    const hasMemsw = existsSync(join(dir, 'memory.memsw.limit_in_bytes'));
    if (!hasMemsw) {
      if (limits.limitWithSwap !== limits.limit && r.memorySwap !== undefined) {
        warnings.push('memory+swap limit ignored: this kernel does not account swap (no memory.memsw files)');
      }
      await writeCgroupFile(dir, 'memory.limit_in_bytes', String(limits.limit));
      return warnings;
    }
    // The kernel keeps limit <= memsw at every moment: raise memsw first when the new limit exceeds it.
    const currentMemsw = parseLimit(await readCgroupFile(dir, 'memory.memsw.limit_in_bytes'));
    const raiseSwapFirst = limits.limit === -1 || (currentMemsw !== null && limits.limit > currentMemsw);
    if (raiseSwapFirst) {
      await writeCgroupFile(dir, 'memory.memsw.limit_in_bytes', String(limits.limitWithSwap));
      await writeCgroupFile(dir, 'memory.limit_in_bytes', String(limits.limit));
    } else {
      await writeCgroupFile(dir, 'memory.limit_in_bytes', String(limits.limit));
      await writeCgroupFile(dir, 'memory.memsw.limit_in_bytes', String(limits.limitWithSwap));
    }
    return warnings;
  }

  async #applyBlkio(r: CgroupResources): Promise<string[]> {
    const dir = this.dir('blkio');
    const warnings: string[] = [];
    if (r.blkioWeight) {
      const file = ['blkio.weight', 'blkio.bfq.weight'].find((f) => existsSync(join(dir, f)));
      if (file) await writeCgroupFile(dir, file, String(r.blkioWeight));
      const warning = blkioWeightWarning(r.blkioWeight, file, this.options.sysBlock);
      if (warning) warnings.push(warning);
    }
    const throttle = async (file: string, rates: readonly DeviceRate[] | undefined) => {
      for (const d of rates ?? []) await writeCgroupFile(dir, file, `${d.major}:${d.minor} ${d.rate}`);
    };
    await throttle('blkio.throttle.read_bps_device', r.deviceReadBps);
    await throttle('blkio.throttle.write_bps_device', r.deviceWriteBps);
    return warnings;
  }

  async addProcess(pid: number): Promise<void> {
    if (!Number.isSafeInteger(pid) || pid <= 0) throw new CgroupError(`invalid pid ${pid}`);
    for (const dir of this.#allDirs) await writeCgroupFile(dir, 'cgroup.procs', String(pid));
  }

  async freeze(): Promise<void> {
    const dir = this.dir('freezer');
    await writeCgroupFile(dir, 'freezer.state', 'FROZEN');
    // FREEZING until every task has stopped; writing again nudges tasks that were mid-fork.
    const frozen = await waitFor(async () => {
      if ((await readCgroupFile(dir, 'freezer.state')) === 'FROZEN') return true;
      await writeCgroupFile(dir, 'freezer.state', 'FROZEN');
      return false;
    }, 5000);
    if (!frozen) {
      await writeCgroupFile(dir, 'freezer.state', 'THAWED');
      throw new CgroupError(`cgroup ${this.path} did not freeze within 5 s`);
    }
  }

  async thaw(): Promise<void> {
    await writeCgroupFile(this.dir('freezer'), 'freezer.state', 'THAWED');
  }

  async stats(): Promise<CgroupStats> {
    const memory = this.dir('memory');
    const usage = Number(await readCgroupFile(memory, 'memory.usage_in_bytes'));
    const memStat = parseKeyValues(await readCgroupFile(memory, 'memory.stat'));
    const inactiveFile = memStat.get('total_inactive_file') ?? memStat.get('inactive_file') ?? 0;
    const oom = parseKeyValues(await readOptional(memory, 'memory.oom_control'));
    const io = await readOptional(this.dir('blkio'), 'blkio.throttle.io_service_bytes_recursive');
    const { read, write } = sumBlkioBytes(io);
    return {
      cpuUsageNs: Number(await readCgroupFile(this.dir('cpuacct'), 'cpuacct.usage')),
      memoryUsage: usage,
      memoryWorkingSet: Math.max(0, usage - inactiveFile),
      memoryLimit: parseLimit(await readCgroupFile(memory, 'memory.limit_in_bytes')),
      pidsCurrent: Number((await readOptional(this.dir('pids'), 'pids.current')) ?? 0),
      blkioReadBytes: read,
      blkioWriteBytes: write,
      oomKills: oom.get('oom_kill') ?? 0,
    };
  }

  async pids(): Promise<number[]> {
    return subtreePids(this.#anyDir());
  }

  #anyDir(): string {
    return this.#dirs.get('freezer') ?? this.#dirs.get('pids') ?? this.dir('memory');
  }

  exists(): boolean {
    return this.#allDirs.some((d) => existsSync(d));
  }

  async destroy(): Promise<void> {
    if (!this.exists()) {
      // runc delete removed the container's directories: the parents may still be empty leftovers
      await Promise.all([...new Set(this.#allDirs)].map((dir) => removeEmptyParents(dir, this.path)));
      return;
    }
    const freezer = this.#dirs.get('freezer');
    const canFreeze = freezer !== undefined && existsSync(freezer);
    // Frozen tasks cannot fork while we collect them; SIGKILL is delivered once they thaw.
    if (canFreeze) await this.freeze().catch(() => undefined);
    killPids(subtreePids(this.#anyDir()));
    if (canFreeze) await this.thaw();
    const empty = await waitFor(() => subtreePids(this.#anyDir()).length === 0, 5000);
    if (!empty) throw new CgroupError(`cgroup ${this.path} still has tasks after SIGKILL`);
    // each hierarchy on its own; all are tried before a failure is thrown
    await settleAll(
      [...new Set(this.#allDirs)].map(async (dir) => {
        await removeSubtree(dir);
        await removeEmptyParents(dir, this.path);
      }),
    );
  }
}

/**
 * The cgroup (or its shared parent) went away under us: ENOENT on a path, or ENODEV on a file of a cgroup
 * removed while it was being read (seen in CI: cpuset.mems of the shared parent, rmdir'd by a concurrent
 * destroy).
 */
function isMissing(err: unknown): boolean {
  const code = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code;
  const gone = (c: string | undefined) => c === 'ENOENT' || c === 'ENODEV';
  return gone(code(err)) || gone(code((err as Error | undefined)?.cause));
}

/** Sums the "MAJ:MIN Read|Write N" lines of blkio.throttle.io_service_bytes(_recursive). */
export function sumBlkioBytes(text: string | undefined): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of (text ?? '').split('\n')) {
    const [, op, value] = line.trim().split(/\s+/);
    if (op === 'Read') read += Number(value);
    else if (op === 'Write') write += Number(value);
  }
  return { read, write };
}
