// Issue 9 end to end through tsnetctl against a real agent: the run flags' limits as the container's cgroup
// v1 files and /proc show them, inspect's HostConfig, the OOM kill (137, OOMKilled), stop escalation, kill -s,
// --init, and the security defaults (capabilities, seccomp, masked /proc paths, --read-only).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import test from 'ava';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { cgroupFile, IMAGE, withWorld } from './world.ts';

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`tsnetctl end to end (${skip})`, () => undefined);

const MiB = 1024 * 1024;
/** A real block device for the throttle files (loop devices too are block devices). */
const BLOCK_DEVICE = readdirSync('/sys/block').find((d) => existsSync(`/dev/${d}`)) ?? 'vda';

e2e(
  'run limits land in the cgroup files and /proc; inspect HostConfig shows them; blkio weight warns',
  async (t) => {
    await withWorld(t, async (w) => {
      const run = await w.ctl(
        'run',
        '-d',
        '--network',
        'none',
        '--name',
        'lim',
        '-m',
        '64m',
        '--memory-swap',
        '128m',
        '-c',
        '512',
        '--cpus',
        '0.5',
        '--cpuset-cpus',
        '0',
        '--pids-limit',
        '50',
        '--blkio-weight',
        '300',
        '--device-read-bps',
        `/dev/${BLOCK_DEVICE}:1mb`,
        '--ulimit',
        'nofile=1024:2048',
        IMAGE,
        'busybox',
        'sleep',
        '1000',
      );
      t.is(run.code, 0, run.stderr);
      t.regex(
        run.stderr,
        /blkio.*weight.*(no effect|not supported|ignored)/i,
        'the weight warns it does nothing here',
      );
      const id = run.stdout.trim().split('\n').pop() ?? '';
      t.regex(id, /^[0-9a-f]{64}$/);
      t.is(cgroupFile(id, 'memory', 'memory.limit_in_bytes'), String(64 * MiB));
      t.is(cgroupFile(id, 'memory', 'memory.memsw.limit_in_bytes'), String(128 * MiB));
      t.is(cgroupFile(id, 'cpu', 'cpu.shares'), '512');
      t.is(
        cgroupFile(id, 'cpu', 'cpu.cfs_quota_us'),
        String(Number(cgroupFile(id, 'cpu', 'cpu.cfs_period_us')) / 2),
      );
      t.is(cgroupFile(id, 'cpuset', 'cpuset.cpus'), '0');
      t.is(cgroupFile(id, 'pids', 'pids.max'), '50');
      t.regex(
        cgroupFile(id, 'blkio', 'blkio.throttle.read_bps_device'),
        new RegExp(`^${readFileSync(`/sys/block/${BLOCK_DEVICE}/dev`, 'utf8').trim()} 1048576$`, 'm'),
      );
      const limits = await w.ok('exec', 'lim', 'busybox', 'cat', '/proc/1/limits');
      t.regex(limits, /^Max open files\s+1024\s+2048\s+files/m);
      const [inspected] = JSON.parse(await w.ok('inspect', 'lim')) as {
        HostConfig: Record<string, unknown>;
      }[];
      t.like(inspected?.HostConfig, {
        Memory: 64 * MiB,
        MemorySwap: 128 * MiB,
        CpuShares: 512,
        NanoCpus: 500_000_000,
        CpusetCpus: '0',
        PidsLimit: 50,
        BlkioWeight: 300,
      });
      t.is(await w.ok('inspect', '-f', '{{.HostConfig.Memory}}', 'lim'), `${64 * MiB}\n`);
    });
  },
);

