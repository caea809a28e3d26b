// cgroup v2 on a file tree laid out like a cgroup2 mount (this machine's cgroup2 mount has no controllers):
// what the manager writes and how it reads the kernel's stat files.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { cgroupManager, parseCgroupLayout, V2CgroupManager } from '../../pkg/cgroups/index.ts';
import { withTempDir } from '../helpers/tmp.ts';

const MiB = 1024 * 1024;
const CONTROLLERS = 'cpuset cpu io memory hugetlb pids rdma misc';

function layOut(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
}

/** A cgroup2 root and a parent that offer every controller, and a block dir whose disk uses mq-deadline. */
function fakeHost(root: string): { sysBlock: string; cgroupRoot: string } {
  const cgroupRoot = join(root, 'cgroup');
  layOut(cgroupRoot, { 'cgroup.controllers': CONTROLLERS, 'cgroup.subtree_control': '' });
  layOut(join(cgroupRoot, 'tsnet-test'), {
    'cgroup.controllers': CONTROLLERS,
    'cgroup.subtree_control': 'memory',
  });
  const sysBlock = join(root, 'block');
  layOut(join(sysBlock, 'vda', 'queue'), { scheduler: 'none [mq-deadline] kyber bfq\n' });
  return { sysBlock, cgroupRoot };
}

const removeTree = async (dir: string) => rmSync(dir, { recursive: true });
const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');

test('create enables the wanted controllers top-down; apply writes v2 files in v2 units', (t) =>
  withTempDir(async (tmp) => {
    const { sysBlock, cgroupRoot } = fakeHost(tmp);
    const m = new V2CgroupManager('tsnet-test/ctr', { root: cgroupRoot, sysBlock, removeDir: removeTree });
    await m.create();
    t.is(read(cgroupRoot, 'cgroup.subtree_control'), '+cpuset +cpu +io +memory +pids');
    // memory was already on: only the others are asked for
    t.is(read(join(cgroupRoot, 'tsnet-test'), 'cgroup.subtree_control'), '+cpuset +cpu +io +pids');

    // the files the kernel would show in the new cgroup (this one: no io.weight, only io.bfq.weight)
    layOut(m.dir, { 'memory.swap.max': 'max', 'io.bfq.weight': 'default 100' });
    const warnings = await m.apply({
      memory: 64 * MiB,
      memorySwap: 96 * MiB,
      memoryReservation: 32 * MiB,
      cpuShares: 512,
      nanoCpus: 1.5e9,
      cpusetCpus: '0-1',
      cpusetMems: '0',
      pidsLimit: 0,
      blkioWeight: 300,
      deviceReadBps: [{ major: 254, minor: 0, rate: MiB }],
      deviceWriteBps: [{ major: 254, minor: 0, rate: 2 * MiB }],
    });
    t.is(read(m.dir, 'memory.max'), String(64 * MiB));
    t.is(read(m.dir, 'memory.swap.max'), String(32 * MiB), 'v2 counts swap alone');
    t.is(read(m.dir, 'memory.low'), String(32 * MiB));
    t.is(read(m.dir, 'cpu.weight'), '20');
    t.is(read(m.dir, 'cpu.max'), '150000 100000');
    t.is(read(m.dir, 'cpuset.cpus'), '0-1');
    layOut(join(cgroupRoot, 'tsnet-test'), { 'cpuset.cpus.effective': '0-1\n' });
    await t.throwsAsync(m.apply({ cpusetCpus: '1-3' }), {
      message: /2,3 not available \(this host has 0-1\)/,
    });
    t.is(read(m.dir, 'cpuset.mems'), '0');
    t.is(read(m.dir, 'pids.max'), 'max');
    t.is(read(m.dir, 'io.bfq.weight'), '300');
    t.is(read(m.dir, 'io.max'), `254:0 rbps=${MiB} wbps=${2 * MiB}`);
    t.is(warnings.length, 1);
    t.regex(warnings[0] ?? '', /io\.bfq\.weight has no effect.*vda: mq-deadline/);

    await m.apply({ memory: 64 * MiB, memorySwap: -1, nanoCpus: 0, cpuQuota: -1, cpuPeriod: 50000 });
    t.is(read(m.dir, 'memory.swap.max'), 'max');
    t.is(read(m.dir, 'cpu.max'), 'max 50000');
  }));

