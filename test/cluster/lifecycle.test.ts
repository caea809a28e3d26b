// The agent's life cycle: SIGTERM keeps the data plane and the lease (a restart disrupts nothing and keeps the
// subnet and VTEP MAC); a lease lost under a running agent is taken back, with subnet.env withdrawn meanwhile;
// /metrics exports what the agent does.
import test from 'ava';
import {
  AGENT_HTTP,
  ETCD_PREFIX,
  ETCD_UNDERLAY_IP,
  ip,
  nsRun,
  pings,
  pollUntil,
} from '../../pkg/cluster/index.ts';
import { listMasquerade } from '../../pkg/nft/index.ts';
import { EtcdStore } from '../../pkg/store/etcd.ts';
import { subnetKey } from '../../pkg/subnet/lease.ts';
import { leasesInEtcd, peerEntriesOn, peerOf, withCluster } from './helpers.ts';

async function metric(nsPath: string, pattern: RegExp): Promise<number | undefined> {
  const text = await nsRun(nsPath, 'curl', ['-s', '-m', '2', `http://${AGENT_HTTP}/metrics`], {
    timeoutMs: 5000,
  });
  const m = pattern.exec(text);
  return m ? Number(m[1]) : undefined;
}

test('SIGTERM leaves the data plane and the lease; the restarted agent has the same subnet and VTEP MAC', async (t) => {
  await withCluster(t, { nodes: 2 }, async (cluster) => {
    const a = await cluster.addContainer(0, 'a');
    const b = await cluster.addContainer(1, 'b');
    t.true(await pings(a.netnsPath, b.ip), 'pods talk before');
    const node1 = await peerOf(cluster, 1);

    await cluster.stopAgent(1, 'SIGTERM');
    t.true(
      (await leasesInEtcd(cluster)).some((l) => l.attrs.PublicIP === node1.publicIp),
      'the lease stays after SIGTERM',
    );
    t.deepEqual(await peerEntriesOn(cluster.nodes[1]!.netnsPath, await peerOf(cluster, 0)), {
      route: true,
      neighbour: true,
      fdb: true,
    });
    t.true(await pings(a.netnsPath, b.ip), 'pods still talk while the agent is stopped');

    await cluster.startAgent(1);
    await cluster.waitHealthy(1);
    const after = await peerOf(cluster, 1);
    t.is(after.subnet, node1.subnet);
    t.is(after.vtepMac, node1.vtepMac, 'the VTEP MAC survives the restart');
    t.true(await pings(b.netnsPath, a.ip));
  });
});

test('a lease deleted under a running agent is taken back: same subnet, subnet.env restored, counted in /metrics', async (t) => {
  await withCluster(t, { nodes: 2, leaseTtl: 3 }, async (cluster) => {
    const node1 = await peerOf(cluster, 1);
    t.is(await metric(cluster.nodes[1]!.netnsPath, /^tsnet_peers (\d+)/m), 1, 'one peer programmed');
    t.true(((await metric(cluster.nodes[1]!.netnsPath, /^tsnet_lease_expiry_seconds ([\d.]+)/m)) ?? 0) > 0);

    const store = new EtcdStore({ endpoints: [cluster.etcdEndpoint] });
    try {
      await store.delete(subnetKey(ETCD_PREFIX, node1.subnet));
    } finally {
      await store.close();
    }
    const lost = await pollUntil(
      'the agent to notice the lost lease',
      async () => {
        const n = await metric(
          cluster.nodes[1]!.netnsPath,
          /^tsnet_lease_events_total\{event="lost"\} (\d+)/m,
        );
        return n && n > 0 ? n : undefined;
      },
      { timeoutMs: 20_000 },
    );
    t.true(lost >= 1);
    const back = await pollUntil(
      'the lease and subnet.env to come back',
      async () => {
        const lease = (await leasesInEtcd(cluster)).find((l) => l.attrs.PublicIP === node1.publicIp);
        return lease && cluster.subnetEnv(1) ? lease : undefined;
      },
      { timeoutMs: 20_000 },
    );
    t.is(back.subnet, node1.subnet, 'the same subnet');
    t.is(await cluster.healthStatus(1), 200);
    t.true(
      ((await metric(
        cluster.nodes[1]!.netnsPath,
        /^tsnet_lease_events_total\{event="reacquired"\} (\d+)/m,
      )) ?? 0) >= 1,
    );
  });
});

test('the underlay MTU changes: the VTEP follows and subnet.env tells new pods', async (t) => {
  await withCluster(t, { nodes: 1 }, async (cluster) => {
    t.is(cluster.subnetEnv(0)?.mtu, 1450);
    await ip(cluster.nodes[0]!.netnsPath, 'link', 'set', 'ul0', 'mtu', '1400');
    const mtu = await pollUntil(
      'subnet.env to carry the new MTU',
      async () => (cluster.subnetEnv(0)?.mtu === 1350 ? 1350 : undefined),
      { timeoutMs: 20_000 },
    );
    t.is(mtu, 1350);
    t.is((await cluster.vtepOf(0)).mtu, 1350);
    const pod = await cluster.addContainer(0, 'p');
    const eth0 = await ip(pod.netnsPath, '-j', 'link', 'show', 'eth0');
    t.is((JSON.parse(eth0) as { mtu: number }[])[0]?.mtu, 1350, 'a new pod gets the new MTU');
  });
});

test('the agent masquerades pod traffic leaving the cluster network, once per node, and not pod-to-pod traffic', async (t) => {
  await withCluster(t, { nodes: 2 }, async (cluster) => {
    const a = await cluster.addContainer(0, 'a');
    const b = await cluster.addContainer(1, 'b');
    const masq = await listMasquerade(cluster.nodes[0]!.netnsPath);
    const subnet0 = (await peerOf(cluster, 0)).subnet;
    t.deepEqual(
      masq.map((m) => [m.network, m.subnets]),
      [['tsnet-overlay', [subnet0]]],
      'one masquerade entry for the node subnet',
    );
    t.true(
      masq[0]!.excluded.some((e) => e.destination === '10.244.0.0/16'),
      'the cluster network is excluded',
    );
    // etcd's namespace sits on the underlay and has no route back to pod subnets: only a masqueraded
    // packet (source = node 0's underlay address) gets an answer.
    t.true(
      await pings(a.netnsPath, ETCD_UNDERLAY_IP),
      'a pod reaches an address outside the cluster network',
    );
    t.true(await pings(a.netnsPath, b.ip), 'and pods still reach each other');
  });
});
