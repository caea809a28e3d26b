// tsnetctl diagnose run inside a node of a real cluster, as an operator would on the demo's nodes: their agents
// write subnet.env under the cluster's directory, not at the default path, so only the kernel can tell which
// lease is this node's own.
import test from 'ava';
import { ETCD_PREFIX, pollUntil, subnetNetwork } from '../../pkg/cluster/index.ts';
import { peerEntriesOn, peerOf, withCluster } from '../cluster/helpers.ts';
import { outcome, TSNETCTL } from './cli.ts';

interface Report {
  local?: { subnets: string[]; publicIp: string; identifiedBy: string };
  peers: { subnet: string; neighbour: boolean; fdb: boolean; route: boolean }[];
  foreignRoutes: string[];
}

test('diagnose inside a node whose agent keeps subnet.env elsewhere knows its own lease from the kernel', async (t) => {
  await withCluster(t, { nodes: 2 }, async (cluster) => {
    const [node0, node1] = cluster.nodes;
    const own = subnetNetwork(cluster.subnetOf(0) ?? '');
    const peer = await peerOf(cluster, 1);
    // The agent's own view first (iproute2 as the oracle): node0 holds all of node1's entries.
    await pollUntil(
      'node0 to program node1',
      async () => Object.values(await peerEntriesOn(node0!.netnsPath, peer)).every(Boolean),
      { timeoutMs: 30_000 },
    );
    const diagnose = async (...extra: string[]) => {
      const args = ['--etcd-endpoints', cluster.etcdUrl, '--etcd-prefix', ETCD_PREFIX, ...extra];
      const r = await outcome('nsenter', [`--net=${node0!.netnsPath}`, ...TSNETCTL, 'diagnose', ...args]);
      if (r.stderr) t.log(r.stderr);
      return r;
    };

    const json = await diagnose('--json');
    const report = JSON.parse(json.stdout) as Report;
    t.deepEqual(
      report.peers.map((p) => [p.subnet, p.neighbour, p.fdb, p.route]),
      [[peer.subnet, true, true, true]],
      'only node1 is a peer, fully programmed',
    );
    t.deepEqual(report.local, {
      subnets: [own],
      publicIp: node0!.publicIp,
      identifiedBy: 'vtep-local-address',
    });
    t.deepEqual(report.foreignRoutes, []);
    t.is(json.code, 0, 'no problem to report');

    // A subnet file naming another node's subnet does not override what the kernel says.
    const misled = await diagnose('--subnet-file', node1!.subnetFile);
    t.is(misled.code, 0);
    t.regex(
      misled.stdout,
      new RegExp(`this node: ${own.replace(/\./g, '\\.')} \\(public IP ${node0!.publicIp}`),
    );
    t.regex(misled.stdout, /all peers programmed/);
  });
});