test('io.weight takes the converted weight; missing swap accounting is a warning', (t) =>
  withTempDir(async (tmp) => {
    const { sysBlock, cgroupRoot } = fakeHost(tmp);
    const m = new V2CgroupManager('tsnet-test/ctr', { root: cgroupRoot, sysBlock });
    await m.create();
    layOut(m.dir, { 'io.weight': 'default 100' });
    const warnings = await m.apply({ blkioWeight: 1000, memory: 64 * MiB, memorySwap: 128 * MiB });
    t.is(read(m.dir, 'io.weight'), 'default 10000');
    t.true(warnings.some((w) => /swap limit ignored/.test(w)));
  }));

test('stats read cpu.stat, memory.stat working set, memory.events, io.stat and pids.current', (t) =>
  withTempDir(async (tmp) => {
    const { cgroupRoot } = fakeHost(tmp);
    const m = new V2CgroupManager('tsnet-test/ctr', { root: cgroupRoot });
    await m.create();
    layOut(m.dir, {
      'cpu.stat': 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 0\n',
      'memory.current': '10485760\n',
      'memory.stat': 'anon 4194304\nfile 6291456\nactive_file 1048576\ninactive_file 5242880\n',
      'memory.max': 'max\n',
      'memory.events': 'low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\noom_group_kill 0\n',
      'io.stat': '254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:0 rbytes=100 wbytes=0\n',
      'pids.current': '3\n',
    });
    t.deepEqual(await m.stats(), {
      cpuUsageNs: 2_500_000,
      memoryUsage: 10 * MiB,
      memoryWorkingSet: 5 * MiB,
      memoryLimit: null,
      pidsCurrent: 3,
      blkioReadBytes: 4196,
      blkioWriteBytes: 8192,
      oomKills: 1,
    });
    writeFileSync(join(m.dir, 'memory.max'), '67108864\n');
    t.is((await m.stats()).memoryLimit, 64 * MiB);
  }));

test('freeze waits for cgroup.events; pids span the subtree; destroy kills through cgroup.kill and removes', (t) =>
  withTempDir(async (tmp) => {
    const { cgroupRoot } = fakeHost(tmp);
    const layout = parseCgroupLayout(`29 23 0:26 / ${cgroupRoot} rw - cgroup2 cgroup2 rw\n`);
    const generic = cgroupManager('tsnet-test/ctr', layout);
    t.is(generic.version, 2);
    const removed: string[] = [];
    const m = new V2CgroupManager('tsnet-test/ctr', {
      root: cgroupRoot,
      removeDir: async (dir) => {
        removed.push(`${dir.slice(cgroupRoot.length)} kill=${read(m.dir, 'cgroup.kill')}`);
        await removeTree(dir);
      },
    });
    await m.create();
    await m.addProcess(4242);
    t.is(read(m.dir, 'cgroup.procs'), '4242');
    await t.throwsAsync(m.addProcess(-1), { message: /invalid pid/ });

    layOut(m.dir, { 'cgroup.events': 'populated 1\nfrozen 1\n' });
    await m.freeze();
    t.is(read(m.dir, 'cgroup.freeze'), '1');
    await m.thaw();
    t.is(read(m.dir, 'cgroup.freeze'), '0');

    layOut(join(m.dir, 'sub'), { 'cgroup.procs': '7\n3\n' });
    layOut(m.dir, { 'cgroup.procs': '5\n' });
    t.deepEqual(await m.pids(), [3, 5, 7]);

    // what the kernel does after cgroup.kill: the tasks are gone
    layOut(m.dir, { 'cgroup.kill': '', 'cgroup.procs': '' });
    writeFileSync(join(m.dir, 'sub', 'cgroup.procs'), '');
    await m.destroy();
    t.deepEqual(
      removed,
      ['/tsnet-test/ctr/sub kill=1', '/tsnet-test/ctr kill=1'],
      'deepest first, after the kill',
    );
    t.false(m.exists());
    t.true(read(cgroupRoot, 'cgroup.controllers').length > 0, 'the parent stays');
  }));
