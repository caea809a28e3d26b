// cgroup v1 against this machine's real cgroupfs: limits land in the files, a joined process is frozen and
// measured, destroy kills and removes everything. Skips where v1 is not mounted.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { cgroupManager, detectCgroupLayout, V1CgroupManager } from '../../pkg/cgroups/index.ts';
import { withTempDir } from '../helpers/tmp.ts';

const layout = detectCgroupLayout();
const v1 = layout.mode === 'v2' ? test.skip : test.serial;
const MiB = 1024 * 1024;

/** A test parent in every hierarchy, removed with everything under it whatever happens. */
function testParent(t: { teardown(fn: () => Promise<void>): void }): string {
  const parent = `tsnet-test-${randomBytes(4).toString('hex')}`;
  t.teardown(() => cgroupManager(parent, layout).destroy());
  return parent;
}

/** A shell that waits for a line on stdin before it runs `script`, so it can join a cgroup first. */
function gatedShell(script: string): ChildProcess {
  const child = spawn('sh', ['-c', `read _; ${script}`], { stdio: ['pipe', 'ignore', 'ignore'] });
  child.on('error', () => undefined);
  return child;
}

function release(child: ChildProcess): void {
  child.stdin?.write('go\n');
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim();
/** A whole disk to throttle and read from (throttles apply to disks, not partitions). */
function findDisk(): { name: string; major: number; minor: number } | undefined {
  for (const name of ['vda', 'sda', 'nvme0n1', 'xvda']) {
    if (!existsSync(`/sys/block/${name}/dev`)) continue;
    const [major = 0, minor = 0] = readFileSync(`/sys/block/${name}/dev`, 'utf8')
      .trim()
      .split(':')
      .map(Number);
    return { name, major, minor };
  }
  return undefined;
}
const disk = findDisk();

v1('limits are written to the v1 files and a joined process lives under them', async (t) => {
  const parent = testParent(t);
  const m = new V1CgroupManager(layout, `${parent}/ctr`);
  await m.create();
  const child = gatedShell('exec sleep 100');
  t.teardown(() => void child.kill('SIGKILL'));
  await m.addProcess(child.pid ?? 0);
  const warnings = await m.apply({
    memory: 64 * MiB,
    memorySwap: 96 * MiB,
    memoryReservation: 32 * MiB,
    cpuShares: 512,
    nanoCpus: 1.5e9,
    cpusetCpus: '0',
    pidsLimit: 50,
    blkioWeight: 500,
    deviceReadBps: disk ? [{ major: disk.major, minor: disk.minor, rate: MiB }] : [],
    deviceWriteBps: disk ? [{ major: disk.major, minor: disk.minor, rate: 2 * MiB }] : [],
  });
  t.is(read(m.dir('memory'), 'memory.limit_in_bytes'), String(64 * MiB));
  t.is(read(m.dir('memory'), 'memory.memsw.limit_in_bytes'), String(96 * MiB));
  t.is(read(m.dir('memory'), 'memory.soft_limit_in_bytes'), String(32 * MiB));
  t.is(read(m.dir('cpu'), 'cpu.shares'), '512');
  t.is(read(m.dir('cpu'), 'cpu.cfs_quota_us'), '150000');
  t.is(read(m.dir('cpu'), 'cpu.cfs_period_us'), '100000');
  t.is(read(m.dir('cpuset'), 'cpuset.cpus'), '0');
  t.is(read(m.dir('pids'), 'pids.max'), '50');
  if (disk) {
    t.is(read(m.dir('blkio'), 'blkio.throttle.read_bps_device'), `${disk.major}:${disk.minor} ${MiB}`);
    t.is(read(m.dir('blkio'), 'blkio.throttle.write_bps_device'), `${disk.major}:${disk.minor} ${2 * MiB}`);
  }
  // This kernel only has blkio.bfq.weight and the disk is not under bfq: written, and reported.
  if (existsSync(join(m.dir('blkio'), 'blkio.bfq.weight'))) {
    t.regex(read(m.dir('blkio'), 'blkio.bfq.weight'), /500/);
  }
  const bfqInUse = disk && readFileSync(`/sys/block/${disk.name}/queue/scheduler`, 'utf8').includes('[bfq]');
  if (!bfqInUse)
    t.true(
      warnings.some((w) => /has no effect|ignored/.test(w)),
      warnings.join('; '),
    );
  t.deepEqual(await m.pids(), [child.pid]);
  if (layout.mode === 'hybrid' && layout.unified) {
    // runc joins the cgroup2 mount of a hybrid host too; so does the manager, so destroy finds it
    t.true(
      read(join(layout.unified, parent, 'ctr'), 'cgroup.procs')
        .split('\n')
        .includes(String(child.pid)),
    );
  }
  t.true(read(m.dir('memory'), 'cgroup.procs').split('\n').includes(String(child.pid)));

  // Lowering the limit below memsw, then raising it past the old memsw, both keep limit <= memsw.
  await m.apply({ memory: 16 * MiB, memorySwap: 16 * MiB });
  t.is(read(m.dir('memory'), 'memory.memsw.limit_in_bytes'), String(16 * MiB));
  await m.apply({ memory: 256 * MiB, memorySwap: -1 });
  t.is(read(m.dir('memory'), 'memory.limit_in_bytes'), String(256 * MiB));

  // CPUs the host lacks are named before the kernel's bare EINVAL
  await t.throwsAsync(m.apply({ cpusetCpus: '0-4000' }), {
    message: /cpuset cpus "0-4000": .* not available \(this host has /i,
  });
  t.is(read(m.dir('cpuset'), 'cpuset.cpus'), '0');
});

v1('a joined process is frozen and thawed, and its work shows in the stats', (t) =>
  withTempDir(async (tmp) => {
    const parent = testParent(t);
    const m = cgroupManager(`${parent}/ctr`, layout);
    await m.create();
    // direct I/O to a file on the disk: raw block devices may not be opened here
    const file = join(tmp, 'io');
    const onDisk = disk !== undefined && ((statSync(tmp).dev >> 8) & 0xfff) === disk.major;
    const io = onDisk
      ? `dd if=/dev/zero of=${file} bs=4096 count=16 oflag=direct 2>/dev/null; dd if=${file} of=/dev/null bs=4096 iflag=direct 2>/dev/null;`
      : '';
    const child = gatedShell(`i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; ${io} exec sleep 100`);
    t.teardown(() => void child.kill('SIGKILL'));
    await m.addProcess(child.pid ?? 0);
    release(child);
    const comm = () => readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim();
    while (comm() !== 'sleep') await new Promise((r) => setTimeout(r, 10));

    const stats = await m.stats();
    t.true(stats.cpuUsageNs > 0, `cpu ${stats.cpuUsageNs}`);
    t.true(stats.memoryUsage > 0);
    t.true(stats.memoryWorkingSet <= stats.memoryUsage);
    t.is(stats.memoryLimit, null);
    t.is(stats.pidsCurrent, 1);
    if (onDisk) {
      t.true(stats.blkioReadBytes >= 16 * 4096, `read ${stats.blkioReadBytes}`);
      t.true(stats.blkioWriteBytes >= 16 * 4096, `written ${stats.blkioWriteBytes}`);
    }
    t.is(stats.oomKills, 0);

    await m.freeze();
    const v1m = m as V1CgroupManager;
    t.is(read(v1m.dir('freezer'), 'freezer.state'), 'FROZEN');
    const state = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.[0];
    t.true(state === 'D' || state === 'S', `state ${state}`);
    await m.thaw();
    t.is(read(v1m.dir('freezer'), 'freezer.state'), 'THAWED');
  }),
);

v1('an OOM kill is counted; destroy kills the tasks and leaves no directory in any hierarchy', async (t) => {
  const parent = testParent(t);
  const m = cgroupManager(`${parent}/ctr`, layout);
  await m.create();
  await m.apply({ memory: 16 * MiB, memorySwap: 16 * MiB });
  // tail -c keeps the last 100 MB in memory: far over the limit
  const hog = gatedShell('head -c 200000000 /dev/zero | tail -c 100000000 >/dev/null');
  const sleeper = gatedShell('exec sleep 100');
  t.teardown(() => {
    hog.kill('SIGKILL');
    sleeper.kill('SIGKILL');
  });
  await m.addProcess(hog.pid ?? 0);
  await m.addProcess(sleeper.pid ?? 0);
  const hogExit = new Promise((resolve) => hog.on('exit', resolve));
  release(hog);
  await hogExit;
  t.true((await m.stats()).oomKills >= 1);

  const sleeperExit = new Promise<NodeJS.Signals | null>((resolve) =>
    sleeper.on('exit', (_, s) => resolve(s)),
  );
  await m.destroy();
  t.is(await sleeperExit, 'SIGKILL');
  const mounts = [...layout.v1.values(), ...(layout.unified ? [layout.unified] : [])];
  for (const mount of mounts) t.false(existsSync(join(mount, parent, 'ctr')), mount);
  t.false(m.exists());
  await m.destroy(); // idempotent
});
