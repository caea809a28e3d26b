// Adversarial stdin and environment for every built CNI plugin (dist/cni), run as a runtime runs them, inside
// test namespaces: a valid network config with one field replaced by a hostile value or removed, or stdin that
// is not a config at all, under an environment whose CNI_COMMAND, CNI_CONTAINERID, CNI_IFNAME, CNI_NETNS and
// CNI_ARGS may be hostile too. Each answer is either success (an ADD is then DELeted with the same input) or
// the spec's error JSON on stdout with a non-zero exit; and after it nothing is half-created: no link in the
// container namespace, no veth/macvlan/vxlan left in the node's, no IPAM allocation or delegate file, no nft
// element naming the container. The plugins run with `nsenter --net` in the test's node namespace.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { ip, ipLinks, nsexec, type TestNetns, uniqueIfname, withNetnses } from '../helpers/netns.ts';
import { type PluginCall, type PluginOutcome, runPlugin } from '../helpers/plugin.ts';
import { withTempDir } from '../helpers/tmp.ts';
import { leafPaths, mutated } from './mutate.ts';

const NASTY_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  2 ** 53 + 2,
  65536,
  '',
  ' ',
  '../../etc',
  '/etc/passwd',
  'a/b',
  'x'.repeat(300),
  'eth0',
  '10.250.0.0/33',
  '10.250.0.0',
  '300.1.1.1/24',
  'fe80::/200',
  '10.251.0.0/30',
  '0.0.0.0/0',
  'not-an-ip',
  [],
  [{}],
  [[{ subnet: 'junk' }]],
  {},
  { type: 'tsnet-ipam' },
  { subnet: 'x' },
  '1.1.0',
  '9.9.9',
  'tsnet-bridge',
  '../bin/sh',
];

const NASTY_IDS = ['', '../x', 'a/b', '-x', 'x'.repeat(300), 'id with space', 'é', '.', '..', 'ok-id.1'];
const NASTY_IFNAMES = ['', 'eth0', 'lo', 'a/b', '..', '.', 'x'.repeat(16), 'eth 0', 'e:1', 'net1'];
const NASTY_ARGS = [
  'IgnoreUnknown=1',
  'IP=10.250.0.300',
  'IP=10.99.0.5',
  'MAC=zz:zz',
  'K8S_POD_NAME=../x',
  ';;;',
  'a=b=c',
  'IgnoreUnknown=1;IP=198.18.40.7',
];
const COMMANDS = [
  'ADD',
  'ADD',
  'ADD',
  'DEL',
  'CHECK',
  'STATUS',
  'GC',
  'VERSION',
  'add',
  'BOGUS',
  '',
] as const;

interface World {
  node: TestNetns;
  ctr: TestNetns;
  dir: string;
}

type Stdin = Record<string, unknown> | string;

function stdinArbitrary(conf: Record<string, unknown>): fc.Arbitrary<Stdin> {
  const paths = leafPaths(conf);
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(fc.constantFrom(...paths), fc.option(fc.constantFrom(...NASTY_VALUES), { nil: undefined }))
        .map(([path, value]) => mutated(conf, path, value)),
    },
    { weight: 1, arbitrary: fc.constant(conf) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom('{', 'null', '[]', '"x"', '{"cniVersion":"1.0.0"}', `${JSON.stringify(conf)}x`),
      ),
    },
  );
}

interface Env {
  command: PluginCall['command'] | string;
  containerId?: string;
  ifname?: string;
  netns?: 'container' | 'node' | 'missing' | 'relative' | 'absent';
  args?: string;
}

const envArbitrary: fc.Arbitrary<Env> = fc.record(
  {
    command: fc.constantFrom(...COMMANDS),
    containerId: fc.constantFrom(...NASTY_IDS),
    ifname: fc.constantFrom(...NASTY_IFNAMES),
    netns: fc.constantFrom('container', 'container', 'container', 'node', 'missing', 'relative', 'absent'),
    args: fc.constantFrom(...NASTY_ARGS),
  },
  { requiredKeys: ['command'] },
);

