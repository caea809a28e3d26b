import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { EmbeddedStore } from '../../pkg/store/embedded.ts';
import { saveNetworkConfig } from '../../pkg/subnet/config.ts';
import { encodeLeaseAttrs, subnetKey } from '../../pkg/subnet/lease.ts';
import { ip, withNetnses } from '../helpers/netns.ts';
import { withTempDir } from '../helpers/tmp.ts';
import { assertOneLineError, type Outcome, outcome, TSNETCTL, tsnetctl } from './cli.ts';

const PREFIX = '/tsnet.io/network';

test('nodes lists leases; diagnose tells programmed peers from missing and foreign entries', async (t) => {
  await withTempDir((dir) =>
    withNetnses('ctl', 2, async ([node, other]) => {
      const store = await EmbeddedStore.open({ dataDir: dir });
      try {
        await saveNetworkConfig(store, { Network: '10.244.0.0/16' }, PREFIX);
        const lease = (subnet: string, publicIp: string, mac: string) =>
          store.put(
            subnetKey(PREFIX, subnet),
            encodeLeaseAttrs({ PublicIP: publicIp, BackendType: 'vxlan', BackendData: { VtepMAC: mac } }),
          );
        await lease('10.244.1.0/24', '198.18.0.1', '02:00:00:00:00:01');
        await lease('10.244.2.0/24', '198.18.0.2', '02:00:00:00:00:02');
        await lease('10.244.3.0/24', '198.18.0.3', '02:00:00:00:00:03');
      } finally {
        await store.close();
      }
      // This node is 10.244.1.0/24; its kernel holds peer .2 completely, nothing of peer .3, and a foreign route.
      ip(node!.path, 'link', 'add', 'ul0', 'type', 'veth', 'peer', 'name', 'ul1', 'netns', other!.name);
      ip(node!.path, 'addr', 'add', '198.18.0.1/24', 'dev', 'ul0');
      ip(node!.path, 'link', 'set', 'ul0', 'up');
      ip(
        node!.path,
        'link',
        'add',
        'tsnet.1',
        'type',
        'vxlan',
        'id',
        '1',
        'local',
        '198.18.0.1',
        'dstport',
        '8472',
        'nolearning',
      );
      ip(node!.path, 'link', 'set', 'tsnet.1', 'up');
      ip(
        node!.path,
        'neigh',
        'replace',
        '10.244.2.0',
        'lladdr',
        '02:00:00:00:00:02',
        'dev',
        'tsnet.1',
        'nud',
        'permanent',
      );
      ip(
        node!.path,
        'route',
        'add',
        '10.244.2.0/24',
        'via',
        '10.244.2.0',
        'dev',
        'tsnet.1',
        'onlink',
        'proto',
        '116',
      );
      ip(
        node!.path,
        'route',
        'add',
        '10.244.9.0/24',
        'via',
        '10.244.9.0',
        'dev',
        'tsnet.1',
        'onlink',
        'proto',
        '116',
      );
      execFileSync('nsenter', [
        `--net=${node!.path}`,
        'bridge',
        'fdb',
        'append',
        '02:00:00:00:00:02',
        'dev',
        'tsnet.1',
        'dst',
        '198.18.0.2',
        'self',
        'permanent',
      ]);
      const subnetFile = join(dir, 'subnet.env');
      writeFileSync(
        subnetFile,
        'TSNET_NETWORK=10.244.0.0/16\nTSNET_SUBNET=10.244.1.1/24\nTSNET_MTU=1450\nTSNET_IPMASQ=true\n',
      );

      const nodes = await tsnetctl('nodes', '--data-dir', dir, '--json');
      t.is(nodes.code, 0, nodes.stderr);
      t.deepEqual((JSON.parse(nodes.stdout) as { subnet: string }[]).map((l) => l.subnet).sort(), [
        '10.244.1.0/24',
        '10.244.2.0/24',
        '10.244.3.0/24',
      ]);
      const d = await tsnetctl(
        'diagnose',
        '--data-dir',
        dir,
        '--netns',
        node!.path,
        '--subnet-file',
        subnetFile,
        '--json',
      );
      t.is(d.code, 1, 'problems found: non-zero exit');
      const report = JSON.parse(d.stdout) as {
        peers: { subnet: string; neighbour: boolean; fdb: boolean; route: boolean }[];
        foreignRoutes: string[];
      };
      t.deepEqual(
        report.peers.map((p) => [p.subnet, p.neighbour, p.fdb, p.route]),
        [
          ['10.244.2.0/24', true, true, true],
          ['10.244.3.0/24', false, false, false],
        ],
      );
      t.deepEqual(report.foreignRoutes, ['10.244.9.0/24']);
      const text = await tsnetctl(
        'diagnose',
        '--data-dir',
        dir,
        '--netns',
        node!.path,
        '--subnet-file',
        subnetFile,
      );
      t.regex(text.stdout, /10\.244\.3\.0\/24\s+198\.18\.0\.3\s+MISSING/);
      t.regex(text.stdout, /foreign overlay route 10\.244\.9\.0\/24/);
    }),
  );
});

