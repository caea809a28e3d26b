// stats and top on a real busybox container under conmon+runc with a memory limit: the limit, working-set
// memory (page cache excluded), PIDs, CPU time, block reads and network bytes from its netns. The oracles are
// the cgroup files read directly, `runc ps`, `ip -s link` and /proc/stat. Parsers are checked on fixed text.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { detectCgroupLayout } from '../../pkg/cgroups/index.ts';
import { ContainerStateError } from '../../pkg/container/handle.ts';
import {
  cpuPercent,
  parseNetDev,
  type StatsSample,
  sampleStats,
  statsOnce,
  streamStats,
  systemCpuTimeNs,
} from '../../pkg/runtime/stats.ts';
import { parsePsOutput, TopArgumentError, topContainer, validatePsArgs } from '../../pkg/runtime/top.ts';
import { type FixtureContainer, runFixtureContainer, whyContainersCannotRun } from '../helpers/container.ts';
import { fixtureHandle, stoppedHandle } from '../helpers/handle.ts';
import { ip, ipJson, nsexec, uniqueIfname, withNetnses } from '../helpers/netns.ts';
import { withTempDir } from '../helpers/tmp.ts';

const MiB = 1024 * 1024;

const zeroSample: StatsSample = {
  id: 'x',
  name: 'x',
  timeUnixNano: 0n,
  cpuUsageNs: 0,
  systemCpuNs: 0,
  onlineCpus: 1,
  memoryUsage: 0,
  memoryLimit: 0,
  netRxBytes: 0,
  netTxBytes: 0,
  blockReadBytes: 0,
  blockWriteBytes: 0,
  pids: 0,
};

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0:   5000      40    0    0    0     0          0         0     3000      30    0    0    0     0       0          0
 veth1: 7 1 0 0 0 0 0 0 11 1 0 0 0 0 0 0
