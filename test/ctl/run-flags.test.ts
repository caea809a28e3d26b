// docker run/create flags → ContainerCreateSpec, checked against docker's documented behaviours: what each
// flag puts in the body, and the words of the refusal for a bad value. Flags are parsed by the real command.
import test from 'ava';
import { Command } from 'commander';
import type { ContainerCreateSpec } from '../../pkg/container/create-spec.ts';
import { FlagError } from '../../pkg/ctl/errors.ts';
import {
  addCreateFlags,
  type CreateFlagValues,
  type CreateInvocation,
  createInvocation,
  type FlagSources,
  parsePortSpec,
} from '../../pkg/ctl/run-flags.ts';

const FILES: Record<string, string> = {
  '/envs': '# comment\n\nFROM_FILE=1\n  INDENTED=2\nHOME_FROM_ENV\n',
  '/labels': 'team=net\nbare\n',
  '/bad-env': 'A B=1\n',
  '/seccomp.json': '{ "defaultAction": "SCMP_ACT_ALLOW" }',
};
const sources: FlagSources = {
  env: { HOME_FROM_ENV: '/root', TERM: 'xterm' },
  readText(path) {
    const text = FILES[path];
    if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return text;
  },
};

/** `run ARGS...` through the real flag declarations. */
function invocation(args: string[]): CreateInvocation {
  let result: CreateInvocation | undefined;
  const command = addCreateFlags(new Command('run'), true)
    .argument('<IMAGE>')
    .argument('[COMMAND...]')
    .exitOverride()
    .action((image: string, cmd: string[], values: CreateFlagValues) => {
      result = createInvocation(image, cmd, values, sources);
    });
  command.parse(args, { from: 'user' });
  if (!result) throw new Error('no action');
  return result;
}
const specOf = (...args: string[]): ContainerCreateSpec => invocation(args).spec;

