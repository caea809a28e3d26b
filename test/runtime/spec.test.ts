// Table tests for the run options → OCI spec conversion, on fixed host facts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import {
  ALL_CAPABILITIES,
  CapabilityError,
  capabilityMask,
  containerCapabilities,
  DEFAULT_CAPABILITIES,
  hostCapabilities,
} from '../../pkg/runtime/capabilities.ts';
import { currentHardLimits, hasSysResource, parseUlimit, UlimitError } from '../../pkg/runtime/rlimits.ts';
import { DEFAULT_SECCOMP_PROFILE, seccompForContainer } from '../../pkg/runtime/seccomp.ts';
import {
  buildSpec,
  type HostFacts,
  MASKED_PATHS,
  READONLY_PATHS,
  type RunOptions,
  SpecError,
  specToJson,
} from '../../pkg/runtime/spec.ts';
import { resolveUser, UserSpecError } from '../../pkg/runtime/user.ts';
import { withTempDir } from '../helpers/tmp.ts';

const HOST: HostFacts = {
  hardLimits: new Map([
    ['RLIMIT_NOFILE', 20000],
    ['RLIMIT_NPROC', 96363],
    ['RLIMIT_CORE', Number.POSITIVE_INFINITY],
  ]),
  canRaiseLimits: false,
  oomScoreAdj: 0,
  onlineCpus: 2,
  arch: 'x64',
  kernelRelease: '6.18.44-fc',
  cgroupVersion: 1,
  sysBlock: '/nonexistent',
  blkioWeightFile: true,
};

