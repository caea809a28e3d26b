import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import {
  blkioWeightWarning,
  CgroupError,
  cpuBandwidth,
  cpuSharesToWeight,
  cpuWeightToShares,
  hasBlkioWeightFile,
  memoryLimits,
  parseByteSize,
  parseCgroupLayout,
  parseCpuList,
  parseDeviceRate,
  swapOnlyLimit,
  validateCgroupPath,
  validateResources,
} from '../../pkg/cgroups/index.ts';
import { withTempDir } from '../helpers/tmp.ts';

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;

test('mountinfo: a hybrid host maps each v1 controller to its mount and keeps the cgroup2 mount', (t) => {
  const layout = parseCgroupLayout(HYBRID);
  t.is(layout.mode, 'hybrid');
  t.is(layout.v1.get('memory'), '/sys/fs/cgroup/memory');
  t.is(layout.v1.get('name=systemd'), '/sys/fs/cgroup/systemd');
  t.false(layout.v1.has('pids'));
  t.is(layout.unified, '/sys/fs/cgroup/unified');
});

test('mountinfo: co-mounted cpu,cpuacct share one mount; pure v2 and pure v1 are told apart', (t) => {
  const comounted = parseCgroupLayout(
    '30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n',
  );
  t.is(comounted.mode, 'v1');
  t.is(comounted.v1.get('cpu'), '/sys/fs/cgroup/cpu,cpuacct');
  t.is(comounted.v1.get('cpuacct'), '/sys/fs/cgroup/cpu,cpuacct');
  const v2 = parseCgroupLayout('29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n');
  t.is(v2.mode, 'v2');
  t.is(v2.unified, '/sys/fs/cgroup');
  t.throws(() => parseCgroupLayout('22 1 0:21 / /proc rw - proc proc rw\n'), { instanceOf: CgroupError });
});

test('cpu shares ↔ cpu.weight follow runc 1.1', (t) => {
  for (const [shares, weight] of [
    [0, 0],
    [2, 1],
    [1024, 39],
    [512, 20],
    [262144, 10000],
  ] as const) {
    t.is(cpuSharesToWeight(shares), weight, `shares ${shares}`);
  }
  t.is(cpuWeightToShares(1), 2);
  t.is(cpuWeightToShares(10000), 262144);
});

test('--cpus becomes quota/period; explicit quota passes through', (t) => {
  t.deepEqual(cpuBandwidth({ nanoCpus: 1.5e9 }), { quota: 150000, period: 100000 });
  t.deepEqual(cpuBandwidth({ nanoCpus: 0.01e9 }), { quota: 1000, period: 100000 });
  t.deepEqual(cpuBandwidth({ cpuQuota: 50000 }), { quota: 50000, period: 100000 });
  t.is(cpuBandwidth({}), undefined);
});

test('memory-swap semantics: unset doubles, -1 unlimited, a value is the memory+swap total', (t) => {
  const mib = 1024 * 1024;
  t.deepEqual(memoryLimits({ memory: 64 * mib }), { limit: 64 * mib, limitWithSwap: 128 * mib });
  t.deepEqual(memoryLimits({ memory: 64 * mib, memorySwap: -1 }), { limit: 64 * mib, limitWithSwap: -1 });
  const total = memoryLimits({ memory: 64 * mib, memorySwap: 96 * mib });
  t.deepEqual(total, { limit: 64 * mib, limitWithSwap: 96 * mib });
  t.is(swapOnlyLimit(total ?? { limit: 0, limitWithSwap: 0 }), 32 * mib);
  t.is(memoryLimits({}), undefined);
});

test('bad values are refused with the field named', (t) => {
  const mib = 1024 * 1024;
  const cases: [Parameters<typeof validateResources>[0], RegExp][] = [
    [{ memory: -1 }, /memory limit -1/],
    [{ memory: 1024 }, /minimum is 6 MiB/],
    [{ memory: 64 * mib, memorySwap: 32 * mib }, /at least the memory limit/],
    [{ memorySwap: 64 * mib }, /needs a memory limit/],
    [{ memory: 64 * mib, memoryReservation: 128 * mib }, /reservation .* smaller/],
    [{ cpuShares: 1 }, /cpu shares 1/],
    [{ cpuShares: 300000 }, /cpu shares/],
    [{ nanoCpus: 1e6 }, /minimum is 0.01/],
    [{ nanoCpus: 1e9, cpuQuota: 5000 }, /cannot be combined/],
    [{ cpusetCpus: '3-1' }, /reversed/],
    [{ cpusetCpus: 'abc' }, /list like/],
    [{ pidsLimit: -5 }, /pids limit -5/],
    [{ blkioWeight: 5 }, /blkio weight 5/],
    [{ deviceReadBps: [{ major: 8, minor: 0, rate: 0 }] }, /device read bps rate 0/],
    [{ memory: 1.5 * mib * 10.1 }, /integer/],
  ];
  for (const [r, message] of cases) {
    t.throws(() => validateResources(r), { instanceOf: CgroupError, message }, JSON.stringify(r));
  }
  t.throws(() => validateResources({ nanoCpus: 64e9 }, { onlineCpus: 2 }), { message: /only 2 CPUs/ });
  t.notThrows(() => validateResources({ memory: 64 * mib, memorySwap: -1, pidsLimit: -1, cpuShares: 0 }));
  t.deepEqual(parseCpuList('cpus', '0-2,5'), [0, 1, 2, 5]);
});