/** The call a runtime would make: the node namespace plays the host; the netns is the container's unless hostile. */
function callOf(w: World, env: Env, stdin: Stdin): PluginCall {
  const netns = {
    container: w.ctr.path,
    node: w.node.path,
    missing: '/run/netns/tsnt-no-such-netns',
    relative: 'netns/x',
    absent: undefined,
  }[env.netns ?? 'absent'];
  return {
    command: env.command as PluginCall['command'],
    config: stdin,
    nodeNetns: w.node.path,
    ...(env.containerId !== undefined ? { containerId: env.containerId } : {}),
    ...(env.ifname !== undefined ? { ifname: env.ifname } : {}),
    ...(netns !== undefined ? { netns } : {}),
    ...(env.args !== undefined ? { args: env.args } : {}),
  };
}

/** What must not stay after a call: per-container state in both namespaces and on disk. */
function leftovers(w: World, containerId: string | undefined, baseline: Set<string>): string[] {
  const found: string[] = [];
  const ctrLinks = ipLinks(w.ctr.path).map((l) => l.ifname);
  if (ctrLinks.join() !== 'lo') found.push(`container links: ${ctrLinks.join(', ')}`);
  for (const l of ipLinks(w.node.path)) {
    if (baseline.has(l.ifname) || l.linkinfo?.info_kind === 'bridge') continue;
    found.push(`node link ${l.ifname} (${l.linkinfo?.info_kind ?? 'no kind'})`);
  }
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, name.name);
      if (name.isDirectory()) walk(path);
      else if (
        name.name !== 'lock' &&
        !name.name.startsWith('last_reserved_ip') &&
        name.name !== 'subnet.env'
      )
        found.push(`file ${path.slice(w.dir.length + 1)}`);
    }
  };
  walk(w.dir);
  if (containerId && containerId.length > 1) {
    let ruleset = '';
    try {
      ruleset = nsexec(w.node.path, '/usr/sbin/nft', ['list', 'ruleset']);
    } catch {
      // no nft ruleset: nothing of anyone's
    }
    if (ruleset.includes(`"${containerId}@`)) found.push(`nft element of ${containerId}`);
  }
  return found;
}

/** The answer is success, or the spec's error JSON with a non-zero exit (never a crash or a stack trace). */
function clearAnswer(out: PluginOutcome): string | undefined {
  if (out.signal) return `killed by ${out.signal}`;
  if (out.code === 0) return undefined;
  const code = out.json?.['code'];
  const msg = out.json?.['msg'];
  if (typeof code !== 'number' || !Number.isInteger(code) || typeof msg !== 'string' || msg === '')
    return `exit ${out.code} without the error JSON: ${JSON.stringify(out.stdout)} ${out.stderr}`;
  if (/\n\s+at /.test(out.stdout + out.stderr)) return `a stack trace: ${out.stdout}${out.stderr}`;
  return undefined;
}

async function fuzzPlugin(
  t: ExecutionContext,
  type: string,
  confOf: (w: World) => Record<string, unknown>,
  setUp: (w: World) => void,
  numRuns: number,
): Promise<void> {
  t.timeout(240_000);
  await withTempDir(async (dir) => {
    await withNetnses('fz', 2, async ([node, ctr]) => {
      const w: World = { node: node as TestNetns, ctr: ctr as TestNetns, dir };
      setUp(w);
      const baseline = new Set(ipLinks(w.node.path).map((l) => l.ifname));
      const conf = confOf(w);
      const outcomes = { ok: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(envArbitrary, stdinArbitrary(conf), async (env, stdin) => {
          const call = callOf(w, env, stdin);
          const out = await runPlugin(type, call);
          const unclear = clearAnswer(out);
          if (unclear) throw new Error(`${type} ${env.command}: ${unclear}`);
          if (out.code === 0) {
            outcomes.ok++;
            if (env.command === 'ADD') {
              const del = await runPlugin(type, { ...call, command: 'DEL' });
              if (del.code !== 0)
                throw new Error(`DEL after a successful ADD failed: ${del.stdout}${del.stderr}`);
            }
          } else outcomes.refused++;
          const left = leftovers(w, env.containerId, baseline);
          if (left.length > 0)
            throw new Error(
              `${type} ${env.command} (exit ${out.code}: ${out.stdout.trim()}) left ${left.join('; ')}`,
            );
        }),
        { numRuns },
      );
      t.log(type, outcomes);
      t.true(outcomes.refused > 0, 'hostile input was refused at least once');
    });
  });
}