function withRootfs(fn: (rootfs: string) => void | Promise<void>) {
  return withTempDir(async (dir) => {
    mkdirSync(join(dir, 'etc'));
    writeFileSync(
      join(dir, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\n# a comment\napp:x:1000:1000:app:/home/app:/bin/sh\nweb:x:33:33::/var/www:/bin/false\n',
    );
    writeFileSync(
      join(dir, 'etc/group'),
      'root:x:0:\naudio:x:29:app,web\nvideo:x:44:app\napp:x:1000:\nwww-data:x:33:\n',
    );
    await fn(dir);
  });
}

const spec = (rootfs: string, opts: Partial<RunOptions> = {}, host: HostFacts = HOST) =>
  buildSpec({ rootfs, cmd: ['true'], ...opts }, host);

test('capabilities: Docker default, drop/add, ALL, privileged, bad names', (t) => {
  t.deepEqual(containerCapabilities().sort(), [...DEFAULT_CAPABILITIES].sort());
  t.is(capabilityMask(DEFAULT_CAPABILITIES), 0xa80425fbn, 'the CapEff Docker containers show');
  const changed = containerCapabilities({ add: ['net_admin', 'CAP_SYS_PTRACE'], drop: ['NET_RAW', 'mknod'] });
  t.true(changed.includes('CAP_NET_ADMIN') && changed.includes('CAP_SYS_PTRACE'));
  t.false(changed.includes('CAP_NET_RAW') || changed.includes('CAP_MKNOD'));
  t.deepEqual(containerCapabilities({ drop: ['ALL'], add: ['chown'] }), ['CAP_CHOWN']);
  t.deepEqual(containerCapabilities({ drop: ['all'] }), []);
  const allButAdmin = containerCapabilities({ add: ['ALL'], drop: ['SYS_ADMIN'] });
  t.is(allButAdmin.length, ALL_CAPABILITIES.length - 1);
  t.false(allButAdmin.includes('CAP_SYS_ADMIN'));
  t.is(containerCapabilities({ privileged: true, drop: ['ALL'] }).length, ALL_CAPABILITIES.length);
  t.throws(() => containerCapabilities({ add: ['CAP_FLY'] }), {
    instanceOf: CapabilityError,
    message: /unknown capability "CAP_FLY"/,
  });
  t.throws(() => containerCapabilities({ add: ['NET_ADMIN'], drop: ['net_admin'] }), {
    message: /both added and dropped/,
  });
});

test('seccomp: the default profile follows the capabilities, the architecture and the kernel', (t) => {
  const rules = (caps: readonly string[], arch = 'x64', kernelRelease = '6.1.0') =>
    seccompForContainer(DEFAULT_SECCOMP_PROFILE, { capabilities: caps, arch, kernelRelease });
  const allowed = (s: ReturnType<typeof rules>, name: string) =>
    s.syscalls?.some((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args && r.names.includes(name)) ?? false;

  const plain = rules(DEFAULT_CAPABILITIES);
  t.is(plain.defaultAction, 'SCMP_ACT_ERRNO');
  t.is(plain.defaultErrnoRet, 1);
  t.deepEqual(plain.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  for (const name of ['read', 'execve', 'socket', 'chroot', 'arch_prctl', 'ptrace', 'setuid']) {
    t.true(allowed(plain, name), `${name} allowed`);
  }
  for (const name of [
    'mount',
    'unshare',
    'setns',
    'reboot',
    'init_module',
    'kexec_load',
    'keyctl',
    'cacheflush',
  ]) {
    t.false(allowed(plain, name), `${name} refused`);
  }
  const clone = plain.syscalls?.find((r) => r.names.includes('clone'));
  t.deepEqual(clone?.args, [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  t.deepEqual(
    plain.syscalls?.find((r) => r.names.includes('clone3')),
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
  );
  t.is(plain.syscalls?.filter((r) => r.names.includes('personality')).length, 5);

  const admin = rules([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
  for (const name of ['mount', 'unshare', 'setns', 'clone', 'clone3'])
    t.true(allowed(admin, name), `${name} with SYS_ADMIN`);
  t.false(
    admin.syscalls?.some((r) => r.action === 'SCMP_ACT_ERRNO') ?? true,
    'no ENOSYS clone3 with SYS_ADMIN',
  );
  t.false(allowed(rules(DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT')), 'chroot'));

  const arm = rules(DEFAULT_CAPABILITIES, 'arm64');
  t.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  t.true(allowed(arm, 'cacheflush'));
  t.false(allowed(arm, 'arch_prctl'));
  t.false(
    allowed(rules(DEFAULT_CAPABILITIES, 'x64', '4.4.0'), 'ptrace'),
    'ptrace needs 4.8 without SYS_PTRACE',
  );
  t.throws(() => rules([], 'sparc'), { message: /not supported/ });
});

test('users: names and numbers from the image, supplementary groups, HOME; bad ones refused', (t) =>
  withRootfs((rootfs) => {
    const table: [string, { uid: number; gid: number; additionalGids: number[]; home: string }][] = [
      ['', { uid: 0, gid: 0, additionalGids: [], home: '/root' }],
      ['app', { uid: 1000, gid: 1000, additionalGids: [29, 44], home: '/home/app' }],
      ['1000', { uid: 1000, gid: 1000, additionalGids: [29, 44], home: '/home/app' }],
      ['app:audio', { uid: 1000, gid: 29, additionalGids: [], home: '/home/app' }],
      ['web:1234', { uid: 33, gid: 1234, additionalGids: [], home: '/var/www' }],
      ['4242', { uid: 4242, gid: 0, additionalGids: [], home: '/' }],
      ['4242:4243', { uid: 4242, gid: 4243, additionalGids: [], home: '/' }],
    ];
    for (const [user, want] of table) t.deepEqual(resolveUser(user, rootfs), want, user);
    t.deepEqual(resolveUser('4242', rootfs, ['video', '7']).additionalGids, [44, 7]);
    for (const [bad, message] of [
      ['nobody', /unable to find user nobody/],
      ['app:nogroup', /unable to find group nogroup/],
      ['a:b:c', /use user\[:group\]/],
      [':0', /use user\[:group\]/],
      ['app:', /use user\[:group\]/],
      ['99999999999', /out of range/],
    ] as const) {
      t.throws(() => resolveUser(bad, rootfs), { instanceOf: UserSpecError, message }, bad);
    }
  }));

test('ulimits: parsed like Docker, kept within the hard limits, unlimited written as 2^64-1', (t) =>
  withRootfs((rootfs) => {
    t.deepEqual(parseUlimit('nofile=1024:2048'), { name: 'nofile', soft: 1024, hard: 2048 });
    t.deepEqual(parseUlimit('nproc=512'), { name: 'nproc', soft: 512, hard: 512 });
    for (const [bad, message] of [
      ['nofile', /name=soft\[:hard\]/],
      ['files=10', /unknown name files/],
      ['nofile=10:5', /soft 10 exceeds hard 5/],
      ['nofile=ten', /not a number/],
    ] as const) {
      t.throws(() => parseUlimit(bad), { instanceOf: UlimitError, message }, bad);
    }
    const ok = spec(rootfs, {
      ulimits: ['nofile=1024:4096', 'core=-1', { name: 'nproc', soft: 100, hard: 200 }],
    });
    t.deepEqual(ok.spec.process.rlimits, [
      { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
      { type: 'RLIMIT_CORE', soft: Number.POSITIVE_INFINITY, hard: Number.POSITIVE_INFINITY },
      { type: 'RLIMIT_NPROC', soft: 100, hard: 200 },
    ]);
    const json = specToJson(ok.spec);
    t.regex(json, /"type": "RLIMIT_CORE",\s*"soft": 18446744073709551615,\s*"hard": 18446744073709551615/);
    t.notRegex(json, /null|Infinity|rlim-infinity/);
    t.throws(() => spec(rootfs, { ulimits: ['nofile=1024:40000'] }), {
      message: /nofile hard limit 40000 exceeds this host's 20000 .*CAP_SYS_RESOURCE/,
    });
    const clamped = spec(rootfs, { ulimits: ['nofile=30000:40000'], clampUlimits: true });
    t.deepEqual(clamped.spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }]);
    t.regex(clamped.warnings.join(), /lowered to the host's hard limit 20000/);
    t.notThrows(() => spec(rootfs, { ulimits: ['nofile=1024:40000'] }, { ...HOST, canRaiseLimits: true }));
    // the host readers parse this process's own files
    t.true((currentHardLimits().get('RLIMIT_NOFILE') ?? 0) > 0);
    t.is(typeof hasSysResource(), 'boolean');
    t.false(hasSysResource('CapEff:\t000001fffeffffff\n'), 'bit 24 clear');
    t.true(hasSysResource('CapEff:\t0000000001000000\n'));
  }));

test("defaults: Docker's mounts, masked and read-only paths, devices, env, process fields", (t) =>
  withRootfs((rootfs) => {
    const { spec: s, warnings } = spec(rootfs, {
      hostname: 'web-1',
      tty: true,
      cmd: ['sh'],
      entrypoint: ['/init', '--'],
    });
    t.deepEqual(warnings, []);
    t.is(s.ociVersion, '1.0.2');
    t.deepEqual(s.process.args, ['/init', '--', 'sh']);
    t.deepEqual(s.process.env, [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'HOSTNAME=web-1',
      'TERM=xterm',
      'HOME=/root',
    ]);
    t.is(s.process.cwd, '/');
    t.true(s.process.terminal);
    t.false(s.process.noNewPrivileges);
    t.deepEqual(s.process.user, { uid: 0, gid: 0 });
    t.deepEqual(
      s.mounts.map((m) => `${m.destination} ${m.type}`),
      [
        '/proc proc',
        '/dev tmpfs',
        '/dev/pts devpts',
        '/sys sysfs',
        '/sys/fs/cgroup cgroup',
        '/dev/mqueue mqueue',
        '/dev/shm tmpfs',
      ],
    );
    t.true(s.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));
    t.true(s.mounts.find((m) => m.destination === '/dev/shm')?.options?.includes(`size=${64 * 1024 * 1024}`));
    t.deepEqual(s.linux.maskedPaths, MASKED_PATHS);
    t.deepEqual(s.linux.readonlyPaths, READONLY_PATHS);
    t.true(s.linux.maskedPaths?.includes('/proc/kcore'));
    t.deepEqual(s.linux.resources?.devices?.[0], { allow: false, access: 'rwm' });
    t.true(s.linux.resources?.devices?.some((d) => d.major === 1 && d.minor === 3 && d.access === 'rwm'));
    t.deepEqual(s.process.capabilities?.bounding.sort(), [...DEFAULT_CAPABILITIES].sort());
    t.deepEqual(
      s.linux.namespaces.map((n) => n.type),
      ['mount', 'pid', 'network', 'ipc', 'uts'],
      'cgroup namespace shared on v1, as Docker does',
    );
    t.is(s.hostname, 'web-1');
    t.is(s.linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
    t.false(s.root.readonly);
    t.is(s.linux.cgroupsPath, undefined);
    t.throws(() => spec(rootfs, { cmd: [] }), { instanceOf: SpecError, message: /no command specified/ });
  }));

test('user options: env, cwd, user, mounts, read-only rootfs, annotations, cgroups path', (t) =>
  withRootfs((rootfs) => {
    const { spec: s } = spec(rootfs, {
      env: ['PATH=/bin', 'A=1', 'A=2', 'EMPTY='],
      workingDir: '/srv/app/',
      user: 'app',
      readonlyRootfs: true,
      annotations: { 'org.example/owner': 'team' },
      cgroupsPath: 'tsnet/abc123',
      mounts: [
        { type: 'bind', source: '/etc', target: '/data/sub', readonly: true },
        { type: 'bind', source: '/tmp', target: '/data', propagation: 'rslave' },
        { type: 'volume', source: rootfs, target: '/vol' },
        { type: 'tmpfs', target: '/dev/shm', sizeBytes: 1024 * 1024, mode: 0o1777 },
      ],
    });
    t.deepEqual(s.process.env, ['PATH=/bin', 'A=2', 'EMPTY=', 'HOME=/home/app']);
    t.is(s.process.cwd, '/srv/app');
    t.deepEqual(s.process.user, { uid: 1000, gid: 1000, additionalGids: [29, 44] });
    t.true(s.root.readonly);
    t.deepEqual(s.annotations, { 'org.example/owner': 'team' });
    t.is(s.linux.cgroupsPath, '/tsnet/abc123', 'absolute: relative paths are relative to runc’s own cgroup');
    // the defaults first, then the user's parents before their children
    const user = s.mounts.slice(-4);
    t.deepEqual(user, [
      { destination: '/data', type: 'bind', source: '/tmp', options: ['rbind', 'rslave'] },
      {
        destination: '/vol',
        type: 'bind',
        source: rootfs,
        options: ['rbind', 'rprivate'],
      },
      { destination: '/data/sub', type: 'bind', source: '/etc', options: ['rbind', 'rprivate', 'ro'] },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'noexec', 'nodev', 'size=1048576', 'mode=1777'],
      },
    ]);
    t.is(
      s.mounts.filter((m) => m.destination === '/dev/shm').length,
      1,
      'the user mount replaces the default',
    );

    const bad: [Partial<RunOptions>, RegExp][] = [
      [{ env: ['NOVALUE'] }, /invalid environment variable "NOVALUE"/],
      [{ env: ['=x'] }, /invalid environment variable/],
      [{ workingDir: 'relative' }, /working directory "relative" must be an absolute path/],
      [
        { mounts: [{ type: 'bind', source: 'rel', target: '/x' }] },
        /source "rel" must be an absolute host path/,
      ],
      [{ mounts: [{ type: 'tmpfs', target: 'x' }] }, /mount target "x"/],
      [
        { mounts: [{ type: 'bind', source: '/nonexistent/src', target: '/x' }] },
        /bind source \/nonexistent\/src does not exist \(for mount point \/x\)/,
      ],
      [
        {
          mounts: [
            { type: 'tmpfs', target: '/x' },
            { type: 'tmpfs', target: '/x/' },
          ],
        },
        /duplicate mount point \/x/,
      ],
      [{ mounts: [{ type: 'tmpfs', target: '/x', sizeBytes: -1 }] }, /invalid tmpfs size/],
      [{ hostname: 'bad_name!' }, /invalid hostname/],
      [{ hostname: 'ok', namespaces: { uts: 'host' } }, /needs a private UTS namespace/],
      [{ user: 'ghost' }, /unable to find user ghost/],
      [{ capAdd: ['CAP_NOPE'] }, /unknown capability/],
      [{ securityOpt: ['seccomp=/etc/profile.json'] }, /only seccomp=unconfined/],
      [{ securityOpt: ['apparmor=foo'] }, /invalid security-opt/],
      [{ cgroupsPath: '../escape' }, /invalid cgroup path/],
      [{ resources: { memory: 1000 } }, /minimum is 6 MiB/],
      [{ resources: { nanoCpus: 4e9 } }, /only 2 CPUs/],
      [{ oomScoreAdj: -500 }, /below the agent's own 0.*CAP_SYS_RESOURCE/],
      [{ oomScoreAdj: 2000 }, /\[-1000, 1000\]/],
      [{ namespaces: { network: { path: 'relative' } } }, /invalid network namespace/],
    ];
    for (const [opts, message] of bad) t.throws(() => spec(rootfs, opts), { message }, JSON.stringify(opts));
  }));

test('security: seccomp=unconfined, no-new-privileges, privileged', (t) =>
  withRootfs((rootfs) => {
    const unconfined = spec(rootfs, { securityOpt: ['seccomp=unconfined', 'no-new-privileges'] }).spec;
    t.is(unconfined.linux.seccomp, undefined);
    t.true(unconfined.process.noNewPrivileges);
    t.false(
      spec(rootfs, { securityOpt: ['no-new-privileges:false', 'seccomp:unconfined'] }).spec.process
        .noNewPrivileges,
    );

    const privileged = spec(rootfs, { privileged: true }).spec;
    t.is(privileged.linux.seccomp, undefined);
    t.is(privileged.linux.maskedPaths, undefined);
    t.is(privileged.linux.readonlyPaths, undefined);
    t.deepEqual(privileged.process.capabilities?.effective, hostCapabilities(), 'all the agent holds');
    t.deepEqual(privileged.linux.resources?.devices, [{ allow: true, access: 'rwm' }]);
    t.false(privileged.mounts.find((m) => m.destination === '/sys')?.options?.includes('ro'));

    // cap-add SYS_ADMIN opens the profile's SYS_ADMIN rules, as in Docker
    const admin = spec(rootfs, { capAdd: ['SYS_ADMIN'] }).spec;
    t.true(
      admin.linux.seccomp?.syscalls?.some((r) => r.names.includes('mount') && r.action === 'SCMP_ACT_ALLOW'),
    );
  }));

test('namespaces, user namespace mappings, sysctls, oom score, resources', (t) =>
  withRootfs((rootfs) => {
    const { spec: s, warnings } = spec(
      rootfs,
      {
        namespaces: { network: { path: '/run/netns/ctr1' }, pid: 'host', cgroup: 'private' },
        userns: {
          uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
          gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
        },
        sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0', 'kernel.shmmax': '1000000' },
        oomScoreAdj: 500,
        resources: {
          memory: 64 * 1024 * 1024,
          memoryReservation: 32 * 1024 * 1024,
          cpuShares: 512,
          nanoCpus: 1.5e9,
          cpusetCpus: '0-1',
          pidsLimit: 0,
          blkioWeight: 300,
          deviceReadBps: [{ major: 254, minor: 0, rate: 1048576 }],
        },
      },
      { ...HOST, cgroupVersion: 2 },
    );
    t.deepEqual(s.linux.namespaces, [
      { type: 'mount' },
      { type: 'network', path: '/run/netns/ctr1' },
      { type: 'ipc' },
      { type: 'uts' },
      { type: 'cgroup' },
      { type: 'user' },
    ]);
    t.deepEqual(s.linux.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
    t.deepEqual(
      s.mounts.find((m) => m.destination === '/sys'),
      {
        destination: '/sys',
        type: 'bind',
        source: '/sys',
        options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
      },
      'a user namespace cannot mount sysfs for a network namespace it does not own',
    );
    const ownNet = spec(rootfs, {
      userns: {
        uidMappings: [{ containerID: 0, hostID: 1, size: 1 }],
        gidMappings: [{ containerID: 0, hostID: 1, size: 1 }],
      },
    });
    t.is(ownNet.spec.mounts.find((m) => m.destination === '/sys')?.type, 'sysfs');
    t.deepEqual(s.linux.sysctl, { 'net.ipv4.ip_unprivileged_port_start': '0', 'kernel.shmmax': '1000000' });
    t.is(s.process.oomScoreAdj, 500);
    t.deepEqual(s.linux.resources?.memory, {
      limit: 64 * 1024 * 1024,
      reservation: 32 * 1024 * 1024,
      swap: 128 * 1024 * 1024,
    });
    t.deepEqual(s.linux.resources?.cpu, { shares: 512, period: 100000, quota: 150000, cpus: '0-1' });
    t.deepEqual(s.linux.resources?.pids, { limit: -1 });
    t.deepEqual(s.linux.resources?.blockIO, {
      weight: 300,
      throttleReadBpsDevice: [{ major: 254, minor: 0, rate: 1048576 }],
    });
    t.is(warnings.length, 1);
    t.regex(warnings[0] ?? '', /blkio weight 300 .*no effect/);
    // a kernel without any weight file: runc would fail on one, so the weight is reported and left out
    const noWeightFile = spec(
      rootfs,
      { resources: { blkioWeight: 300, deviceReadBps: [{ major: 254, minor: 0, rate: 1048576 }] } },
      { ...HOST, blkioWeightFile: false },
    );
    t.deepEqual(noWeightFile.spec.linux.resources?.blockIO, {
      throttleReadBpsDevice: [{ major: 254, minor: 0, rate: 1048576 }],
    });
    t.deepEqual(noWeightFile.warnings, ['blkio weight 300 ignored: this kernel has no blkio/io weight file']);

    t.deepEqual(
      spec(rootfs, { resources: { memory: 64 * 1024 * 1024, memorySwap: -1 } }).spec.linux.resources?.memory,
      {
        limit: 64 * 1024 * 1024,
        swap: -1,
      },
    );
    for (const [sysctls, message] of [
      [{ 'kernel.hostname': 'x' }, /not namespaced/],
      [{ 'vm.swappiness': '10' }, /not namespaced/],
      [{ 'net.ipv4.ip_forward': '' }, /invalid value/],
    ] as const) {
      t.throws(() => spec(rootfs, { sysctls }), { message }, JSON.stringify(sysctls));
    }
    t.throws(
      () => spec(rootfs, { sysctls: { 'net.ipv4.ip_forward': '1' }, namespaces: { network: 'host' } }),
      {
        message: /cannot be set with the host's network/,
      },
    );
    t.throws(
      () =>
        spec(rootfs, { userns: { uidMappings: [], gidMappings: [{ containerID: 0, hostID: 1, size: 1 }] } }),
      { message: /needs uid mappings/ },
    );
  }));
