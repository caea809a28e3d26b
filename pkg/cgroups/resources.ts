// Container resource limits as Docker's HostConfig names them, their validation, and the conversions
// Docker and runc apply between the flags and the cgroup files of either version.
import { CgroupError } from './layout.ts';

/** A per-device rate: `--device-read-bps /dev/vda:1mb` once the device path is resolved to its numbers. */
export interface DeviceRate {
  readonly major: number;
  readonly minor: number;
  /** bytes per second */
  readonly rate: number;
}

export interface CgroupResources {
  /** `-m`: hard memory limit in bytes (0 or absent: unlimited). */
  readonly memory?: number;
  /** `--memory-reservation`: soft limit in bytes. */
  readonly memoryReservation?: number;
  /** `--memory-swap`: memory + swap in bytes; -1 unlimited swap; absent with `memory`: twice `memory` (Docker). */
  readonly memorySwap?: number;
  /** `-c`: relative CPU weight in v1 shares (2..262144); converted to cpu.weight on v2. */
  readonly cpuShares?: number;
  /** `--cpus` in billionths of a CPU (1.5 CPUs = 1.5e9). */
  readonly nanoCpus?: number;
  /** `--cpu-period`/`--cpu-quota` in microseconds (exclusive with nanoCpus, as in Docker). */
  readonly cpuPeriod?: number;
  readonly cpuQuota?: number;
  /** `--cpuset-cpus` / `--cpuset-mems`: lists like "0-2,4". */
  readonly cpusetCpus?: string;
  readonly cpusetMems?: string;
  /** `--pids-limit`: 0 or -1 unlimited. */
  readonly pidsLimit?: number;
  /** `--blkio-weight`: 10..1000 (0: unset). */
  readonly blkioWeight?: number;
  readonly deviceReadBps?: readonly DeviceRate[];
  readonly deviceWriteBps?: readonly DeviceRate[];
}