const noSetUp = (): void => undefined;

const bridgeConf = (w: World) => ({
  cniVersion: '1.0.0',
  name: 'fznet',
  type: 'tsnet-bridge',
  bridge: uniqueIfname('fzbr'),
  isGateway: true,
  ipMasq: true,
  runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
  ipam: {
    type: 'tsnet-ipam',
    subnet: '10.250.0.0/24',
    dataDir: join(w.dir, 'ipam'),
    routes: [{ dst: '0.0.0.0/0' }],
  },
});

test('tsnet-bridge: hostile stdin and env are a result or a CNI error, and nothing is half-created', (t) =>
  fuzzPlugin(t, 'tsnet-bridge', bridgeConf, noSetUp, 25));

test('tsnet-macvlan: hostile stdin and env are a result or a CNI error, and nothing is half-created', (t) =>
  fuzzPlugin(
    t,
    'tsnet-macvlan',
    (w) => ({
      cniVersion: '1.1.0',
      name: 'fzmv',
      type: 'tsnet-macvlan',
      master: 'uplink0',
      mode: 'bridge',
      ipam: {
        type: 'tsnet-ipam',
        dataDir: join(w.dir, 'ipam'),
        ranges: [[{ subnet: '198.18.40.0/24', gateway: '198.18.40.1' }]],
      },
    }),
    (w) => {
      ip(w.node.path, 'link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', 'uplink0p');
      ip(w.node.path, 'link', 'set', 'uplink0', 'up');
      ip(w.node.path, 'link', 'set', 'uplink0p', 'up');
    },
    20,
  ));

test('tsnet-vxlan: hostile stdin and env are a result or a CNI error, and nothing is half-created', (t) =>
  fuzzPlugin(
    t,
    'tsnet-vxlan',
    (w) => ({
      cniVersion: '1.1.0',
      name: 'fzvx',
      type: 'tsnet-vxlan',
      subnetFile: join(w.dir, 'subnet.env'),
      dataDir: join(w.dir, 'vxlan'),
      bridge: uniqueIfname('fzvx'),
    }),
    (w) =>
      writeFileSync(
        join(w.dir, 'subnet.env'),
        'TSNET_NETWORK=10.244.0.0/16\nTSNET_SUBNET=10.244.7.1/24\nTSNET_MTU=1450\nTSNET_IPMASQ=true\n',
      ),
    20,
  ));

test('tsnet-ipam, tsnet-host and tsnet-none: hostile stdin and env are a result or a CNI error, nothing left', async (t) => {
  await fuzzPlugin(
    t,
    'tsnet-ipam',
    (w) => ({
      cniVersion: '1.1.0',
      name: 'fzipam',
      type: 'tsnet-ipam',
      ipam: { type: 'tsnet-ipam', subnet: '10.252.0.0/28', dataDir: join(w.dir, 'ipam') },
    }),
    noSetUp,
    12,
  );
  await fuzzPlugin(
    t,
    'tsnet-host',
    () => ({ cniVersion: '1.1.0', name: 'fzhost', type: 'tsnet-host' }),
    noSetUp,
    8,
  );
  await fuzzPlugin(
    t,
    'tsnet-none',
    () => ({ cniVersion: '1.1.0', name: 'fznone', type: 'tsnet-none' }),
    noSetUp,
    8,
  );
});
