import test from 'ava';
import { type LeaseView, nodesOf } from '../../pkg/ctl/cluster/snapshot.ts';
import { byCodeUnits } from '../../pkg/text/order.ts';

test('names sort by code units, as docker and the kernel sort them, whatever the locale', (t) => {
  t.deepEqual(['b', 'a_y', 'B', 'a-x', '~', 'A'].sort(byCodeUnits), ['A', 'B', 'a-x', 'a_y', 'b', '~']);
  t.is(byCodeUnits('same', 'same'), 0);
});

test('tsnetctl nodes lists a node whose name is unknown after the named ones', (t) => {
  const lease = (subnet: string, nodeName: string | undefined): LeaseView => ({
    subnet,
    publicIp: '198.18.0.1',
    vtepMac: '02:00:00:00:00:01',
    backend: 'vxlan',
    nodeName,
    leaseId: undefined,
    ttlLeft: undefined,
    modRevision: 1,
  });
  const nodes = nodesOf(
    [lease('10.1.3.0/24', undefined), lease('10.1.2.0/24', 'node-b'), lease('10.1.1.0/24', 'Node-A')],
    [],
  );
  t.deepEqual(
    nodes.map((n) => n.name),
    ['Node-A', 'node-b', undefined],
  );
});
