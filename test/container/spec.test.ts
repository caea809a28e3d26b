// The create body's validation, the state machine's refusals, the restart policy, the merge of an image's
// config with the spec, inspect's shape and ps's status strings and filters.
import test from 'ava';
import { ContainerStateError } from '../../pkg/container/handle.ts';
import { inspectContainer } from '../../pkg/container/inspect.ts';
import { CreateSpecError, parseCreateSpec } from '../../pkg/container/parse.ts';
import { type ContainerRecord, initialState } from '../../pkg/container/record.ts';
import { BACKOFF_START_MS, decideRestart, restartsAtBoot } from '../../pkg/container/restart.ts';
import { cgroupResourcesOf, resolveConfig, runOptionsOf } from '../../pkg/container/run-options.ts';
import { checkTransition } from '../../pkg/container/state.ts';
import {
  FilterError,
  matchesFilters,
  parseContainerFilters,
  statusLine,
} from '../../pkg/container/summary.ts';

const json = (v: unknown) => JSON.stringify(v);

test('parseCreateSpec: a valid body passes, nulls dropped; each bad field is named on one line', (t) => {
  const spec = parseCreateSpec(
    json({
      Image: 'busybox',
      Cmd: ['sh'],
      Entrypoint: null,
      Env: ['A=1'],
      ExposedPorts: { '80/tcp': {} },
      HostConfig: {
        Memory: 64 << 20,
        PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] },
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
        Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024 } }],
      },
      Unknown: 'ignored, as Docker does',
    }),
  );
  t.is(spec.Image, 'busybox');
  t.false('Entrypoint' in spec);
  t.is(spec.HostConfig?.Memory, 64 << 20);
  const refused: [unknown, RegExp][] = [
    ['{', /not JSON/],
    [[], /the body must be an object/],
    [{}, /Image is required/],
    [{ Image: 'b', Cmd: 'sh' }, /Cmd must be a list of strings/],
    [{ Image: 'b', Tty: 'yes' }, /Tty must be true or false/],
    [{ Image: 'b', HostConfig: { Memory: '12x' } }, /HostConfig\.Memory must be an integer/],
    [{ Image: 'b', HostConfig: { Memory: -1 } }, /HostConfig\.Memory must be an integer in \[0,/],
    [{ Image: 'b', HostConfig: { CpuShares: 1.5 } }, /HostConfig\.CpuShares/],
    [
      { Image: 'b', HostConfig: { RestartPolicy: { Name: 'sometimes' } } },
      /invalid restart policy "sometimes"/,
    ],
    [
      { Image: 'b', HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } } },
      /only be used with 'on-failure'/,
    ],
    [
      { Image: 'b', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } },
      /cannot combine --restart and --rm/,
    ],
    [{ Image: 'b', ExposedPorts: { '99999/tcp': {} } }, /invalid port "99999\/tcp"/],
    [
      { Image: 'b', HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 'x' }] } } },
      /HostPort must be a port number/,
    ],
    [
      { Image: 'b', HostConfig: { Mounts: [{ Type: 'nfs', Target: '/x' }] } },
      /Mounts\[0\]\.Type must be bind, volume or tmpfs/,
    ],
    [{ Image: 'b', HostConfig: { Ulimits: [{ Name: 'nofile', Soft: 'a', Hard: 1 }] } }, /Ulimits\[0\]\.Soft/],
    [
      { Image: 'b', NetworkingConfig: { EndpointsConfig: { n: { Aliases: 'a' } } } },
      /Aliases must be a list of strings/,
    ],
    [{ Image: 'b', HostConfig: { ConsoleSize: [24] } }, /ConsoleSize must be \[height, width\]/],
    [{ Image: 'b', HostConfig: { ConsoleSize: [24, -1] } }, /ConsoleSize\[1\]/],
  ];
  for (const [body, message] of refused) {
    const err = t.throws(() => parseCreateSpec(typeof body === 'string' ? body : json(body)), {
      instanceOf: CreateSpecError,
    });
    t.regex(err?.message ?? '', message, json(body));
    t.false(err?.message.includes('\n'));
  }
});

test('state machine: Docker refusals', (t) => {
  t.notThrows(() => checkTransition('web', 'created', 'start'));
  t.notThrows(() => checkTransition('web', 'running', 'pause'));
  t.notThrows(() => checkTransition('web', 'paused', 'kill'));
  const cases: [Parameters<typeof checkTransition>[1], Parameters<typeof checkTransition>[2], string][] = [
    ['exited', 'kill', 'Container web is not running'],
    ['exited', 'pause', 'Container web is not running'],
    ['paused', 'pause', 'Container web is already paused'],
    ['running', 'unpause', 'Container web is not paused'],
    ['exited', 'exec', 'Container web is not running'],
    [
      'running',
      'remove',
      'cannot remove container "/web": container is running: stop the container before removing or force remove',
    ],
    ['paused', 'start', 'cannot start a paused container, try unpause instead'],
    ['removing', 'start', 'container web is marked for removal and cannot be started'],
  ];
  for (const [status, action, message] of cases)
    t.throws(() => checkTransition('web', status, action), { instanceOf: ContainerStateError, message });
});

