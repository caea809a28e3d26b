// The agents and an etcd that goes away: restarted under running agents (they reconnect, keep their subnets
// and keep watching), and absent when an agent starts (it waits, then comes up).
import test from 'ava';
import { AGENT_HTTP, ETCD_PREFIX, nsRun, pollUntil, sleep, subnetNetwork } from '../../pkg/cluster/index.ts';
import { EtcdStore } from '../../pkg/store/etcd.ts';
import { subnetKey } from '../../pkg/subnet/lease.ts';
import { leasesInEtcd, peerEntriesOn, withCluster } from './helpers.ts';

const LEASE_TTL = 4;

test('etcd restarted: agents reconnect, renew and keep their subnets, and see new leases', async (t) => {
  await withCluster(t, { nodes: 3, leaseTtl: LEASE_TTL }, async (cluster) => {
    const before = cluster.nodes.map((n) => cluster.subnetOf(n.index));
    const pids = cluster.nodes.map((n) => cluster.agentPid(n.index));
    await cluster.stopEtcd();
    await cluster.startEtcd();

    // Past twice the TTL, the leases exist only if the agents renewed them through the new etcd process.
    await sleep(2 * LEASE_TTL * 1000 + 500);
    const leases = await leasesInEtcd(cluster);
    t.deepEqual(
      leases.map((l) => l.attrs.PublicIP).sort(),
      cluster.nodes.map((n) => n.publicIp).sort(),
      'every node still holds a lease',
    );
    t.deepEqual(
      cluster.nodes.map((n) => cluster.subnetOf(n.index)),
      before,
      'same subnets',
    );
    t.deepEqual(
      cluster.nodes.map((n) => cluster.agentPid(n.index)),
      pids,
      'no agent exited',
    );
    for (const n of cluster.nodes) t.is(await cluster.healthStatus(n.index), 200, `node ${n.index} healthy`);

    // The watches work again: a lease written now reaches every node's kernel.
    // a subnet no node holds (theirs are picked at random from 10.244.0.0/16: a fixed one was once node 2's,
    // which then took its lease back and never programmed it as a peer)
    const held = new Set(before.flatMap((s) => (s ? [subnetNetwork(s)] : [])));
    const subnet = ['10.244.250.0/24', '10.244.251.0/24', '10.244.252.0/24', '10.244.253.0/24'].find(
      (s) => !held.has(s),
    );
    if (!subnet) throw new Error(`every candidate subnet is a node's: ${[...held].join(', ')}`);
    const fake = { subnet, vtepMac: '02:00:00:00:fa:01', publicIp: '198.18.0.200' };
    const store = new EtcdStore({ endpoints: [cluster.etcdEndpoint] });
    try {
      await store.put(
        subnetKey(ETCD_PREFIX, fake.subnet),
        JSON.stringify({
          PublicIP: fake.publicIp,
          BackendType: 'vxlan',
          BackendData: { VtepMAC: fake.vtepMac },
        }),
      );
    } finally {
      await store.close();
    }
    for (const n of cluster.nodes) {
      const seen = await pollUntil(
        `node ${n.index} to program a lease written after the restart`,
        async () => {
          const s = await peerEntriesOn(n.netnsPath, fake);
          return s.route && s.neighbour && s.fdb ? s : undefined;
        },
        { timeoutMs: 20_000 },
      );
      t.deepEqual(seen, { route: true, neighbour: true, fdb: true });
    }
  });
});

test('etcd down when an agent starts: it keeps retrying (and says why), and comes up once etcd is there', async (t) => {
  await withCluster(t, { nodes: 2, startAgents: false }, async (cluster) => {
    await cluster.stopEtcd();
    await cluster.startAgent(0);
    // A few looks while etcd is away: the agent stays up, unhealthy, with no subnet.env.
    for (let k = 0; k < 5; k++) {
      await sleep(400);
      t.truthy(cluster.agentPid(0), 'the agent is still running');
      t.not(await cluster.healthStatus(0), 200, 'not healthy without a store');
      t.is(cluster.subnetEnv(0), undefined, 'no subnet.env without a lease');
    }
    // Not ready, but alive: a liveness probe must not restart it (polled: the agent may still be starting).
    const alive = await pollUntil(
      'the agent to answer /livez',
      async () =>
        (
          await nsRun(cluster.nodes[0]!.netnsPath, 'curl', [
            '-s',
            '-m',
            '2',
            `http://${AGENT_HTTP}/livez`,
          ]).catch(() => '')
        ).trim() || undefined,
      { timeoutMs: 15_000 },
    );
    t.is(alive, '{"alive":true}');
    t.not(await cluster.healthStatus(0), 200, 'still not ready without a store');
    const warned = await pollUntil(
      'a log line about the unreachable store',
      () =>
        cluster
          .agentLogTail(0, 200)
          .split('\n')
          .some((line) => /"level":(40|50)/.test(line)),
      { timeoutMs: 15_000 },
    );
    t.true(warned);

    await cluster.startEtcd();
    await cluster.waitHealthy(0);
    await cluster.startAgent(1);
    await cluster.waitHealthy(1);
    t.not(cluster.subnetOf(0), cluster.subnetOf(1));
    t.is((await leasesInEtcd(cluster)).length, 2);
  });
});