e2e('OOM is 137 and OOMKilled; stop -t escalates; kill -s; --init runs tini as PID 1', async (t) => {
  await withWorld(t, async (w) => {
    // a shell variable doubling until it passes 8 MiB
    const oom = await w.ctl(
      'run',
      '--name',
      'oom',
      '--network',
      'none',
      '-m',
      '8m',
      '--memory-swap',
      '8m',
      IMAGE,
      'sh',
      '-c',
      'x=aaaaaaaaaaaaaaaa; while :; do x="$x$x"; done',
    );
    t.is(oom.code, 137, oom.stderr);
    t.is(await w.ok('inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'oom'), 'true 137\n');

    await w.ok('run', '-d', '--network', 'none', '--name', 'stubborn', IMAGE, 'busybox', 'sleep', '1000');
    const stop = await w.ctl('stop', '-t', '1', 'stubborn');
    t.is(stop.code, 0, stop.stderr);
    t.is(stop.stdout, 'stubborn\n');
    t.is(await w.ok('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'stubborn'), 'exited 137\n');

    await w.ok(
      'run',
      '-d',
      '--network',
      'none',
      '--name',
      'trap',
      IMAGE,
      'sh',
      '-c',
      'trap "echo got-usr1" USR1; while :; do busybox sleep 0.1; done',
    );
    t.is(await w.ok('kill', '-s', 'USR1', 'trap'), 'trap\n');
    const logs = async () => (await w.ctl('logs', 'trap')).stdout;
    for (let i = 0; i < 100 && !(await logs()).includes('got-usr1'); i++)
      await new Promise((r) => setTimeout(r, 100));
    t.regex(await logs(), /got-usr1/);
    const bad = await w.ctl('kill', '-s', 'NOPE', 'trap');
    t.not(bad.code, 0);
    t.is(bad.stderr.trimEnd().split('\n').length, 1, bad.stderr);
    t.regex(bad.stderr, /signal/i);
    t.notRegex(bad.stderr, /\n\s+at /);
    t.is(await w.ok('inspect', '-f', '{{.State.Running}}', 'trap'), 'true\n', 'a bad signal kills nothing');

    const init = await w.ctl(
      'run',
      '--rm',
      '--network',
      'none',
      '--init',
      IMAGE,
      'busybox',
      'cat',
      '/proc/1/cmdline',
    );
    t.is(init.code, 0, init.stderr);
    t.regex(init.stdout, /^\/sbin\/docker-init[\0 ]--[\0 ]busybox/, 'tini (mounted as docker-init) is PID 1');
  });
});

const capEff = (status: string) => BigInt(`0x${/^CapEff:\s+([0-9a-f]+)$/m.exec(status)?.[1] ?? 'x'}`);
// Docker's default set: chown dac_override fowner fsetid kill setgid setuid setpcap net_bind_service net_raw
// sys_chroot mknod audit_write setfcap
const DOCKER_DEFAULT_CAPS = 0xa80425fbn;
const CAP_NET_ADMIN = 1n << 12n;

e2e(
  'security: default caps, --cap-add/--cap-drop, --privileged, seccomp, masked /proc, --read-only',
  async (t) => {
    await withWorld(t, async (w) => {
      const status = (...flags: string[]) =>
        w.ok('run', '--rm', '--network', 'none', ...flags, IMAGE, 'busybox', 'cat', '/proc/1/status');
      t.is(capEff(await status()), DOCKER_DEFAULT_CAPS);
      t.is(capEff(await status('--cap-add', 'NET_ADMIN')), DOCKER_DEFAULT_CAPS | CAP_NET_ADMIN);
      t.is(capEff(await status('--cap-drop', 'ALL')), 0n);
      t.true(capEff(await status('--privileged')) > DOCKER_DEFAULT_CAPS);
      t.regex(await status(), /^Seccomp:\s+2$/m, 'the default seccomp profile filters');
      t.regex(await status('--security-opt', 'seccomp=unconfined'), /^Seccomp:\s+0$/m);

      const unshare = await w.ctl(
        'run',
        '--rm',
        '--network',
        'none',
        IMAGE,
        'busybox',
        'unshare',
        '-U',
        'busybox',
        'true',
      );
      t.not(unshare.code, 0, 'unshare -U is refused by the default profile');
      const unconfined = await w.ctl(
        'run',
        '--rm',
        '--network',
        'none',
        '--security-opt',
        'seccomp=unconfined',
        IMAGE,
        'busybox',
        'unshare',
        '-U',
        'busybox',
        'true',
      );
      t.is(unconfined.code, 0, unconfined.stderr);

      const masked = await w.ctl(
        'run',
        '--rm',
        '--network',
        'none',
        IMAGE,
        'sh',
        '-c',
        'busybox cat /proc/kcore | busybox wc -c; echo 1 > /proc/sys/kernel/domainname',
      );
      t.regex(masked.stdout, /^\s*0$/m, '/proc/kcore is masked');
      t.not(masked.code, 0, '/proc/sys is read-only');

      const ro = await w.ctl(
        'run',
        '--rm',
        '--network',
        'none',
        '--read-only',
        IMAGE,
        'busybox',
        'touch',
        '/x',
      );
      t.not(ro.code, 0);
      t.regex(ro.stderr, /Read-only file system/);
      const rw = await w.ctl('run', '--rm', '--network', 'none', IMAGE, 'busybox', 'touch', '/x');
      t.is(rw.code, 0, rw.stderr);
    });
  },
);

e2e(
  'a --sysctl of eth0 on the bridge is applied: runc writes it at create, once the interface is there',
  async (t) => {
    await withWorld(t, async (w) => {
      const run = await w.ctl(
        'run',
        '--rm',
        '--network',
        'bridge',
        '--sysctl',
        'net.ipv4.conf.eth0.rp_filter=2',
        IMAGE,
        'busybox',
        'cat',
        '/proc/sys/net/ipv4/conf/eth0/rp_filter',
      );
      t.is(run.code, 0, run.stderr);
      t.is(run.stdout.trim(), '2');
    });
  },
);