test('restart policy: no, on-failure:N, always, unless-stopped; backoff doubles and resets after 10 s up', (t) => {
  const outcome = { exitCode: 1, manuallyStopped: false, restartCount: 0, ranMs: 50, previousDelayMs: 0 };
  t.false(decideRestart(undefined, outcome).restart);
  t.false(decideRestart({ Name: 'no' }, outcome).restart);
  t.deepEqual(decideRestart({ Name: 'on-failure', MaximumRetryCount: 2 }, outcome), {
    restart: true,
    delayMs: BACKOFF_START_MS,
  });
  t.false(
    decideRestart({ Name: 'on-failure', MaximumRetryCount: 2 }, { ...outcome, restartCount: 2 }).restart,
  );
  t.false(decideRestart({ Name: 'on-failure' }, { ...outcome, exitCode: 0 }).restart);
  t.true(decideRestart({ Name: 'always' }, { ...outcome, exitCode: 0 }).restart);
  t.false(decideRestart({ Name: 'always' }, { ...outcome, manuallyStopped: true }).restart);
  t.is(decideRestart({ Name: 'always' }, { ...outcome, previousDelayMs: 400 }).delayMs, 800);
  t.is(decideRestart({ Name: 'always' }, { ...outcome, previousDelayMs: 50_000 }).delayMs, 60_000);
  t.is(
    decideRestart({ Name: 'always' }, { ...outcome, previousDelayMs: 6400, ranMs: 10_000 }).delayMs,
    BACKOFF_START_MS,
  );
  t.true(restartsAtBoot({ Name: 'always' }, true));
  t.true(restartsAtBoot({ Name: 'unless-stopped' }, false));
  t.false(restartsAtBoot({ Name: 'unless-stopped' }, true));
  t.false(restartsAtBoot({ Name: 'on-failure' }, false));
});

test("the image's config merged as Docker does; --init prepends tini; limits map to cgroups", (t) => {
  const image = {
    Env: ['PATH=/bin', 'A=image'],
    Cmd: ['sh'],
    Entrypoint: ['/entry'],
    WorkingDir: '/w',
    User: 'u',
  };
  const base = resolveConfig({ Image: 'x' }, image, { hostname: 'abc' });
  t.like(base, {
    entrypoint: ['/entry'],
    cmd: ['sh'],
    workingDir: '/w',
    user: 'u',
    hostname: 'abc',
    stopSignal: 'SIGTERM',
    stopTimeout: 10,
  });
  const merged = resolveConfig(
    { Image: 'x', Env: ['A=user', 'B=2'], Cmd: ['ls'], User: 'root', StopTimeout: 3 },
    image,
    { hostname: 'abc' },
  );
  t.deepEqual(merged.env, ['PATH=/bin', 'A=user', 'B=2']);
  t.deepEqual(merged.cmd, ['ls']);
  t.is(merged.stopTimeout, 3);
  // --entrypoint drops the image's Cmd; --entrypoint "" clears the entrypoint
  t.like(resolveConfig({ Image: 'x', Entrypoint: ['/other'] }, image, { hostname: 'h' }), {
    entrypoint: ['/other'],
    cmd: null,
  });
  t.like(resolveConfig({ Image: 'x', Entrypoint: [], Cmd: ['ls'] }, image, { hostname: 'h' }), {
    entrypoint: null,
    cmd: ['ls'],
  });

  const spec = { Image: 'x', HostConfig: { Init: true, Memory: 64 << 20, NanoCpus: 1.5e9, PidsLimit: 10 } };
  const ctx = { id: 'i', rootfs: '/r', mounts: [], cgroupsPath: 'tsnet/i' };
  const opts = runOptionsOf(spec, base, { ...ctx, network: { path: '/ns' } });
  t.deepEqual(opts.entrypoint, ['/sbin/docker-init', '--', '/entry', 'sh']);
  t.deepEqual(opts.mounts?.at(-1), {
    type: 'bind',
    source: '/usr/bin/tini-static',
    target: '/sbin/docker-init',
    readonly: true,
  });
  t.deepEqual(opts.namespaces?.network, { path: '/ns' });
  t.deepEqual(cgroupResourcesOf(spec), { memory: 64 << 20, nanoCpus: 1.5e9, pidsLimit: 10 });
  const host = runOptionsOf({ Image: 'x', HostConfig: { NetworkMode: 'host' } }, base, {
    ...ctx,
    network: 'host',
  });
  t.is(host.namespaces?.uts, 'host');
  t.false('hostname' in host);

  // the client's terminal size (Docker's ConsoleSize) is the terminal's first size; without one, none
  const sized = (extra: object) =>
    runOptionsOf({ Image: 'x', ...extra }, base, { ...ctx, network: { path: '/ns' } }).consoleSize;
  t.deepEqual(sized({ Tty: true, HostConfig: { ConsoleSize: [30, 100] } }), { height: 30, width: 100 });
  t.is(sized({ Tty: true, HostConfig: { ConsoleSize: [0, 0] } }), undefined);
  t.is(sized({ Tty: false, HostConfig: { ConsoleSize: [30, 100] } }), undefined);
  t.deepEqual(parseCreateSpec(json({ Image: 'x', HostConfig: { ConsoleSize: [30, 100] } })).HostConfig, {
    ConsoleSize: [30, 100],
  });
});

