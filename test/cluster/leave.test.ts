// A node leaves the cluster: its agent, started with --leave, deletes its lease on SIGTERM, and every other
// node drops the route, neighbour and FDB entry it held for it.
import test from 'ava';
import { pollUntil } from '../../pkg/cluster/index.ts';
import { leasesInEtcd, peerEntriesOn, peerOf, peerTracesOn, withCluster } from './helpers.ts';

test('a node that leaves (--leave, SIGTERM) disappears from every other node: no route, neighbour or FDB entry', async (t) => {
  await withCluster(t, { nodes: 3 }, async (cluster) => {
    await cluster.stopAgent(2);
    await cluster.startAgent(2, ['--leave']);
    await cluster.waitHealthy(2);
    const leaving = await peerOf(cluster, 2);

    for (const i of [0, 1]) {
      const seen = await pollUntil(
        `node ${i} to program node 2`,
        async () => {
          const s = await peerEntriesOn(cluster.nodes[i]!.netnsPath, leaving);
          return s.route && s.neighbour && s.fdb ? s : undefined;
        },
        { timeoutMs: 15_000 },
      );
      t.deepEqual(
        seen,
        { route: true, neighbour: true, fdb: true },
        `node ${i} holds node 2 before it leaves`,
      );
    }

    await cluster.stopAgent(2, 'SIGTERM');
    t.false(
      (await leasesInEtcd(cluster)).some((l) => l.attrs.PublicIP === leaving.publicIp),
      "node 2's lease is deleted",
    );
    for (const i of [0, 1]) {
      const gone = await pollUntil(
        `node ${i} to drop node 2`,
        async () => ((await peerTracesOn(cluster.nodes[i]!.netnsPath, leaving)) ? undefined : true),
        { timeoutMs: 15_000 },
      );
      t.true(gone, `node ${i} holds no route, neighbour or FDB entry for node 2`);
    }
    // The nodes that stayed still reach each other.
    const stay = await peerOf(cluster, 1);
    t.deepEqual(await peerEntriesOn(cluster.nodes[0]!.netnsPath, stay), {
      route: true,
      neighbour: true,
      fdb: true,
    });
  });
});
