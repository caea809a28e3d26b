import test from 'ava';
import fc from 'fast-check';
import { NetworkConfigError, parseNetworkConfig, SubnetSpace } from '../../pkg/subnet/config.ts';
import { parseSubnetKey, subnetKey } from '../../pkg/subnet/lease.ts';

test('defaults like flannel: /24 subnets, SubnetMin is the second subnet, SubnetMax the last', (t) => {
  const c = parseNetworkConfig('{"Network": "10.244.0.0/16"}');
  t.deepEqual(c, {
    Network: '10.244.0.0/16',
    SubnetLen: 24,
    SubnetMin: '10.244.1.0',
    SubnetMax: '10.244.255.0',
    Backend: { Type: 'vxlan', VNI: 1, Port: 8472 },
  });
  const space = new SubnetSpace(c);
  t.is(space.count, 255n);
  t.is(space.nth(0n), '10.244.1.0/24');
  t.is(space.nth(254n), '10.244.255.0/24');
  t.throws(() => space.nth(255n), { instanceOf: RangeError });
  t.is(space.indexOf('10.244.0.0/24'), undefined, 'the first subnet is reserved');
  t.is(space.indexOf('10.244.1.0/24'), 0n);
  t.is(space.indexOf('10.244.255.0/24'), 254n);
  t.is(space.indexOf('10.244.1.0/25'), undefined, 'other length');
  t.is(space.indexOf('10.244.1.128/24'), undefined, 'misaligned');
  t.is(space.indexOf('10.245.0.0/24'), undefined, 'outside');
});

test('explicit SubnetMin/SubnetMax and backend settings are kept', (t) => {
  const c = parseNetworkConfig({
    Network: '10.0.0.0/8',
    SubnetLen: 20,
    SubnetMin: '10.16.0.0',
    SubnetMax: '10.31.240.0/20',
    Backend: { Type: 'vxlan', VNI: 42, Port: 4789 },
  });
  t.is(c.SubnetMin, '10.16.0.0');
  t.is(c.SubnetMax, '10.31.240.0');
  t.deepEqual(c.Backend, { Type: 'vxlan', VNI: 42, Port: 4789 });
  t.is(new SubnetSpace(c).count, 256n);
});

test('a /8 with /30 subnets is computed, not listed: edges are exact', (t) => {
  const space = new SubnetSpace(parseNetworkConfig({ Network: '10.0.0.0/8', SubnetLen: 30 }));
  t.is(space.count, (1n << 22n) - 1n);
  t.is(space.nth(0n), '10.0.0.4/30');
  t.is(space.nth(space.count - 1n), '10.255.255.252/30');
  t.is(space.indexOf('10.128.0.0/30'), (1n << 21n) - 1n);
});

test('nth and indexOf are inverse over the whole space (property)', (t) => {
  const arb = fc
    .integer({ min: 8, max: 29 })
    .chain((netLen) =>
      fc.tuple(
        fc.constant(netLen),
        fc.integer({ min: netLen + 1, max: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
      ),
    );
  fc.assert(
    fc.property(arb, ([netLen, subnetLen, pick]) => {
      const space = new SubnetSpace(
        parseNetworkConfig({ Network: `10.0.0.0/${netLen}`, SubnetLen: subnetLen }),
      );
      const index = BigInt(Math.floor(pick * Number(space.count))) % space.count;
      return space.indexOf(space.nth(index)) === index;
    }),
  );
  t.pass();
});

const invalid: [string, unknown, RegExp][] = [
  ['not JSON', '{', /not JSON/],
  ['missing Network', {}, /"Network" is required/],
  ['IPv6', { Network: 'fd00::/64' }, /IPv6 networks are not supported/],
  ['garbage CIDR', { Network: '10.0.0/8' }, /not an IPv4 CIDR/],
  ['host bits', { Network: '10.244.1.0/16' }, /host bits set/],
  ['network too small', { Network: '10.244.0.0/24' }, /too small for "SubnetLen" 24/],
  [
    'SubnetLen out of range',
    { Network: '10.0.0.0/8', SubnetLen: 31 },
    /"SubnetLen" must be an integer from 1 to 30/,
  ],
  [
    'SubnetMin outside',
    { Network: '10.244.0.0/16', SubnetMin: '10.245.0.0' },
    /"SubnetMin" 10.245.0.0 is outside/,
  ],
  [
    'SubnetMax misaligned',
    { Network: '10.244.0.0/16', SubnetMax: '10.244.3.7' },
    /not the start of a \/24 subnet/,
  ],
  [
    'SubnetMin above SubnetMax',
    { Network: '10.244.0.0/16', SubnetMin: '10.244.9.0', SubnetMax: '10.244.3.0' },
    /is above "SubnetMax"/,
  ],
  [
    'SubnetMin with another length',
    { Network: '10.244.0.0/16', SubnetMin: '10.244.4.0/22' },
    /prefix length other than/,
  ],
  ['unknown backend', { Network: '10.244.0.0/16', Backend: { Type: 'udp' } }, /unknown backend type "udp"/],
  ['VNI out of range', { Network: '10.244.0.0/16', Backend: { Type: 'vxlan', VNI: 0 } }, /"Backend.VNI"/],
  [
    'Port out of range',
    { Network: '10.244.0.0/16', Backend: { Type: 'vxlan', Port: 70000 } },
    /"Backend.Port"/,
  ],
  ['typo in a field', { Network: '10.244.0.0/16', SubnetLength: 24 }, /unknown field "SubnetLength"/],
];
for (const [name, input, message] of invalid) {
  test(`invalid config is refused with a clear message: ${name}`, (t) => {
    const err = t.throws(() => parseNetworkConfig(input), { instanceOf: NetworkConfigError });
    t.regex(err?.message ?? '', message);
    t.regex(err?.message ?? '', /^invalid network config: /);
  });
}

test('lease keys: flannel layout, parsed back, anything else rejected', (t) => {
  const prefix = '/tsnet.io/network';
  t.is(subnetKey(prefix, '10.244.3.0/24'), '/tsnet.io/network/subnets/10.244.3.0-24');
  t.is(parseSubnetKey(prefix, '/tsnet.io/network/subnets/10.244.3.0-24'), '10.244.3.0/24');
  t.is(parseSubnetKey(prefix, '/tsnet.io/network/subnets/10.244.3.0-99'), undefined);
  t.is(parseSubnetKey(prefix, '/tsnet.io/network/subnets/10.244.3-24'), undefined);
  t.is(parseSubnetKey(prefix, '/tsnet.io/network/config'), undefined);
  t.is(parseSubnetKey(prefix, '/other/subnets/10.244.3.0-24'), undefined);
  t.throws(() => subnetKey(prefix, '10.244.3.0'), { message: /invalid subnet/ });
});