function recordWith(
  state: Partial<ContainerRecord['state']>,
  extra: Partial<ContainerRecord> = {},
): ContainerRecord {
  return {
    version: 1,
    id: 'a'.repeat(64),
    name: 'web',
    created: '2024-01-01T00:00:00.000Z',
    image: { ref: 'busybox:latest', id: 'sha256:bb' },
    spec: { Image: 'busybox', HostConfig: { Memory: 1 << 26, RestartPolicy: { Name: 'always' } } },
    config: resolveConfig(
      { Image: 'busybox', Labels: { tier: 'web' } },
      { Cmd: ['sh'] },
      { hostname: 'aaaaaaaaaaaa' },
    ),
    state: { ...initialState(), ...state },
    networkNames: ['bridge'],
    networks: [
      {
        network: 'bridge',
        networkId: 'n1',
        ifName: 'eth0',
        ipAddress: '10.88.0.2',
        prefixLength: 16,
        gateway: '10.88.0.1',
        macAddress: '02:42:0a:58:00:02',
        aliases: [],
        ports: [{ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
      },
    ],
    mounts: [],
    runMounts: [],
    anonymousVolumes: [],
    ...extra,
  };
}

test("inspect: Docker's shape with every field the issue lists", (t) => {
  const record = recordWith({ status: 'running', pid: 42, startedAt: '2024-01-01T00:00:01Z' });
  const i = inspectContainer(record, { logPath: '/l' }) as Record<string, Record<string, unknown>>;
  t.is(i['Name'] as unknown, '/web');
  t.like(i['State'], {
    Status: 'running',
    Running: true,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Pid: 42,
    ExitCode: 0,
  });
  for (const k of ['StartedAt', 'FinishedAt']) t.true(k in i['State']!);
  for (const k of ['Hostname', 'User', 'Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'Labels'])
    t.true(k in i['Config']!, k);
  for (const k of [
    'Memory',
    'MemorySwap',
    'CpuShares',
    'NanoCpus',
    'CpusetCpus',
    'PidsLimit',
    'BlkioWeight',
    'Binds',
    'PortBindings',
    'RestartPolicy',
    'NetworkMode',
    'AutoRemove',
  ])
    t.true(k in i['HostConfig']!, k);
  t.like(i['HostConfig'], {
    Memory: 1 << 26,
    RestartPolicy: { Name: 'always', MaximumRetryCount: 0 },
    NetworkMode: 'bridge',
  });
  t.like(i['NetworkSettings'], {
    IPAddress: '10.88.0.2',
    Gateway: '10.88.0.1',
    MacAddress: '02:42:0a:58:00:02',
    Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] },
    Networks: {
      bridge: {
        IPAddress: '10.88.0.2',
        Gateway: '10.88.0.1',
        MacAddress: '02:42:0a:58:00:02',
        NetworkID: 'n1',
      },
    },
  });
  t.deepEqual(i['Mounts'] as unknown, []);
});

test('ps: status strings and filters', (t) => {
  const now = Date.parse('2024-01-01T00:02:00Z');
  t.is(statusLine(recordWith({ status: 'running', startedAt: '2024-01-01T00:01:57Z' }), now), 'Up 3 seconds');
  t.is(
    statusLine(recordWith({ status: 'paused', startedAt: '2024-01-01T00:00:00Z' }), now),
    'Up 2 minutes (Paused)',
  );
  const exited = recordWith({
    status: 'exited',
    exitCode: 0,
    startedAt: '2024-01-01T00:00:00Z',
    finishedAt: '2024-01-01T00:00:00Z',
  });
  t.is(statusLine(exited, now), 'Exited (0) 2 minutes ago');
  t.is(statusLine(recordWith({ status: 'created' }), now), 'Created');
  const r = recordWith({ status: 'exited', exitCode: 3 });
  const ctx = {
    find: () => recordWith({}, { created: '2025-01-01T00:00:00Z' }),
    isAncestor: (_: ContainerRecord, a: string) => a === 'busybox',
  };
  const match = (...f: string[]) => matchesFilters(r, parseContainerFilters(f), ctx);
  t.true(
    match(
      'status=exited',
      'exited=3',
      'label=tier=web',
      'label=tier',
      'name=we',
      'id=aaa',
      'ancestor=busybox',
      'before=x',
      'network=bridge',
    ),
  );
  t.false(match('status=running'));
  t.false(match('exited=0'));
  t.false(match('label=tier=db'));
  t.false(match('since=x'));
  t.throws(() => parseContainerFilters(['color=red']), { instanceOf: FilterError });
  t.throws(() => parseContainerFilters(['status=sleeping']), { instanceOf: FilterError });
});
