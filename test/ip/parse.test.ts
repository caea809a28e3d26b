import { isIP } from 'node:net';
import test from 'ava';
import fc from 'fast-check';
import { ipFamilyOf, parseIpBytes } from '../../pkg/ip/parse.ts';

test('the address parser agrees with node:net on what is an address (zones aside)', (t) => {
  const samples = fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string({ maxLength: 45 }));
  fc.assert(
    fc.property(samples, (text) => {
      const expected = text.includes('%') ? 0 : isIP(text);
      t.is(ipFamilyOf(text), expected as 0 | 4 | 6, JSON.stringify(text));
    }),
    { numRuns: 5000 },
  );
  for (const bad of ['01.2.3.4', '256.0.0.1', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '']) {
    t.is(parseIpBytes(bad), undefined, bad);
  }
});

test('bytes are right, including embedded IPv4 and :: at either end', (t) => {
  t.deepEqual([...(parseIpBytes('10.1.2.3') ?? [])], [10, 1, 2, 3]);
  t.is(parseIpBytes('::ffff:10.1.2.3')?.toString('hex'), '00000000000000000000ffff0a010203');
  t.is(parseIpBytes('fd00::1')?.toString('hex'), 'fd000000000000000000000000000001');
  t.is(parseIpBytes('1::')?.toString('hex'), '00010000000000000000000000000000');
  t.is(parseIpBytes('1:2:3:4:5:6:7:8')?.toString('hex'), '00010002000300040005000600070008');
});