`;

test('parseNetDev sums every interface but lo', (t) => {
  t.deepEqual(parseNetDev(NET_DEV), { rx: 5007, tx: 3011 });
});

test("cpuPercent is Docker's: container time over host time, times online CPUs", (t) => {
  const at = (cpu: number, system: number): StatsSample => ({
    ...zeroSample,
    cpuUsageNs: cpu,
    systemCpuNs: system,
    onlineCpus: 2,
  });
  // half a CPU of a 2-CPU host: 0.5 s of 2 s host time (1 s wall) → 50 %
  t.is(cpuPercent(at(0, 0), at(0.5e9, 2e9)), 50);
  t.is(cpuPercent(at(1e9, 2e9), at(1e9, 4e9)), 0);
  t.is(cpuPercent(at(1e9, 2e9), at(2e9, 2e9)), 0, 'no host time passed: no division by zero');
});

test('systemCpuTimeNs sums user..softirq of /proc/stat in nanoseconds', async (t) => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'stat'), 'cpu  100 1 20 300 4 0 5 7 0 0\ncpu0 50 0 10 150 2 0 3 3 0 0\n');
    t.is(await systemCpuTimeNs(dir), (100 + 1 + 20 + 300 + 4 + 0 + 5) * 1e7);
  });
});

test("top: Docker's ps parsing, thread lines, the PID column required, pid= the only rename", (t) => {
  const ps = [
    'UID   PID  PPID C STIME TTY TIME CMD',
    'root  10   1    0 10:00 ?   00:00 sleep 100000',
    'root  -    -    0 10:00 ?   00:00 -',
    'root  11   1    0 10:00 ?   00:00 other',
    'root  -    -    0 10:00 ?   00:00 -',
    'root  12   10   0 10:00 ?   00:00 sh -c echo  x',
    '',
  ].join('\n');
  const top = parsePsOutput(ps, new Set([10, 12]));
  t.deepEqual(top.titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  t.deepEqual(
    top.processes.map((p) => p[7]),
    ['sleep 100000', '-', 'sh -c echo x'],
  );
  t.throws(() => parsePsOutput('UID CMD\nroot sh\n', new Set()), {
    instanceOf: TopArgumentError,
    message: "Couldn't find PID field in ps output",
  });
  t.throws(() => validatePsArgs(['-o', 'user=PID']), { message: 'specifying "user=PID" is not allowed' });
  t.notThrows(() => validatePsArgs(['-o', 'pid=PID,comm']));
});

test('a container that is not running: zeros and the node memory, no stream, top refused', async (t) => {
  const handle = stoppedHandle('/nonexistent', { cgroupPath: `tsnet-test-gone-${process.pid}` });
  const report = await statsOnce(handle, { intervalMs: 10 });
  t.like(report, { cpuPercent: 0, cpuUsageNs: 0, memoryUsage: 0, pids: 0, netRxBytes: 0 });
  t.true(report.memoryLimit > 0);
  const reports = [];
  for await (const r of streamStats(handle, { intervalMs: 10 })) reports.push(r);
  t.deepEqual(reports, []);
  await t.throwsAsync(topContainer(handle, []), {
    instanceOf: ContainerStateError,
    message: /is not running/,
  });
  await t.throwsAsync(topContainer({ ...handle, status: 'paused', pid: 1 }, []), { message: /is paused/ });
});

// ------------------------------------------------------------------------------------- a real container

const skipReason = whyContainersCannotRun({ conmon: true });
const containerTest = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`stats: ${skipReason}`, () => undefined);

/** The container's script: read an uncached file (block reads), write 32 MiB (page cache), then spin. */
const SCRIPT = [
  'cat /uncached >/dev/null',
  'busybox dd if=/dev/zero of=/big bs=1M count=32 2>/dev/null',
  'busybox yes >/dev/null &',
  'sleep 100000 &',
  ': >/ready',
  'wait',
].join('\n');

async function withStatsContainer(fn: (c: FixtureContainer, rootfs: string) => Promise<void>): Promise<void> {
  const c = await runFixtureContainer({
    args: ['sh', '-c', SCRIPT],
    // --cpus 0.2 keeps `yes` from taking a CPU from the other tests on this shared machine
    resources: { memory: 64 * MiB, nanoCpus: 0.2e9 },
    start: false,
  });
  try {
    const rootfs = join(c.bundleDir, 'rootfs');
    // Written, synced and dropped from the page cache here, so the container's cat reads it from the disk.
    execFileSync(
      'dd',
      ['if=/dev/urandom', `of=${join(rootfs, 'uncached')}`, 'bs=1M', 'count=8', 'conv=fsync'],
      {
        stdio: 'ignore',
      },
    );
    execFileSync('dd', [`if=${join(rootfs, 'uncached')}`, 'iflag=nocache', 'count=0'], { stdio: 'ignore' });
    await c.runc.start(c.id);
    for (let i = 0; !existsSync(join(rootfs, 'ready')); i++) {
      if (i > 500) throw new Error(`the container did not get ready: ${readFileSync(c.logPath, 'utf8')}`);
      await sleep(20);
    }
    await fn(c, rootfs);
  } finally {
    await c.cleanup();
  }
}

function runcPs(c: FixtureContainer): number[] {
  return JSON.parse(
    execFileSync('runc', ['--root', c.runc.root, 'ps', '--format', 'json', c.id], { encoding: 'utf8' }),
  ) as number[];
}

function memoryFile(c: FixtureContainer, file: string): string {
  const mount = detectCgroupLayout().v1.get('memory');
  if (mount === undefined) throw new Error('the oracle reads cgroup v1 memory files');
  return readFileSync(join(mount, c.cgroupPath, file), 'utf8').trim();
}

containerTest('stats: the memory limit, usage without page cache, PIDs, CPU and block reads', async (t) => {
  await withStatsContainer(async (c) => {
    const handle = fixtureHandle(c);
    // sh, yes and sleep: wait until both children run
    for (let i = 0; runcPs(c).length < 3; i++) {
      if (i > 200) throw new Error(`the container has ${runcPs(c).length} processes`);
      await sleep(20);
    }
    const report = await statsOnce(handle, { intervalMs: 300 });
    t.is(report.id, c.id);
    t.is(report.memoryLimit, 64 * MiB);
    t.is(report.memoryLimit, Number(memoryFile(c, 'memory.limit_in_bytes')));

    // the 32 MiB file just written sits in the cgroup's page cache: the raw usage has it, ours does not
    const rawUsage = Number(memoryFile(c, 'memory.usage_in_bytes'));
    t.log(`working set ${report.memoryUsage} B, cgroup usage ${rawUsage} B`);
    t.true(rawUsage >= 32 * MiB, `cgroup usage ${rawUsage} holds the page cache`);
    t.true(report.memoryUsage > 0);
    t.true(report.memoryUsage + 16 * MiB < rawUsage, `working set ${report.memoryUsage} excludes the cache`);

    t.is(report.pids, runcPs(c).length);
    t.true(report.cpuPercent > 0, `yes runs: ${report.cpuPercent}%`);
    t.true(report.cpuUsageNs > 0);
    t.is(report.onlineCpus, Number(execFileSync('getconf', ['_NPROCESSORS_ONLN'], { encoding: 'utf8' })));
    t.true(report.blockReadBytes >= 8 * MiB, `the uncached 8 MiB were read: ${report.blockReadBytes} B`);

    // the stream: one report per interval, each with its own CPU %, until aborted
    const controller = new AbortController();
    const reports = [];
    for await (const r of streamStats(handle, { intervalMs: 200, signal: controller.signal })) {
      reports.push(r);
      if (reports.length === 2) controller.abort();
    }
    t.is(reports.length, 2);
    t.true(reports.every((r) => r.cpuPercent > 0));
    t.true((reports[1]?.cpuUsageNs ?? 0) > (reports[0]?.cpuUsageNs ?? 0));
  });
});

containerTest("top lists the container's processes, and only them", async (t) => {
  await withStatsContainer(async (c) => {
    const handle = fixtureHandle(c);
    // Three processes are not enough: a forked sh shows as `sh -c ...` until it has exec'ed its command.
    const cmdOf = (top: Awaited<ReturnType<typeof topContainer>>) =>
      top.processes.map((p) => p[top.titles.indexOf('CMD')]);
    let top = await topContainer(handle, []);
    for (let i = 0; !['sleep 100000', 'busybox yes'].every((cmd) => cmdOf(top).includes(cmd)); i++) {
      if (i > 200) throw new Error(`the container did not start its children: ${cmdOf(top).join(' | ')}`);
      await sleep(20);
      top = await topContainer(handle, []);
    }
    const pidColumn = top.titles.indexOf('PID');
    const cmdColumn = top.titles.indexOf('CMD');
    t.deepEqual(
      top.processes.map((p) => Number(p[pidColumn])).sort((a, b) => a - b),
      runcPs(c).sort((a, b) => a - b),
    );
    const commands = top.processes.map((p) => p[cmdColumn]);
    t.true(commands.includes('sleep 100000'), commands.join(' | '));
    t.true(commands.includes('busybox yes'), commands.join(' | '));

    const custom = await topContainer(handle, ['-o', 'pid,comm']);
    t.deepEqual(custom.titles, ['PID', 'COMMAND']);
    t.is(custom.processes.length, 3);
    // `f` (forest) refuses ps's -q: the fallback lists everything, then filters
    const forest = await topContainer(handle, ['-ef', 'f']);
    t.is(forest.processes.length, 3);
    await t.throwsAsync(topContainer(handle, ['-o', 'comm']), {
      message: "Couldn't find PID field in ps output",
    });
  });
});

containerTest("stats: network bytes of the container's netns grow with a ping from a peer", async (t) => {
  await withStatsContainer(async (c) => {
    await withNetnses('stpeer', 1, async ([peer]) => {
      if (!peer) throw new Error('no peer netns');
      const inside = uniqueIfname('sti');
      const outside = uniqueIfname('sto');
      ip(c.netnsPath, 'link', 'add', inside, 'type', 'veth', 'peer', 'name', outside, 'netns', peer.name);
      ip(c.netnsPath, 'addr', 'add', '198.18.77.1/24', 'dev', inside);
      ip(c.netnsPath, 'link', 'set', inside, 'up');
      ip(c.netnsPath, 'link', 'set', 'lo', 'up');
      ip(peer.path, 'addr', 'add', '198.18.77.2/24', 'dev', outside);
      ip(peer.path, 'link', 'set', outside, 'up');
      // loopback traffic is not counted: it never leaves the container
      nsexec(c.netnsPath, 'ping', ['-c', '2', '-i', '0.2', '-q', '127.0.0.1']);
      const before = await sampleStats(fixtureHandle(c));
      nsexec(peer.path, 'ping', ['-c', '5', '-i', '0.2', '-q', '198.18.77.1']);
      const after = await sampleStats(fixtureHandle(c));
      type Link = { stats64: { rx: { bytes: number }; tx: { bytes: number } } };
      const [oracle] = ipJson<Link[]>(c.netnsPath, '-s', 'link', 'show', inside);
      // 5 echo requests in, 5 replies out: 98 bytes per frame on the wire
      t.true(after.netRxBytes - before.netRxBytes >= 5 * 98, `rx ${before.netRxBytes} → ${after.netRxBytes}`);
      t.true(after.netTxBytes - before.netTxBytes >= 5 * 98, `tx ${before.netTxBytes} → ${after.netTxBytes}`);
      t.true(after.netRxBytes <= (oracle?.stats64.rx.bytes ?? 0), 'never more than ip -s link counts');
      const hostNetwork = await sampleStats(fixtureHandle(c, { netnsPath: undefined }));
      t.like(hostNetwork, { netRxBytes: 0, netTxBytes: 0 }, 'no netns of its own: not the node traffic');
    });
  });
});
