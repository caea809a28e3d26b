// tsnetctl nodes' names: from the lease when it records one, from the containers' entries for an older lease
// (and for a node that holds no lease), whatever its containers say otherwise.
import test from 'ava';
import { type LeaseView, nodesOf } from '../../pkg/ctl/cluster/snapshot.ts';
import type { ContainerEntry } from '../../pkg/discovery/entry.ts';

const lease = (subnet: string, nodeName?: string): LeaseView => ({
  subnet,
  publicIp: `198.18.0.${subnet.split('.')[2]}`,
  vtepMac: '0e:00:00:00:00:01',
  backend: 'vxlan',
  nodeName,
  leaseId: '1',
  ttlLeft: 20,
  modRevision: 1,
});

const entry = (name: string, node: string, ipv4: string): ContainerEntry => ({
  id: name.padEnd(64, '0'),
  name,
  node,
  image: 'busybox',
  state: 'running',
  labels: {},
  endpoints: [
    { network: 'tsnet', networkId: 'tsnet', ipv4, mac: '02:00:00:00:00:01', aliases: [], scope: 'cluster' },
  ],
  ports: [],
});

test('a node is named by its lease, an old lease by its containers', (t) => {
  const nodes = nodesOf(
    [lease('10.244.1.0/24', 'node-a'), lease('10.244.2.0/24'), lease('10.244.3.0/24', 'node-c')],
    [
      entry('x', 'node-b', '10.244.2.5'),
      entry('y', 'node-b', '10.244.2.6'),
      // an entry that claims node-c's subnet under another name does not rename node-c
      entry('z', 'elsewhere', '10.244.3.9'),
    ],
  );
  t.deepEqual(
    nodes.map((n) => [n.name, n.subnet, n.containers, n.ready]),
    [
      ['elsewhere', undefined, 1, false],
      ['node-a', '10.244.1.0/24', 0, true],
      ['node-b', '10.244.2.0/24', 2, true],
      ['node-c', '10.244.3.0/24', 0, true],
    ],
  );
});

test('a lease without a name and without containers stays unnamed', (t) => {
  const [node] = nodesOf([lease('10.244.4.0/24')], []);
  t.is(node?.name, undefined);
  t.is(node?.subnet, '10.244.4.0/24');
});
