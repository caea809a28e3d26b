// Which lease is this node's: the kernel's facts first, a named subnet file last.
import test from 'ava';
import { identifyLocalNode } from '../../pkg/ctl/local-node.ts';

const leases = [
  { subnet: '10.244.1.0/24', publicIp: '198.18.0.1', vtepMac: '02:00:00:00:00:01' },
  { subnet: '10.244.2.0/24', publicIp: '198.18.0.2', vtepMac: '02:00:00:00:00:02' },
  // A lease of node .1 from an earlier run, not yet expired.
  { subnet: '10.244.7.0/24', publicIp: '198.18.0.1', vtepMac: '02:00:00:00:00:01' },
];

test('the VTEP local address names the node, with every lease it still holds', (t) => {
  t.deepEqual(
    identifyLocalNode(leases, {
      vtepLocal: '198.18.0.1',
      addresses: ['198.18.0.2'],
      subnetFromFile: '10.244.2.0/24',
    }),
    {
      publicIp: '198.18.0.1',
      subnets: ['10.244.1.0/24', '10.244.7.0/24'],
      identifiedBy: 'vtep-local-address',
    },
  );
});

test("without a VTEP the node's addresses name it; a subnet file only when nothing in the kernel does", (t) => {
  t.deepEqual(
    identifyLocalNode(leases, {
      vtepLocal: undefined,
      addresses: ['127.0.0.1', '198.18.0.2'],
      subnetFromFile: '10.244.1.0/24',
    }),
    { publicIp: '198.18.0.2', subnets: ['10.244.2.0/24'], identifiedBy: 'node-address' },
  );
  t.deepEqual(
    identifyLocalNode(leases, {
      vtepLocal: '198.18.0.9',
      addresses: ['198.18.0.9'],
      subnetFromFile: '10.244.2.0/24',
    }),
    { publicIp: '198.18.0.2', subnets: ['10.244.2.0/24'], identifiedBy: 'subnet-file' },
  );
});

test('a node no lease matches is not identified', (t) => {
  t.is(
    identifyLocalNode(leases, {
      vtepLocal: '198.18.0.9',
      addresses: ['198.18.0.9'],
      subnetFromFile: undefined,
    }),
    undefined,
  );
  t.is(
    identifyLocalNode(leases, {
      vtepLocal: undefined,
      addresses: [],
      subnetFromFile: '10.244.9.0/24',
    }),
    undefined,
    'a subnet file naming no lease',
  );
});
