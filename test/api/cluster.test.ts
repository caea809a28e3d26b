// The Cluster service over a real gRPC server on a unix socket: nodes from the leases with their containers
// (matched by overlay address), the discovery view filtered by node and network, a single node outside a
// cluster, and a store failure as UNAVAILABLE.
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { AgentClient } from '../../pkg/api/client.ts';
import { type ClusterDeps, clusterHandlers } from '../../pkg/api/cluster.ts';
import { api } from '../../pkg/api/proto.ts';
import { startApiServer } from '../../pkg/api/server.ts';
import type { ContainerEntry } from '../../pkg/discovery/entry.ts';
import type { SubnetLease } from '../../pkg/subnet/lease.ts';
import { withTempDir } from '../helpers/tmp.ts';

function lease(subnet: string, publicIp: string, mac: string): SubnetLease {
  return {
    subnet,
    key: `/tsnet.io/subnets/${subnet.replace('/', '-')}`,
    attrs: { PublicIP: publicIp, BackendType: 'vxlan', BackendData: { VtepMAC: mac } },
    modRevision: 1,
  };
}

function container(id: string, name: string, node: string, ipv4: string, network = 'tsnet'): ContainerEntry {
  return {
    id: id.repeat(64),
    name,
    node,
    image: 'busybox',
    state: 'running',
    labels: {},
    endpoints: [
      { network, networkId: 'n', ipv4, aliases: [], scope: network === 'tsnet' ? 'cluster' : 'local' },
    ],
    ports: [],
  };
}

async function withCluster(deps: ClusterDeps, fn: (client: AgentClient) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const server = await startApiServer({
      path: join(dir, 'api.sock'),
      services: [
        [api().Cluster.service, clusterHandlers(deps) as unknown as grpc.UntypedServiceImplementation],
      ],
      groupFile: join(dir, 'group'),
    });
    const client = new AgentClient(server.path);
    try {
      await fn(client);
    } finally {
      client.close();
      await server.close();
    }
  });
}

test('nodes with their containers; containers filtered by node and network', async (t) => {
  const entries = [
    container('a', 'web-1', 'node-1', '10.244.1.2'),
    container('b', 'web-2', 'node-2', '10.244.2.2'),
    container('c', 'db', 'node-2', '172.17.0.2', 'bridge'),
  ];
  await withCluster(
    {
      nodeName: 'node-1',
      leases: async () => [
        lease('10.244.1.0/24', '198.18.0.1', 'aa:aa:aa:aa:aa:01'),
        lease('10.244.2.0/24', '198.18.0.2', 'aa:aa:aa:aa:aa:02'),
        lease('10.244.3.0/24', '198.18.0.3', 'aa:aa:aa:aa:aa:03'),
      ],
      localSubnet: () => '10.244.1.0/24',
      containers: () => entries,
    },
    async (client) => {
      const { nodes, clustered } = await client.clusterNodes();
      t.true(clustered);
      t.deepEqual(
        nodes.map((n) => [n.name, n.subnet, n.publicIp, n.vtepMac, n.containers, n.local]),
        [
          ['node-1', '10.244.1.0/24', '198.18.0.1', 'aa:aa:aa:aa:aa:01', 1, true],
          ['node-2', '10.244.2.0/24', '198.18.0.2', 'aa:aa:aa:aa:aa:02', 1, false],
          ['', '10.244.3.0/24', '198.18.0.3', 'aa:aa:aa:aa:aa:03', 0, false],
        ],
      );
      const onNode2 = await client.clusterContainers({ node: 'node-2' });
      t.deepEqual(
        onNode2.containers.map((c) => c.name),
        ['db', 'web-2'],
      );
      const overlay = await client.clusterContainers({ network: 'tsnet' });
      t.deepEqual(
        overlay.containers.map((c) => [c.name, c.endpoints[0]?.ipv4, c.endpoints[0]?.scope]),
        [
          ['web-1', '10.244.1.2', 'cluster'],
          ['web-2', '10.244.2.2', 'cluster'],
        ],
      );
    },
  );
});

test('a single node outside a cluster, and an unreachable store', async (t) => {
  let failing = false;
  await withCluster(
    {
      nodeName: 'solo',
      leases: async () => {
        if (failing) throw new Error('etcd is down');
        return undefined;
      },
      localSubnet: () => undefined,
      containers: () => [container('d', 'x', 'solo', '172.17.0.5', 'bridge')],
    },
    async (client) => {
      const solo = await client.clusterNodes();
      t.false(solo.clustered);
      t.deepEqual(
        solo.nodes.map((n) => [n.name, n.containers, n.local]),
        [['solo', 1, true]],
      );
      failing = true;
      const err = await t.throwsAsync(client.clusterNodes());
      t.regex(err.message, /etcd is down/);
    },
  );
});
