import test from 'ava';
import fc from 'fast-check';
import { formatIp, parseCidr, parseIp, unmapIpv4 } from '../../pkg/ip/address.ts';

test('IPv6 text is canonical (RFC 5952), as host-local names its files', (t) => {
  const cases: [string, string][] = [
    ['FD00:0:0:0:0:0:0:2', 'fd00::2'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['1:0:1:1:1:1:1:1', '1:0:1:1:1:1:1:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
  ];
  for (const [input, expected] of cases) {
    const ip = parseIp(input);
    t.truthy(ip, input);
    if (ip) t.is(formatIp(ip), expected, input);
  }
});

test('IPv6 formatting agrees with the WHATWG URL serializer for any address', (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.boolean(), (value, sparse) => {
      // Sparse values have many zero groups, where compression rules matter.
      const v = sparse ? value & 0xffff0000ffff00000000ffff0000ffffn : value;
      const text = formatIp({ family: 6, value: v });
      const oracle = new URL(`http://[${text}]/`).hostname.slice(1, -1);
      return text === oracle && parseIp(text)?.value === v;
    }),
  );
  t.pass();
});

test('IPv4 parse and format round-trip; bad addresses and zones are refused', (t) => {
  t.is(formatIp(parseIp('10.0.0.255') ?? { family: 4, value: 0n }), '10.0.0.255');
  for (const bad of ['10.0.0.256', '10.0.0', '010.0.0.1', 'fe80::1%eth0', '', 'abc', '1.2.3.4/24']) {
    t.is(parseIp(bad), undefined, bad);
  }
  const mapped = parseIp('::ffff:10.1.2.3');
  t.truthy(mapped);
  if (mapped) t.is(formatIp(unmapIpv4(mapped)), '10.1.2.3');
  t.is(parseCidr('10.0.0.0/33'), undefined);
  t.is(parseCidr('10.0.0.0/'), undefined);
  t.deepEqual(parseCidr('fd00::/64')?.prefix, 64);
});
