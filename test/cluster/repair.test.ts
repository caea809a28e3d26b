// Drift repair: what an operator (or another program) deletes on a node's overlay device comes back by itself.
import test from 'ava';
import { ip, nsRun, pings, pollUntil, VTEP_NAME } from '../../pkg/cluster/index.ts';
import { peerEntriesOn, peerOf, vtepIpOf, withCluster } from './helpers.ts';

test('a route, neighbour and FDB entry deleted by hand on a node come back by themselves', async (t) => {
  await withCluster(t, { nodes: 2 }, async (cluster) => {
    const a = await cluster.addContainer(0, 'a');
    const b = await cluster.addContainer(1, 'b');
    t.true(await pings(a.netnsPath, b.ip), 'traffic flows before');
    const node0 = cluster.nodes[0]!.netnsPath;
    const peer = await peerOf(cluster, 1);
    const all = { route: true, neighbour: true, fdb: true };
    t.deepEqual(await peerEntriesOn(node0, peer), all);

    // Each delete throws unless the entry was there; whether the agent notices in a millisecond or a second,
    // the entries must come back.
    await ip(node0, 'route', 'del', peer.subnet, 'dev', VTEP_NAME);
    t.deepEqual(
      await pollUntil('the route to come back', async () => (await peerEntriesOn(node0, peer)).route, {
        timeoutMs: 20_000,
      }),
      true,
    );

    await ip(node0, 'neigh', 'del', vtepIpOf(peer.subnet), 'dev', VTEP_NAME);
    await nsRun(node0, 'bridge', ['fdb', 'del', peer.vtepMac, 'dev', VTEP_NAME]);
    t.deepEqual(
      await pollUntil(
        'route, neighbour and FDB entry to come back',
        async () => {
          const s = await peerEntriesOn(node0, peer);
          return s.route && s.neighbour && s.fdb ? s : undefined;
        },
        { timeoutMs: 20_000 },
      ),
      all,
    );
    t.true(await pings(a.netnsPath, b.ip), 'traffic flows after the repair');
  });
});