const mappings: [string, string[], (s: ContainerCreateSpec) => unknown, unknown][] = [
  [
    'image and command, the command keeps its flags',
    ['busybox', 'ls', '-l', '/'],
    (s) => [s.Image, s.Cmd],
    ['busybox', ['ls', '-l', '/']],
  ],
  ["no command: the image's", ['busybox'], (s) => s.Cmd, undefined],
  [
    '-e KEY=V, -e KEY from the environment, an unset KEY dropped',
    ['-e', 'A=1', '-e', 'TERM', '-e', 'UNSET', 'busybox'],
    (s) => s.Env,
    ['A=1', 'TERM=xterm'],
  ],
  [
    '--env-file first, then -e',
    ['--env-file', '/envs', '-e', 'LAST=1', 'busybox'],
    (s) => s.Env,
    ['FROM_FILE=1', 'INDENTED=2', 'HOME_FROM_ENV=/root', 'LAST=1'],
  ],
  ['--entrypoint "" clears', ['--entrypoint', '', 'busybox'], (s) => s.Entrypoint, []],
  [
    '--entrypoint is one word, not split',
    ['--entrypoint', 'sh -c', 'busybox'],
    (s) => s.Entrypoint,
    ['sh -c'],
  ],
  [
    '-w -u -h',
    ['-w', '/srv', '-u', '1000:1000', '-h', 'web', 'busybox'],
    (s) => [s.WorkingDir, s.User, s.Hostname],
    ['/srv', '1000:1000', 'web'],
  ],
  [
    '-p host:container',
    ['-p', '8080:80', 'busybox'],
    (s) => [s.ExposedPorts, s.HostConfig?.PortBindings],
    [{ '80/tcp': {} }, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }],
  ],
  [
    '-p ip:host:container/udp',
    ['-p', '127.0.0.1:53:53/udp', 'busybox'],
    (s) => s.HostConfig?.PortBindings,
    { '53/udp': [{ HostIp: '127.0.0.1', HostPort: '53' }] },
  ],
  [
    '-p container only: a free host port',
    ['-p', '80', 'busybox'],
    (s) => s.HostConfig?.PortBindings,
    { '80/tcp': [{ HostIp: '', HostPort: '' }] },
  ],
  [
    '-p [::1]:8080:80',
    ['-p', '[::1]:8080:80', 'busybox'],
    (s) => s.HostConfig?.PortBindings,
    { '80/tcp': [{ HostIp: '::1', HostPort: '8080' }] },
  ],
  [
    '-p ranges pair up',
    ['-p', '8000-8001:80-81', 'busybox'],
    (s) => s.HostConfig?.PortBindings,
    { '80/tcp': [{ HostIp: '', HostPort: '8000' }], '81/tcp': [{ HostIp: '', HostPort: '8001' }] },
  ],
  [
    '-p a host range for one port',
    ['-p', '8000-8010:80', 'busybox'],
    (s) => s.HostConfig?.PortBindings,
    { '80/tcp': [{ HostIp: '', HostPort: '8000-8010' }] },
  ],
  [
    '-P and --expose',
    ['-P', '--expose', '7000-7001/udp', 'busybox'],
    (s) => [s.HostConfig?.PublishAllPorts, s.ExposedPorts],
    [true, { '7000/udp': {}, '7001/udp': {} }],
  ],
  [
    '-v bind and anonymous volume',
    ['-v', '/data:/data:ro', '-v', '/cache', 'busybox'],
    (s) => [s.HostConfig?.Binds, s.HostConfig?.Mounts],
    [['/data:/data:ro'], [{ Type: 'volume', Target: '/cache' }]],
  ],
  [
    '--mount bind readonly',
    ['--mount', 'type=bind,src=/a,dst=/b,readonly', 'busybox'],
    (s) => s.HostConfig?.Mounts,
    [{ Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true }],
  ],
  [
    '--mount tmpfs size and mode',
    ['--mount', 'type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1777', 'busybox'],
    (s) => s.HostConfig?.Mounts,
    [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 << 20, Mode: 0o1777 } }],
  ],
  [
    '--tmpfs path:opts',
    ['--tmpfs', '/run:size=1m', '--tmpfs', '/tmp', '--read-only', 'busybox'],
    (s) => [s.HostConfig?.Tmpfs, s.HostConfig?.ReadonlyRootfs],
    [{ '/run': 'size=1m', '/tmp': '' }, true],
  ],
  [
    '-m, --memory-swap -1, --memory-reservation, --shm-size',
    ['-m', '512m', '--memory-swap', '-1', '--memory-reservation', '256m', '--shm-size', '64m', 'busybox'],
    (s) => [
      s.HostConfig?.Memory,
      s.HostConfig?.MemorySwap,
      s.HostConfig?.MemoryReservation,
      s.HostConfig?.ShmSize,
    ],
    [512 << 20, -1, 256 << 20, 64 << 20],
  ],
  [
    '-c, --cpus → NanoCpus, --cpuset-cpus, --pids-limit',
    ['-c', '512', '--cpus', '1.5', '--cpuset-cpus', '0-1', '--pids-limit', '100', 'busybox'],
    (s) => [
      s.HostConfig?.CpuShares,
      s.HostConfig?.NanoCpus,
      s.HostConfig?.CpusetCpus,
      s.HostConfig?.PidsLimit,
    ],
    [512, 1_500_000_000, '0-1', 100],
  ],
  [
    '--blkio-weight and device rates',
    [
      '--blkio-weight',
      '300',
      '--device-read-bps',
      '/dev/vda:1mb',
      '--device-write-bps',
      '/dev/vda:10k',
      'busybox',
    ],
    (s) => [s.HostConfig?.BlkioWeight, s.HostConfig?.BlkioDeviceReadBps, s.HostConfig?.BlkioDeviceWriteBps],
    [300, [{ Path: '/dev/vda', Rate: 1 << 20 }], [{ Path: '/dev/vda', Rate: 10 << 10 }]],
  ],
  [
    '--ulimit soft:hard, soft alone',
    ['--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=64', 'busybox'],
    (s) => s.HostConfig?.Ulimits,
    [
      { Name: 'nofile', Soft: 1024, Hard: 2048 },
      { Name: 'nproc', Soft: 64, Hard: 64 },
    ],
  ],
  ['--restart default no', ['busybox'], (s) => s.HostConfig?.RestartPolicy, { Name: 'no' }],
  [
    '--restart on-failure:3',
    ['--restart', 'on-failure:3', 'busybox'],
    (s) => s.HostConfig?.RestartPolicy,
    { Name: 'on-failure', MaximumRetryCount: 3 },
  ],
  [
    '--restart unless-stopped',
    ['--restart', 'unless-stopped', 'busybox'],
    (s) => s.HostConfig?.RestartPolicy,
    { Name: 'unless-stopped' },
  ],
  [
    '--network, --network-alias, --ip',
    ['--network', 'backend', '--network-alias', 'db', '--ip', '10.1.0.5', 'busybox'],
    (s) => [s.HostConfig?.NetworkMode, s.NetworkingConfig],
    [
      'backend',
      { EndpointsConfig: { backend: { IPAMConfig: { IPv4Address: '10.1.0.5' }, Aliases: ['db'] } } },
    ],
  ],
  [
    '--dns, --dns-search, --dns-option, --add-host',
    [
      '--dns',
      '1.1.1.1',
      '--dns-search',
      'example.com',
      '--dns-option',
      'ndots:2',
      '--add-host',
      'db:10.0.0.2',
      '--add-host',
      'gw=host-gateway',
      'busybox',
    ],
    (s) => [s.HostConfig?.Dns, s.HostConfig?.DnsSearch, s.HostConfig?.DnsOptions, s.HostConfig?.ExtraHosts],
    [['1.1.1.1'], ['example.com'], ['ndots:2'], ['db:10.0.0.2', 'gw:host-gateway']],
  ],
  [
    '--init, caps, --privileged, --group-add, --sysctl',
    [
      '--init',
      '--cap-add',
      'NET_ADMIN',
      '--cap-drop',
      'ALL',
      '--privileged',
      '--group-add',
      'audio',
      '--sysctl',
      'net.ipv4.ip_forward=1',
      'busybox',
    ],
    (s) => [
      s.HostConfig?.Init,
      s.HostConfig?.CapAdd,
      s.HostConfig?.CapDrop,
      s.HostConfig?.Privileged,
      s.HostConfig?.GroupAdd,
      s.HostConfig?.Sysctls,
    ],
    [true, ['NET_ADMIN'], ['ALL'], true, ['audio'], { 'net.ipv4.ip_forward': '1' }],
  ],
  [
    '--security-opt seccomp=FILE sends the profile',
    ['--security-opt', 'seccomp=/seccomp.json', '--security-opt', 'no-new-privileges', 'busybox'],
    (s) => s.HostConfig?.SecurityOpt,
    ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}', 'no-new-privileges'],
  ],
  [
    '-l and --label-file (files first)',
    ['--label-file', '/labels', '-l', 'team=cli', 'busybox'],
    (s) => s.Labels,
    { team: 'cli', bare: '' },
  ],
  [
    '--stop-signal, --stop-timeout',
    ['--stop-signal', 'SIGINT', '--stop-timeout', '3', 'busybox'],
    (s) => [s.StopSignal, s.StopTimeout],
    ['SIGINT', 3],
  ],
  [
    '--log-opt max-size, max-file',
    ['--log-opt', 'max-size=10m', '--log-opt', 'max-file=3', 'busybox'],
    (s) => s.HostConfig?.LogConfig,
    { Config: { 'max-size': '10m', 'max-file': '3' } },
  ],
  [
    '-it in the foreground: stdin attached once',
    ['-it', 'busybox'],
    (s) => [s.Tty, s.OpenStdin, s.StdinOnce, s.AttachStdin, s.AttachStdout],
    [true, true, true, true, true],
  ],
  [
    '-di: stdin kept open, nothing attached',
    ['-d', '-i', 'busybox'],
    (s) => [s.OpenStdin, s.StdinOnce, s.AttachStdin, s.AttachStdout, s.AttachStderr],
    [true, false, false, false, false],
  ],
  ['--rm', ['--rm', 'busybox'], (s) => s.HostConfig?.AutoRemove, true],
  [
    '--health-*: a CMD-SHELL test, Go durations in nanoseconds',
    [
      ...['--health-cmd', 'wget -q localhost || exit 1', '--health-interval', '1m30s'],
      ...['--health-timeout', '200ms', '--health-retries', '4', '--health-start-period', '2s'],
      ...['--health-start-interval', '500ms', 'busybox'],
    ],
    (s) => s.Healthcheck,
    {
      Test: ['CMD-SHELL', 'wget -q localhost || exit 1'],
      Interval: 90e9,
      Timeout: 200e6,
      StartPeriod: 2e9,
      StartInterval: 500e6,
      Retries: 4,
    },
  ],
  [
    "--health-interval alone keeps the image's test",
    ['--health-interval', '5s', 'busybox'],
    (s) => s.Healthcheck,
    { Interval: 5e9 },
  ],
  ['--no-healthcheck', ['--no-healthcheck', 'busybox'], (s) => s.Healthcheck, { Test: ['NONE'] }],
  ["no health flag: the image's check", ['busybox'], (s) => s.Healthcheck, undefined],
];

