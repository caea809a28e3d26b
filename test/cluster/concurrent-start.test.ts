// Agents started at the same moment race for subnets in a space barely larger than the cluster: the
// compare-and-swap claims still give every node its own.
import test from 'ava';
import { subnetNetwork } from '../../pkg/cluster/index.ts';
import { leasesInEtcd, withCluster } from './helpers.ts';

test('6 agents started at once over 7 free subnets: 6 distinct subnets, one lease each', async (t) => {
  // A /21 cut into /24s leaves 7 subnets (the first is reserved): collisions of random picks are likely.
  await withCluster(t, { nodes: 6, network: '10.244.0.0/21' }, async (cluster) => {
    const subnets = cluster.nodes.map((n) => cluster.subnetOf(n.index));
    t.true(subnets.every((s) => s !== undefined));
    t.is(new Set(subnets).size, 6, `distinct subnets: ${subnets.join(' ')}`);
    const leases = await leasesInEtcd(cluster);
    t.is(leases.length, 6);
    t.deepEqual(leases.map((l) => l.attrs.PublicIP).sort(), cluster.nodes.map((n) => n.publicIp).sort());
    for (const n of cluster.nodes) {
      const lease = leases.find((l) => l.attrs.PublicIP === n.publicIp);
      t.is(lease?.subnet, subnetNetwork(subnets[n.index]!), `node ${n.index}'s lease is the subnet it uses`);
    }
  });
});
