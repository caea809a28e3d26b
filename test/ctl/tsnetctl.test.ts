import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { EmbeddedStore } from '../../pkg/store/embedded.ts';
import { saveNetworkConfig } from '../../pkg/subnet/config.ts';
import { encodeLeaseAttrs, subnetKey } from '../../pkg/subnet/lease.ts';
import { ip, withNetnses } from '../helpers/netns.ts';
import { withTempDir } from '../helpers/tmp.ts';

const run = promisify(execFile);
const MAIN = resolve(import.meta.dirname, '../../cmd/tsnetctl/main.ts');
const PREFIX = '/tsnet.io/network';

async function tsnetctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import=tsx', MAIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

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
  const bad = await tsnetctl('frobnicate');
  t.is(bad.code, 2);
  t.is(bad.stderr.trim().split('\n').length, 1);
  t.regex(bad.stderr, /^tsnetctl: unknown command "frobnicate"/);
  const badFlag = await tsnetctl('nodes', '--etcd-endpoints', 'localhost:2379');
  t.is(badFlag.code, 2);
  t.notRegex(badFlag.stderr, /\n\s+at /);
});