test('cgroup paths are validated before they become directories', (t) => {
  t.is(validateCgroupPath('/tsnet/abc/'), 'tsnet/abc');
  for (const bad of ['', '/', 'tsnet/../etc', 'tsnet//x', 'a b', '.hidden']) {
    t.throws(() => validateCgroupPath(bad), { instanceOf: CgroupError }, bad);
  }
});

test("sizes parse like Docker's RAMInBytes; device rates resolve the device's numbers", (t) => {
  for (const [text, bytes] of [
    ['1024', 1024],
    ['64k', 65536],
    ['512m', 512 * 2 ** 20],
    ['1.5g', 1.5 * 2 ** 30],
    ['2GiB', 2 * 2 ** 30],
    ['1 MB', 2 ** 20],
  ] as const) {
    t.is(parseByteSize(text), bytes, text);
  }
  for (const bad of ['12x', '', '-1m', 'm', '1..2g']) {
    t.throws(() => parseByteSize(bad), { instanceOf: CgroupError, message: /invalid size/ }, bad);
  }
  const disk = ['vda', 'sda', 'nvme0n1', 'xvda'].find((d) => existsSync(`/dev/${d}`));
  if (disk) {
    const want = readFileSync(`/sys/block/${disk}/dev`, 'utf8').trim();
    const rate = parseDeviceRate(`/dev/${disk}:1mb`);
    t.is(`${rate.major}:${rate.minor}`, want, 'the numbers sysfs shows');
    t.is(rate.rate, 2 ** 20);
  }
  t.throws(() => parseDeviceRate('/dev/null:1mb'), { message: /not a block device/ });
  t.throws(() => parseDeviceRate('/dev/nope:1mb'), { message: /ENOENT/ });
  t.throws(() => parseDeviceRate('1mb'), { message: /DEVICE:RATE/ });
});

test('a weight file exists when BFQ is among the schedulers, or when the root or a child of it has one', async (t) => {
  await withTempDir(async (dir) => {
    const sysBlock = join(dir, 'block');
    const root = join(dir, 'blkio');
    mkdirSync(join(sysBlock, 'vda', 'queue'), { recursive: true });
    mkdirSync(join(root, 'system.slice'), { recursive: true });
    writeFileSync(join(sysBlock, 'vda', 'queue', 'scheduler'), 'none [mq-deadline] kyber\n');
    writeFileSync(join(root, 'blkio.throttle.read_bps_device'), '');
    t.false(hasBlkioWeightFile([root], sysBlock), 'this kernel: no bfq, no weight file');
    t.is(
      blkioWeightWarning(300, 'blkio.bfq.weight', sysBlock),
      'blkio weight 300 written to blkio.bfq.weight has no effect: no block device uses the bfq scheduler (vda: mq-deadline)',
    );
    t.regex(
      blkioWeightWarning(300, undefined, sysBlock) ?? '',
      /ignored: this kernel has no blkio\/io weight file/,
    );
    t.false(hasBlkioWeightFile([], join(dir, 'nonexistent')));

    writeFileSync(join(sysBlock, 'vda', 'queue', 'scheduler'), 'none mq-deadline kyber bfq\n');
    t.true(hasBlkioWeightFile([root], sysBlock), 'bfq loaded, even when no disk uses it');
    writeFileSync(join(sysBlock, 'vda', 'queue', 'scheduler'), 'none [bfq]\n');
    t.true(hasBlkioWeightFile([root], sysBlock));
    t.is(
      blkioWeightWarning(300, 'blkio.bfq.weight', sysBlock),
      undefined,
      'a disk under bfq: the weight works',
    );

    writeFileSync(join(sysBlock, 'vda', 'queue', 'scheduler'), '[none] mq-deadline\n');
    writeFileSync(join(root, 'system.slice', 'io.weight'), 'default 100\n');
    t.true(hasBlkioWeightFile([root], sysBlock), 'iocost: io.weight in the root children');
  });
});