for (const [title, args, pick, expected] of mappings)
  test(`run flags: ${title}`, (t) => {
    t.deepEqual(pick(specOf(...args)), expected);
  });

test('run flags: --name, --pull, -d reach the client, not the body', (t) => {
  const inv = invocation(['-d', '--name', 'web', '--pull', 'never', 'busybox']);
  t.like(inv, { name: 'web', pull: 'never', detach: true, interactive: false, tty: false });
  t.false('name' in inv.spec);
  t.is(invocation(['busybox']).pull, 'missing');
});

const refusals: [string[], RegExp][] = [
  [['-m', '12x', 'busybox'], /^invalid argument "12x" for "-m, --memory" flag: invalid size: '12x'$/],
  [['--memory-swap', '1m', '-m', '2m', 'busybox'], /memoryswap limit should be larger than memory limit/],
  [['-p', '80:abc', 'busybox'], /^invalid containerPort: abc$/],
  [['-p', 'x:80', 'busybox'], /^invalid hostPort: x$/],
  [['-p', '70000', 'busybox'], /^invalid containerPort: 70000$/],
  [['-p', '80/icmp', 'busybox'], /^invalid proto: icmp$/],
  [['-p', '1.2.3:80:80', 'busybox'], /^invalid IP address: 1\.2\.3$/],
  [
    ['-p', '8000-8002:80-81', 'busybox'],
    /^invalid ranges specified for container and host Ports: 80-81 and 8000-8002$/,
  ],
  [['--restart', 'sometimes', 'busybox'], /^invalid restart policy: unknown policy 'sometimes'; use one of/],
  [['--restart', 'always:3', 'busybox'], /maximum retry count can only be used with 'on-failure'/],
  [['--restart', 'on-failure:x', 'busybox'], /maximum retry count must be an integer/],
  [['--restart', 'always', '--rm', 'busybox'], /^Conflicting options: --restart and --rm$/],
  [['--cpus', 'many', 'busybox'], /failed to parse many as a rational number/],
  [['-c', '1.5', 'busybox'], /for "-c, --cpu-shares" flag/],
  [['--blkio-weight', '5', 'busybox'], /Range of blkio weight is from 10 to 1000/],
  [['--device-read-bps', 'vda:1mb', 'busybox'], /bad format for device path/],
  [['--ulimit', 'nofiles=1', 'busybox'], /invalid ulimit type: nofiles/],
  [['--ulimit', 'nofile=10:5', 'busybox'], /soft limit must be less than or equal to hard limit: 10 > 5/],
  [
    ['-v', 'data:rel', 'busybox'],
    /invalid volume specification: 'data:rel': invalid mount path: 'rel' mount path must be absolute/,
  ],
  [['-v', '/a:/b:rx', 'busybox'], /invalid mode: rx/],
  [['--mount', 'type=nfs,target=/x', 'busybox'], /invalid type "nfs"/],
  [['--mount', 'type=bind,target=/x', 'busybox'], /source is required when specifying a bind mount/],
  [['--mount', 'source=v', 'busybox'], /target is required/],
  [['--ip', 'fe80::1', 'busybox'], /fe80::1 is not an ip address/],
  [['--dns', 'dns.example', 'busybox'], /dns\.example is not an ip address/],
  [['--add-host', 'db', 'busybox'], /bad format for add-host/],
  [['--add-host', 'db:nowhere', 'busybox'], /invalid IP address in add-host/],
  [
    ['--pull', 'sometimes', 'busybox'],
    /^invalid pull option: 'sometimes': must be one of "always", "missing" or "never"$/,
  ],
  [['--log-opt', 'max-size=big', 'busybox'], /invalid size: 'big'/],
  [['--log-opt', 'max-file=0', 'busybox'], /max-file must be a positive number/],
  [['--sysctl', 'novalue', 'busybox'], /--sysctl must be in the format of key=value/],
  [['--env-file', '/bad-env', 'busybox'], /variable 'A B' contains whitespaces/],
  [['--env-file', '/missing', 'busybox'], /open \/missing: ENOENT/],
  [['-e', '=1', 'busybox'], /invalid environment variable: =1/],
  [['--security-opt', 'seccomp=/missing', 'busybox'], /opening seccomp profile \(\/missing\) failed/],
  [['--security-opt', 'bogus', 'busybox'], /Invalid --security-opt: "bogus"/],
  [
    ['--health-interval', '10', 'busybox'],
    /for "--health-interval" flag: time: missing unit in duration "10"/,
  ],
  [['--health-timeout', 'soon', 'busybox'], /for "--health-timeout" flag: time: invalid duration "soon"/],
  [['--health-retries', '-1', 'busybox'], /^--health-retries cannot be negative$/],
  [
    ['--no-healthcheck', '--health-cmd', 'true', 'busybox'],
    /^--no-healthcheck conflicts with --health-\* options$/,
  ],
];

for (const [args, message] of refusals)
  test(`run flags refuse: ${args.slice(0, -1).join(' ')}`, (t) => {
    const err = t.throws(() => invocation(args), { instanceOf: FlagError });
    t.regex(err?.message ?? '', message);
    t.notRegex(err?.message ?? '', /\n/, 'one line');
  });

test('parsePortSpec: each container port of a range gets its own key', (t) => {
  t.deepEqual(
    parsePortSpec('0.0.0.0:9000-9001:90-91/sctp').map((p) => p.port),
    ['90/sctp', '91/sctp'],
  );
});
