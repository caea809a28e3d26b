import test from 'ava';
import { CniError, ErrorCode } from '../../pkg/cni/errors.ts';
import { formatIp, loadIpamConfig } from '../../pkg/ipam/index.ts';
import { netconf } from './helpers.ts';

const DATA = '/tmp/unused-ipam-data';

function rejects(
  t: import('ava').ExecutionContext,
  conf: unknown,
  pattern: RegExp,
  code: number = ErrorCode.InvalidNetworkConfig,
) {
  const err = t.throws(() => loadIpamConfig(conf), { instanceOf: CniError });
  t.is(err?.code, code);
  t.regex(err?.message ?? '', pattern);
}

test('defaults follow host-local: gateway .1, range .1-.254 (v4), up to the last address (v6)', (t) => {
  const conf = loadIpamConfig(
    netconf(DATA, { ranges: [[{ subnet: '10.1.2.0/24' }], [{ subnet: 'fd00:1::/120' }]] }),
  );
  const [v4, v6] = conf.rangeSets.map((s) => s.ranges[0]);
  t.truthy(v4 && v6);
  if (!v4 || !v6) return;
  t.is(formatIp({ family: 4, value: v4.gateway }), '10.1.2.1');
  t.is(formatIp({ family: 4, value: v4.rangeStart }), '10.1.2.1');
  t.is(formatIp({ family: 4, value: v4.rangeEnd }), '10.1.2.254');
  t.is(formatIp({ family: 6, value: v6.rangeEnd }), 'fd00:1::ff');
  t.is(conf.network, 'testnet');
  t.deepEqual(conf.routes, []);
  t.is(loadIpamConfig({ name: 'n', ipam: { subnet: '10.0.0.0/24' } }).dataDir, '/var/lib/cni/networks');
});

test('legacy single subnet and runtimeConfig ipRanges come first, as in host-local', (t) => {
  const conf = loadIpamConfig(
    netconf(
      DATA,
      {
        subnet: '10.3.0.0/24',
        rangeStart: '10.3.0.10',
        rangeEnd: '10.3.0.20',
        gateway: '10.3.0.254',
        ranges: [[{ subnet: 'fd00::/64' }]],
      },
      { runtimeConfig: { ipRanges: [[{ subnet: '10.4.0.0/24' }]] } },
    ),
  );
  t.deepEqual(
    conf.rangeSets.map((s) => s.family),
    [4, 4, 6],
  );
  t.is(formatIp({ family: 4, value: conf.rangeSets[1]?.ranges[0]?.rangeStart ?? 0n }), '10.3.0.10');
  t.is(formatIp({ family: 4, value: conf.rangeSets[1]?.ranges[0]?.gateway ?? 0n }), '10.3.0.254');
});

test('routes are validated and normalized', (t) => {
  const conf = loadIpamConfig(
    netconf(DATA, {
      subnet: '10.0.0.0/24',
      routes: [{ dst: '0.0.0.0/0' }, { dst: 'FD00::/8', gw: 'FD00::1' }],
    }),
  );
  t.deepEqual(conf.routes, [{ dst: '0.0.0.0/0' }, { dst: 'fd00::/8', gw: 'fd00::1' }]);
  rejects(
    t,
    netconf(DATA, { subnet: '10.0.0.0/24', routes: [{ dst: '10.0.0.0/33' }] }),
    /routes\[0\]\.dst .* not a valid CIDR/,
  );
  rejects(
    t,
    netconf(DATA, { subnet: '10.0.0.0/24', routes: [{ dst: '10.0.0.0/8', gw: 'fd00::1' }] }),
    /not of the family/,
  );
});

test('requested IPs from CNI_ARGS, args.cni.ips and the ips capability', (t) => {
  const conf = loadIpamConfig(
    netconf(
      DATA,
      { subnet: '10.0.0.0/24' },
      { args: { cni: { ips: ['10.0.0.7'] } }, runtimeConfig: { ips: ['fd00::9/64'] } },
    ),
    { IP: '10.0.0.5' },
  );
  t.deepEqual(conf.requestedIps.map(formatIp), ['10.0.0.5', '10.0.0.7', 'fd00::9']);
  rejects(
    t,
    netconf(DATA, { subnet: '10.0.0.0/24' }, { runtimeConfig: { ips: ['10.0.0.300'] } }),
    /requested IP "10.0.0.300"/,
  );
});

test('invalid configs are refused with code 7 and a message naming the problem', (t) => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ subnet: '10.0.0.0/33' }, /ipam\.subnet "10.0.0.0\/33" is not a valid CIDR/],
    [{ ranges: [[{ subnet: 'banana' }]] }, /ipam\.ranges\[0\]\[0\]\.subnet "banana" is not a valid CIDR/],
    [{ ranges: [[{ subnet: '10.0.0.5/24' }]] }, /host bits set; did you mean 10\.0\.0\.0\/24/],
    [
      { ranges: [[{ subnet: '10.0.0.0/24', gateway: '10.0.1.1' }]] },
      /gateway 10\.0\.1\.1 is not in network 10\.0\.0\.0\/24/,
    ],
    [
      { ranges: [[{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.50', rangeEnd: '10.0.0.40' }]] },
      /rangeStart is after rangeEnd \(10\.0\.0\.50-10\.0\.0\.40\)/,
    ],
    [
      { ranges: [[{ subnet: '10.0.0.0/24', rangeEnd: '10.0.9.9' }]] },
      /rangeEnd 10\.0\.9\.9 is not in network/,
    ],
    [
      { ranges: [[{ subnet: '10.0.0.0/24' }], [{ subnet: '10.0.0.128/25' }]] },
      /range set 0 .* overlaps with range set 1/,
    ],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }, { subnet: '10.0.0.0/25' }]] }, /ranges .* overlap/],
    [{ ranges: [[{ subnet: '10.0.0.0/24' }, { subnet: 'fd00::/64' }]] }, /mixes IPv4 and IPv6/],
    [{ ranges: [[{ subnet: '10.0.0.0/31' }]] }, /too small to allocate from/],
    [{ ranges: [[{ subnet: 'fd00::/127' }]] }, /too small to allocate from/],
    [{ ranges: [[]] }, /non-empty array of ranges/],
    [{ ranges: [] }, /no IP ranges specified/],
    [{ ranges: [[{ subnet: '10.0.0.0/24', gateway: 'fd00::1' }]] }, /not in network/],
  ];
  for (const [ipam, pattern] of bad) rejects(t, netconf(DATA, ipam), pattern);
  rejects(t, netconf('relative/dir', { subnet: '10.0.0.0/24' }), /must be an absolute path/);
  rejects(
    t,
    { ...netconf(DATA, { subnet: '10.0.0.0/24' }), name: '../etc' },
    /invalid characters found in network name/,
  );
  rejects(t, { name: 'n' }, /missing "ipam"/);
});

test('disjoint ranges of one subnet in two range sets are allowed (no overlap)', (t) => {
  const conf = loadIpamConfig(
    netconf(DATA, {
      ranges: [
        [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.10', rangeEnd: '10.0.0.19' }],
        [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.20', rangeEnd: '10.0.0.29' }],
      ],
    }),
  );
  t.is(conf.rangeSets.length, 2);
});
