// `docker stats` for one container: its cgroup's counters (pkg/cgroups), the bytes its network namespace
// moved, and CPU % computed between two samples the way Docker does (container CPU time over host CPU time,
// times the online CPUs). Memory is the working set — page cache the kernel can drop is not counted, unlike
// Docker — and the limit is the cgroup's, or the node's memory when the container has none.
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CgroupManager, cgroupManager, parseCpuList } from '../cgroups/index.ts';
import type { ContainerHandle } from '../container/handle.ts';

export interface StatsSample {
  readonly id: string;
  readonly name: string;
  readonly timeUnixNano: bigint;
  /** CPU time of the container's tasks */
  readonly cpuUsageNs: number;
  /** CPU time of the whole host (every CPU, idle included), from /proc/stat */
  readonly systemCpuNs: number;
  readonly onlineCpus: number;
  /** working set: usage minus inactive page cache */
  readonly memoryUsage: number;
  readonly memoryLimit: number;
  readonly netRxBytes: number;
  readonly netTxBytes: number;
  readonly blockReadBytes: number;
  readonly blockWriteBytes: number;
  readonly pids: number;
}

/** A sample with the CPU % since the previous one (100 = one CPU busy). */
export interface ContainerStatsReport extends StatsSample {
  readonly cpuPercent: number;
}

/** Where a sample's host-wide figures come from; tests point them at fixture files. */
export interface StatsSources {
  readonly procRoot?: string;
  readonly onlineCpusFile?: string;
  readonly manager?: (handle: ContainerHandle) => CgroupManager;
}

/** USER_HZ: the unit of /proc/stat, 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;
const NS_PER_TICK = 1e9 / CLOCK_TICKS_PER_SECOND;

/**
 * One sample. A container that is not running (or whose cgroup is gone) has no counters: zeros, as Docker
 * shows, with the limit still the node's memory.
 */
export async function sampleStats(handle: ContainerHandle, sources: StatsSources = {}): Promise<StatsSample> {
  const procRoot = sources.procRoot ?? '/proc';
  const [systemCpuNs, onlineCpus] = await Promise.all([
    systemCpuTimeNs(procRoot),
    onlineCpuCount(sources.onlineCpusFile),
  ]);
  const base = {
    id: handle.id,
    name: handle.name,
    timeUnixNano: BigInt(Date.now()) * 1_000_000n,
    systemCpuNs,
    onlineCpus,
  };
  const manager = (sources.manager ?? ((h) => cgroupManager(h.cgroupPath)))(handle);
  const live = (handle.status === 'running' || handle.status === 'paused') && manager.exists();
  if (!live) {
    return {
      ...base,
      cpuUsageNs: 0,
      memoryUsage: 0,
      memoryLimit: totalmem(),
      netRxBytes: 0,
      netTxBytes: 0,
      blockReadBytes: 0,
      blockWriteBytes: 0,
      pids: 0,
    };
  }
  const [cg, net] = await Promise.all([
    manager.stats(),
    // Without a namespace of its own (--network host) PID 1 would show the node's traffic: none is the container's.
    handle.pid && handle.netnsPath ? networkBytes(`${procRoot}/${handle.pid}/net/dev`) : { rx: 0, tx: 0 },
  ]);
  return {
    ...base,
    cpuUsageNs: cg.cpuUsageNs,
    memoryUsage: cg.memoryWorkingSet,
    memoryLimit: cg.memoryLimit ?? totalmem(),
    netRxBytes: net.rx,
    netTxBytes: net.tx,
    blockReadBytes: cg.blkioReadBytes,
    blockWriteBytes: cg.blkioWriteBytes,
    pids: cg.pidsCurrent,
  };
}

/** Docker's CPU %: the container's share of the host's CPU time between two samples, scaled to CPUs. */
export function cpuPercent(previous: StatsSample, current: StatsSample): number {
  const cpuDelta = current.cpuUsageNs - previous.cpuUsageNs;
  const systemDelta = current.systemCpuNs - previous.systemCpuNs;
  if (cpuDelta <= 0 || systemDelta <= 0) return 0;
  return (cpuDelta / systemDelta) * current.onlineCpus * 100;
}

export interface StatsStreamOptions {
  readonly intervalMs?: number;
  readonly signal?: AbortSignal;
  readonly sources?: StatsSources;
}

/**
 * One report per interval until the signal aborts or the container's cgroup goes away. Each report's CPU % is
 * measured over the interval before it, so the first arrives after one interval (Docker's first is a 0%).
 */
export async function* streamStats(
  handle: ContainerHandle,
  options: StatsStreamOptions = {},
): AsyncGenerator<ContainerStatsReport> {
  const intervalMs = options.intervalMs ?? 1000;
  const manager = (options.sources?.manager ?? ((h: ContainerHandle) => cgroupManager(h.cgroupPath)))(handle);
  const sources: StatsSources = { ...options.sources, manager: () => manager };
  let previous = await sampleStats(handle, sources);
  while (!options.signal?.aborted) {
    try {
      await sleep(intervalMs, undefined, { signal: options.signal });
    } catch {
      return; // aborted
    }
    if (!manager.exists()) return;
    const current = await sampleStats(handle, sources);
    yield { ...current, cpuPercent: cpuPercent(previous, current) };
    previous = current;
  }
}

/** `stats --no-stream`: one report, its CPU % measured over one interval. */
export async function statsOnce(
  handle: ContainerHandle,
  options: Omit<StatsStreamOptions, 'signal'> = {},
): Promise<ContainerStatsReport> {
  const controller = new AbortController();
  const stream = streamStats(handle, { ...options, signal: controller.signal });
  try {
    const first = await stream.next();
    if (!first.done) return first.value;
  } finally {
    controller.abort();
    await stream.return(undefined);
  }
  // The container stopped during the interval: what is left of it.
  const sample = await sampleStats(handle, options.sources);
  return { ...sample, cpuPercent: 0 };
}

/** The host's CPU time in ns: the sum of the first "cpu" line's user..softirq fields, as Docker sums them. */
export async function systemCpuTimeNs(procRoot = '/proc'): Promise<number> {
  const text = await readFile(`${procRoot}/stat`, 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error(`${procRoot}/stat has no "cpu" line`);
  // user nice system idle iowait irq softirq: steal and guest are not the host's own work.
  const ticks = line
    .trim()
    .split(/\s+/)
    .slice(1, 8)
    .reduce((sum, f) => sum + Number(f), 0);
  return ticks * NS_PER_TICK;
}

export async function onlineCpuCount(file = '/sys/devices/system/cpu/online'): Promise<number> {
  try {
    return parseCpuList('online cpus', (await readFile(file, 'utf8')).trim()).length;
  } catch {
    return cpus().length;
  }
}

/**
 * Bytes received and sent by a network namespace's interfaces, loopback excluded. `/proc/PID/net/dev` shows
 * the namespace of PID, so PID 1 of a container gives the container's.
 */
export async function networkBytes(netDevFile: string): Promise<{ rx: number; tx: number }> {
  let text: string;
  try {
    text = await readFile(netDevFile, 'utf8');
  } catch {
    return { rx: 0, tx: 0 }; // the process just exited
  }
  return parseNetDev(text);
}

export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  // Two header lines, then "  NAME: rx_bytes packets errs drop fifo frame compressed multicast tx_bytes ...".
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    if (line.slice(0, colon).trim() === 'lo') continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    rx += Number(fields[0] ?? 0);
    tx += Number(fields[8] ?? 0);
  }
  return { rx, tx };
}
