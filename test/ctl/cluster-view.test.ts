// tsnetctl's cluster view on a real 2-node cluster with its agents down: nodes, node NAME, leases, endpoints,
// routes and the `ps -A` listing, from etcd (and the nodes' kernels), in table, wide, json and yaml; etcdctl and
// iproute2 as the oracles.
import test from 'ava';
import { parse } from 'yaml';
import { etcdctl } from '../../pkg/cluster/etcd.ts';
import { ETCD_PREFIX, ip, subnetNetwork, VTEP_NAME } from '../../pkg/cluster/index.ts';
import { clusterContainers } from '../../pkg/ctl/cluster/commands.ts';
import { leasesInEtcd, peerOf, vtepIpOf } from '../cluster/helpers.ts';
import { assertOneLineError } from './cli.ts';
import { containerId, withViewCluster } from './cluster-fixture.ts';

interface NodeJson {
  name: string;
  publicIp: string;
  subnet: string;
  vtepMac: string;
  ttlLeft: number;
  containers: number;
  ready: boolean;
}

test('nodes, node NAME, leases, endpoints, routes and ps -A read the cluster from the store', async (t) => {
  await withViewCluster(
    t,
    [
      ['a', 0],
      ['web', 1],
      ['c', 1],
    ],
    async ({ cluster, containers, ctl, ctlOn }) => {
      const json = async <T>(...args: string[]): Promise<T> => {
        const r = await ctl(...args);
        t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        return JSON.parse(r.stdout) as T;
      };
      const yaml = async (...args: string[]): Promise<unknown> => {
        const r = await ctl(...args, '-o', 'yaml');
        t.is(r.code, 0, `${args.join(' ')} -o yaml: ${r.stderr}`);
        return parse(r.stdout);
      };
      const table = async (...args: string[]): Promise<string[]> => {
        const r = await ctl(...args);
        t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        return r.stdout.trimEnd().split('\n');
      };

      // nodes: each node's lease as etcd holds it, named by its containers' entries.
      const expected = await Promise.all(
        cluster.nodes.map(async (n) => {
          const peer = await peerOf(cluster, n.index);
          return {
            name: `node${n.index}`,
            publicIp: n.publicIp,
            subnet: subnetNetwork(cluster.subnetOf(n.index) ?? ''),
            vtepMac: peer.vtepMac,
          };
        }),
      );
      const nodes = await json<NodeJson[]>('nodes', '-o', 'json');
      t.deepEqual(
        nodes.map(({ name, publicIp, subnet, vtepMac, containers: count, ready }) => ({
          name,
          publicIp,
          subnet,
          vtepMac,
          count,
          ready,
        })),
        expected.map((e, i) => ({ ...e, count: i === 0 ? 1 : 2, ready: true })),
      );
      for (const n of nodes) t.true(n.ttlLeft > 0 && n.ttlLeft <= 3600, `TTL left ${n.ttlLeft}`);
      // The TTL counts down between two runs: everything else is the same in every form.
      const steady = (v: unknown) => (v as { ttlLeft?: number }[]).map(({ ttlLeft: _, ...rest }) => rest);
      t.deepEqual(steady(await json('nodes', '--json')), steady(nodes), '--json is -o json');
      t.deepEqual(steady(await yaml('nodes')), steady(nodes), 'yaml holds the same');
      const nodeTable = await table('nodes');
      t.regex(nodeTable[0] ?? '', /^NAME\s+PUBLIC IP\s+SUBNET\s+VTEP MAC\s+LEASE TTL\s+CONTAINERS\s+READY$/);
      t.regex(
        nodeTable[2] ?? '',
        new RegExp(
          `^node1\\s+198\\.18\\.0\\.2\\s+${expected[1]!.subnet}\\s+${expected[1]!.vtepMac}\\s+\\d+s\\s+2\\s+yes$`,
        ),
      );
      t.regex((await table('nodes', '-o', 'wide'))[0] ?? '', /READY\s+BACKEND$/);

      // leases: etcdctl says which store lease each key has.
      const leases = await json<{ subnet: string; leaseId: string; ttlLeft: number; publicIp: string }[]>(
        'leases',
        '-o',
        'json',
      );
      const inEtcd = await leasesInEtcd(cluster);
      t.deepEqual(
        leases.map((l) => [l.subnet, l.publicIp, l.leaseId]).sort(),
        inEtcd.map((l) => [l.subnet, l.attrs.PublicIP, l.lease]).sort(),
      );
      const firstLease = leases[0]!;
      const ttlOracle = await etcdctl(
        `${cluster.dir}/etcd`,
        'lease',
        'timetolive',
        BigInt(firstLease.leaseId).toString(16),
      );
      const oracleTtl = Number(/remaining\((\d+)s\)/.exec(ttlOracle)?.[1]);
      t.true(
        Math.abs(oracleTtl - firstLease.ttlLeft) <= 5,
        `etcdctl ${oracleTtl}s, tsnetctl ${firstLease.ttlLeft}s`,
      );
      t.deepEqual(steady(await yaml('leases')), steady(leases));
      t.regex((await table('leases'))[0] ?? '', /^SUBNET\s+PUBLIC IP\s+VTEP MAC\s+BACKEND\s+TTL LEFT$/);
      t.regex((await table('leases', '-o', 'wide'))[0] ?? '', /TTL LEFT\s+LEASE ID\s+REVISION$/);

      // endpoints, filtered by node and network.
      type Endpoint = {
        container: string;
        node: string;
        network: string;
        ip: string;
        mac: string;
        aliases: string[];
        ports: string[];
      };
      const all = await json<Endpoint[]>('endpoints', '-o', 'json');
      t.deepEqual(
        all.map((e) => [e.container, e.node, e.network, e.ip, e.mac, e.aliases, e.ports]),
        [...containers]
          .sort(
            (x, y) => x.entry.node.localeCompare(y.entry.node) || x.entry.name.localeCompare(y.entry.name),
          )
          .map(({ entry, container }) => [
            entry.name,
            entry.node,
            'tsnet',
            container.ip,
            entry.endpoints[0]?.mac,
            [`${entry.name}-alias`],
            entry.name === 'web' ? ['0.0.0.0:8080->80/tcp'] : [],
          ]),
      );
      t.deepEqual(
        (await json<Endpoint[]>('endpoints', '--node', 'node1', '-o', 'json')).map((e) => e.container),
        ['c', 'web'],
      );
      t.deepEqual(await json('endpoints', '--network', 'other', '-o', 'json'), []);
      t.deepEqual(await yaml('endpoints', '--network', 'tsnet'), all);
      const epTable = await table('endpoints', '--node', 'node1');
      t.regex(epTable[0] ?? '', /^CONTAINER\s+NODE\s+NETWORK\s+IP\s+MAC\s+ALIASES\s+PORTS$/);
      const web = containers.find((c) => c.entry.name === 'web')!;
      t.regex(
        epTable[2] ?? '',
        new RegExp(
          `^web\\s+node1\\s+tsnet\\s+${web.container.ip.replace(/\./g, '\\.')}\\s+\\S+\\s+web-alias\\s+0\\.0\\.0\\.0:8080->80/tcp$`,
        ),
      );

      // node NAME: the node and its containers.
      const node1 = await json<{ node: NodeJson; containers: { name: string }[] }>(
        'node',
        'node1',
        '-o',
        'json',
      );
      t.is(node1.node.publicIp, '198.18.0.2');
      t.deepEqual(
        node1.containers.map((c) => c.name),
        ['c', 'web'],
      );
      const nodeText = (await ctl('node', '198.18.0.1')).stdout;
      t.regex(nodeText, /^node0\s/m, 'found by public IP');
      t.regex(
        nodeText,
        new RegExp(
          `^${containerId('a').slice(0, 12)}\\s+a\\s+node0\\s+docker\\.io/library/busybox:latest\\s+running`,
          'm',
        ),
      );

      // ps -A's listing, in-process, as the ps command calls it.
      const rows = await clusterContainers({
        'etcd-endpoints': cluster.etcdEndpoint,
        'etcd-prefix': ETCD_PREFIX,
      });
      t.deepEqual(
        rows.map((r) => [r.name, r.node, r.ips]),
        [
          ['a', 'node0', [containers[0]!.container.ip]],
          ['c', 'node1', [containers[2]!.container.ip]],
          ['web', 'node1', [containers[1]!.container.ip]],
        ],
      );

      // routes: desired entries against each node's kernel; a foreign route and a deleted neighbour marked.
      const netnsArgs = cluster.nodes.flatMap((n) => ['--node-netns', `node${n.index}=${n.netnsPath}`]);
      type RouteRow = { node: string; kind: string; entry: string; status: string };
      const routes = await json<RouteRow[]>('routes', ...netnsArgs, '-o', 'json');
      t.deepEqual(
        routes.map((r) => [r.node, r.kind, r.status]),
        [
          ['node0', 'neighbour', 'ok'],
          ['node0', 'fdb', 'ok'],
          ['node0', 'route', 'ok'],
          ['node1', 'neighbour', 'ok'],
          ['node1', 'fdb', 'ok'],
          ['node1', 'route', 'ok'],
        ],
      );
      const peer1 = await peerOf(cluster, 1);
      const n0 = cluster.nodes[0]!.netnsPath;
      await ip(
        n0,
        'route',
        'add',
        '10.99.0.0/24',
        'via',
        '10.99.0.0',
        'dev',
        VTEP_NAME,
        'onlink',
        'proto',
        '116',
      );
      await ip(n0, 'neigh', 'del', vtepIpOf(peer1.subnet), 'dev', VTEP_NAME);
      const drift = await ctl('routes', '--node', 'node0', ...netnsArgs, '-o', 'json');
      t.is(drift.code, 1, 'drift: exit 1');
      t.deepEqual(
        (JSON.parse(drift.stdout) as RouteRow[]).map((r) => [r.kind, r.entry, r.status]),
        [
          ['neighbour', `${vtepIpOf(peer1.subnet)} lladdr ${peer1.vtepMac}`, 'missing'],
          ['fdb', `${peer1.vtepMac} dst ${peer1.publicIp}`, 'ok'],
          ['route', `${peer1.subnet} via ${vtepIpOf(peer1.subnet)} onlink`, 'ok'],
          ['route', '10.99.0.0/24', 'foreign'],
        ],
      );
      const driftText = await ctl('routes', '--node', 'node0', ...netnsArgs);
      t.regex(driftText.stdout, /^node0\s+route\s+10\.99\.0\.0\/24\s+FOREIGN$/m);
      t.regex(driftText.stdout, /^node0\s+neighbour\s+\S+ lladdr \S+\s+MISSING$/m);
      // Inside node0 it finds its own kernel by its public IP; node1 is not reachable from there.
      const inside = await ctlOn(0, 'routes', '-o', 'json');
      t.deepEqual(
        (JSON.parse(inside.stdout) as RouteRow[]).map((r) => [r.node, r.kind, r.status]),
        [
          ['node0', 'neighbour', 'missing'],
          ['node0', 'fdb', 'ok'],
          ['node0', 'route', 'ok'],
          ['node0', 'route', 'foreign'],
          ['node1', 'node', 'not-checked'],
        ],
      );

      // Mistakes: one line, no stack.
      assertOneLineError(
        t,
        await ctl('node', 'nosuch'),
        /no node nosuch in the cluster \(known: node0, node1\)/,
      );
      assertOneLineError(t, await ctl('nodes', '-o', 'xml'), /-o xml: unknown output format/);
      assertOneLineError(
        t,
        await ctl('routes', '--node-netns', 'node0'),
        /--node-netns node0: expected NODE=PATH/,
      );
    },
  );
});
