import test from 'ava';
import { parseIPv4Subnet } from '../../pkg/overlay/subnet.ts';

test('a subnet gives its network address (the VTEP IP) and its prefix length', (t) => {
  t.deepEqual(parseIPv4Subnet('10.244.5.0/24'), {
    cidr: '10.244.5.0/24',
    network: '10.244.5.0',
    prefixLength: 24,
  });
  t.deepEqual(parseIPv4Subnet('10.0.0.0/8'), { cidr: '10.0.0.0/8', network: '10.0.0.0', prefixLength: 8 });
  t.is(parseIPv4Subnet('0.0.0.0/0').cidr, '0.0.0.0/0');
  t.is(parseIPv4Subnet('10.244.5.7/32').network, '10.244.5.7');
});

for (const [input, why] of [
  ['10.244.5.1/24', /host bits set/],
  ['10.244.5.0', /not an IPv4 CIDR/],
  ['10.244.5.0/33', /not an IPv4 CIDR/],
  ['10.244.5.0/-1', /not an IPv4 CIDR/],
  ['010.244.5.0/24', /not an IPv4 CIDR/],
  ['10.244.256.0/24', /not an IPv4 CIDR/],
  ['fd00::/64', /not an IPv4 CIDR/],
  ['', /not an IPv4 CIDR/],
] as const) {
  test(`a subnet ${JSON.stringify(input)} is refused, saying why`, (t) => {
    const err = t.throws(() => parseIPv4Subnet(input));
    t.regex(err?.message ?? '', new RegExp(`^invalid subnet ${JSON.stringify(input)}: `));
    t.regex(err?.message ?? '', why);
  });
}