export const DEFAULT_CPU_PERIOD_US = 100_000;
/** Docker refuses limits under 6 MiB: the container could not even start. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
export const MIN_CPU_SHARES = 2;
export const MAX_CPU_SHARES = 262_144;

const CPU_LIST_RE = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

function checkInteger(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new CgroupError(`invalid ${name} ${value}: must be an integer in [${min}, ${max}]`);
  }
}

/** Parses "0-2,4" into the set of numbers it names, rejecting reversed ranges. */
export function parseCpuList(name: string, list: string): number[] {
  if (!CPU_LIST_RE.test(list))
    throw new CgroupError(`invalid ${name} ${JSON.stringify(list)}: use a list like "0-2,4"`);
  const out = new Set<number>();
  for (const part of list.split(',')) {
    const [lo = '', hi = lo] = part.split('-');
    const [a, b] = [Number(lo), Number(hi)];
    if (b < a) throw new CgroupError(`invalid ${name} ${JSON.stringify(list)}: range ${part} is reversed`);
    if (b > 4095)
      throw new CgroupError(`invalid ${name} ${JSON.stringify(list)}: ${b} is beyond any machine`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

export interface ValidateOptions {
  /** CPUs online, to refuse `--cpus` beyond the machine as Docker does. */
  readonly onlineCpus?: number;
}

/** Throws a CgroupError naming the first bad field; Docker's limits and messages where it has them. */
export function validateResources(r: CgroupResources, opts: ValidateOptions = {}): void {
  const max = Number.MAX_SAFE_INTEGER;
  checkInteger('memory limit', r.memory, 0, max);
  if (r.memory !== undefined && r.memory > 0 && r.memory < MIN_MEMORY_BYTES) {
    throw new CgroupError(
      `invalid memory limit ${r.memory}: the minimum is 6 MiB (${MIN_MEMORY_BYTES} bytes)`,
    );
  }
  checkInteger('memory reservation', r.memoryReservation, 0, max);
  if (r.memoryReservation && r.memoryReservation < MIN_MEMORY_BYTES) {
    throw new CgroupError(`invalid memory reservation ${r.memoryReservation}: the minimum is 6 MiB`);
  }
  if (r.memory && r.memoryReservation && r.memoryReservation > r.memory) {
    throw new CgroupError(
      `memory reservation ${r.memoryReservation} must be smaller than the memory limit ${r.memory}`,
    );
  }
  checkInteger('memory+swap limit', r.memorySwap, -1, max);
  if (r.memorySwap !== undefined && r.memorySwap > 0) {
    if (!r.memory) throw new CgroupError('a memory+swap limit needs a memory limit too (-m)');
    if (r.memorySwap < r.memory) {
      throw new CgroupError(
        `memory+swap limit ${r.memorySwap} must be at least the memory limit ${r.memory} (it counts both)`,
      );
    }
  }
  if (r.cpuShares !== undefined && r.cpuShares !== 0) {
    checkInteger('cpu shares', r.cpuShares, MIN_CPU_SHARES, MAX_CPU_SHARES);
  }
  checkInteger('nano CPUs', r.nanoCpus, 0, max);
  if (r.nanoCpus !== undefined && r.nanoCpus > 0) {
    if (r.cpuQuota !== undefined || r.cpuPeriod !== undefined) {
      throw new CgroupError('--cpus cannot be combined with --cpu-period/--cpu-quota');
    }
    if (r.nanoCpus < 10_000_000)
      throw new CgroupError(`invalid --cpus ${r.nanoCpus / 1e9}: the minimum is 0.01`);
    if (opts.onlineCpus !== undefined && r.nanoCpus > opts.onlineCpus * 1e9) {
      throw new CgroupError(
        `invalid --cpus ${r.nanoCpus / 1e9}: the range is 0.01 to ${opts.onlineCpus}.00, as there are only ${opts.onlineCpus} CPUs available`,
      );
    }
  }
  if (r.cpuPeriod !== undefined && r.cpuPeriod !== 0)
    checkInteger('cpu period', r.cpuPeriod, 1000, 1_000_000);
  if (r.cpuQuota !== undefined && r.cpuQuota !== 0 && r.cpuQuota !== -1) {
    checkInteger('cpu quota', r.cpuQuota, 1000, max);
  }
  if (r.cpusetCpus) parseCpuList('cpuset cpus', r.cpusetCpus);
  if (r.cpusetMems) parseCpuList('cpuset mems', r.cpusetMems);
  checkInteger('pids limit', r.pidsLimit, -1, 4_194_304);
  if (r.blkioWeight !== undefined && r.blkioWeight !== 0)
    checkInteger('blkio weight', r.blkioWeight, 10, 1000);
  for (const [name, list] of [
    ['device read bps', r.deviceReadBps],
    ['device write bps', r.deviceWriteBps],
  ] as const) {
    for (const d of list ?? []) {
      checkInteger(`${name} major`, d.major, 0, 4095);
      checkInteger(`${name} minor`, d.minor, 0, 1_048_575);
      checkInteger(`${name} rate`, d.rate, 1, max);
    }
  }
}

/** runc 1.1's linear map of v1 shares [2, 262144] onto v2 cpu.weight [1, 10000]; 0 stays unset. */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262_142);
}

/** The inverse of cpuSharesToWeight, for reporting a v2 weight as Docker's CpuShares. */
export function cpuWeightToShares(weight: number): number {
  if (weight === 0) return 0;
  return 2 + Math.floor(((weight - 1) * 262_142) / 9999);
}

/** runc's map of a v1 blkio weight [10, 1000] onto v2 io.weight [1, 10000]. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

export interface CpuBandwidth {
  /** microseconds per period, -1 unlimited */
  readonly quota: number;
  readonly period: number;
}

/** `--cpus 1.5` → 150000 µs of every 100000 µs; explicit quota/period pass through. */
export function cpuBandwidth(r: CgroupResources): CpuBandwidth | undefined {
  if (r.nanoCpus) {
    return { quota: Math.round((r.nanoCpus * DEFAULT_CPU_PERIOD_US) / 1e9), period: DEFAULT_CPU_PERIOD_US };
  }
  if (r.cpuQuota || r.cpuPeriod) {
    return { quota: r.cpuQuota || -1, period: r.cpuPeriod || DEFAULT_CPU_PERIOD_US };
  }
  return undefined;
}

export interface MemoryLimits {
  /** bytes, -1 unlimited */
  readonly limit: number;
  /** memory + swap (v1 memsw) in bytes, -1 unlimited */
  readonly limitWithSwap: number;
}

/**
 * Docker's memory-swap semantics: unset swap with a memory limit allows as much swap again (total twice the
 * limit); -1 is unlimited swap; a positive value is the memory + swap total. Undefined without -m.
 */
export function memoryLimits(r: CgroupResources): MemoryLimits | undefined {
  if (!r.memory) {
    return r.memorySwap === -1 ? { limit: -1, limitWithSwap: -1 } : undefined;
  }
  const total = r.memorySwap === undefined || r.memorySwap === 0 ? r.memory * 2 : r.memorySwap;
  return { limit: r.memory, limitWithSwap: total };
}

/** cgroup v2's memory.swap.max counts swap alone: the total minus the memory limit. */
export function swapOnlyLimit(m: MemoryLimits): number {
  return m.limitWithSwap === -1 || m.limit === -1 ? -1 : m.limitWithSwap - m.limit;
}

/** A pids limit for pids.max: Docker's 0 and -1 both mean unlimited. */
export function pidsMax(limit: number): string {
  return limit <= 0 ? 'max' : String(limit);
}