test('user mistakes print one line and exit 2, no stack trace', async (t) => {
  await withTempDir(async (dir) => {
    const mistakes: [string[], RegExp][] = [
      [['frobnicate'], /^tsnetctl: unknown command "frobnicate"/],
      [['nodes', '--etcd-endpoints', 'localhost:2379'], /must start with http:\/\//],
      [['nodes', '--no-such-flag'], /unknown option '--no-such-flag'/i],
      [['nodes', '--data-dir', ''], /--data-dir is empty/],
      [['node', '--netns', '/etc/hostname'], /--netns \/etc\/hostname: not a network namespace/],
      [['diagnose', '--netns', join(dir, 'nons')], /not a network namespace/],
      [['node', '--subnet-file', dir], new RegExp(`subnet file ${dir}: EISDIR`)],
    ];
    for (const [args, pattern] of mistakes) {
      const r = await tsnetctl(...args);
      assertOneLineError(t, r, pattern);
      t.is(r.code, 2, args.join(' '));
    }
  });
});

test('a mistyped --data-dir is an error naming the path, and creates nothing', async (t) => {
  await withTempDir(async (dir) => {
    const typo = join(dir, 'lib', 'tnset');
    for (const command of ['nodes', 'network', 'diagnose']) {
      const r = await tsnetctl(command, '--data-dir', typo);
      assertOneLineError(t, r, new RegExp(`^tsnetctl: no tsnet store at ${typo}/store\\.json`));
      t.is(r.code, 2, `${command}: a user mistake`);
      t.false(existsSync(join(dir, 'lib')), `${command} created nothing`);
    }
  });
});

/**
 * tsnetctl on a bare node: in `netnsPath` (no agent answers there) and a private mount namespace with a tmpfs
 * over /var/lib, so the real default (/var/lib/tsnet) is looked at but the host's is never touched. Anything
 * created there is reported on stdout.
 */
function tsnetctlOnBareNode(netnsPath: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Outcome> {
  const script =
    'mount -t tmpfs tsnet-test /var/lib || exit 99; "$@"; rc=$?; ' +
    'if [ -e /var/lib/tsnet ]; then echo "CREATED /var/lib/tsnet"; fi; exit $rc';
  return outcome(
    'nsenter',
    [
      `--net=${netnsPath}`,
      ...['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh'],
      ...TSNETCTL,
      ...args,
    ],
    env,
  );
}

test('without flags on a node with no agent and no store, tsnetctl says so and creates nothing', async (t) => {
  await withNetnses('ctlbare', 1, async ([bare]) => {
    const r = await tsnetctlOnBareNode(bare!.path, ['nodes']);
    t.not(r.code, 99, 'the test could mount its tmpfs');
    assertOneLineError(
      t,
      r,
      /^tsnetctl: no tsnet agent or store found: nothing answers at http:\/\/127\.0\.0\.1:9180\/healthz and \/var\/lib\/tsnet\/store\.json does not exist/,
    );

    // TSNET_DATA_DIR moves the default; the answer is the same, naming that path.
    await withTempDir(async (dir) => {
      const moved = join(dir, 'tsnet');
      const viaEnv = await tsnetctlOnBareNode(bare!.path, ['nodes'], {
        ...process.env,
        TSNET_DATA_DIR: moved,
      });
      assertOneLineError(
        t,
        viaEnv,
        new RegExp(`no tsnet agent or store found: .* ${moved}/store\\.json does not exist`),
      );
      t.false(existsSync(moved), 'nothing created');
    });
  });
});
