import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { CniError, ErrorCode } from '../../pkg/cni/errors.ts';
import { ipamAdd, ipamCheck, ipamDel, ipamGc, ipamStatus } from '../../pkg/ipam/index.ts';
import { addressOf, allocationFiles, config, inTempDir } from './helpers.ts';

const attach = (containerID: string, ifname = 'eth0') => ({ containerID, ifname });

async function addresses(conf: Parameters<typeof ipamAdd>[0], ids: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) out.push(addressOf((await ipamAdd(conf, attach(id))).ips[0]?.address));
  return out;
}

test('round-robin: each ADD takes the address after the last reserved, also after a release', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, {
      ranges: [[{ subnet: '10.10.0.0/24', rangeStart: '10.10.0.10', rangeEnd: '10.10.0.13' }]],
    });
    t.deepEqual(await addresses(conf, ['a', 'b']), ['10.10.0.10', '10.10.0.11']);
    await ipamDel(conf, attach('a'));
    // .10 is free again, but round-robin continues after .11.
    t.deepEqual(await addresses(conf, ['c', 'd']), ['10.10.0.12', '10.10.0.13']);
    // Wrap around to the start of the range: .10 is the only free one.
    t.deepEqual(await addresses(conf, ['e']), ['10.10.0.10']);
    t.is(readFileSync(join(dir, 'testnet', 'last_reserved_ip.0'), 'utf8'), '10.10.0.10');
  });
});

test('a cursor left empty or garbled by a crash (its data is not synced) restarts the round-robin at the range start', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, {
      ranges: [[{ subnet: '10.10.1.0/24', rangeStart: '10.10.1.10', rangeEnd: '10.10.1.13' }]],
    });
    t.deepEqual(await addresses(conf, ['a', 'b']), ['10.10.1.10', '10.10.1.11']);
    for (const [content, id] of [
      ['', 'c'],
      ['\0\0\0\0', 'd'],
    ] as const) {
      writeFileSync(join(dir, 'testnet', 'last_reserved_ip.0'), content);
      // the first free address from the start: .10 and .11 are still held
      t.deepEqual(await addresses(conf, [id]), [id === 'c' ? '10.10.1.12' : '10.10.1.13']);
    }
  });
});

test('the gateway, the network and the broadcast address are never handed out', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, {
      ranges: [
        [{ subnet: '10.11.0.0/29', rangeStart: '10.11.0.0', rangeEnd: '10.11.0.7', gateway: '10.11.0.3' }],
      ],
    });
    const got = await addresses(conf, ['a', 'b', 'c', 'd', 'e']);
    t.deepEqual(got, ['10.11.0.1', '10.11.0.2', '10.11.0.4', '10.11.0.5', '10.11.0.6']);
    const err = await t.throwsAsync(ipamAdd(conf, attach('f')), { instanceOf: CniError });
    t.is(err?.code, ErrorCode.TryAgainLater);
    t.regex(err?.message ?? '', /no IP addresses available in range set: 10\.11\.0\.0-10\.11\.0\.7/);
    t.is(allocationFiles(dir).size, 5);
  });
});

test('a range set of several ranges is walked in order and wraps to the first range', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, {
      ranges: [
        [
          { subnet: '10.12.0.0/24', rangeStart: '10.12.0.10', rangeEnd: '10.12.0.11' },
          { subnet: '10.13.0.0/24', rangeStart: '10.13.0.20', rangeEnd: '10.13.0.20' },
        ],
      ],
    });
    const first = await ipamAdd(conf, attach('a'));
    t.deepEqual(first.ips, [{ address: '10.12.0.10/24', gateway: '10.12.0.1' }]);
    t.deepEqual(await addresses(conf, ['b', 'c']), ['10.12.0.11', '10.13.0.20']);
    await ipamDel(conf, attach('a'));
    t.deepEqual(await addresses(conf, ['d']), ['10.12.0.10']);
  });
});

test('IPv6: allocation in a /64 is arithmetic; files are named in canonical form', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, {
      ranges: [
        [{ subnet: '10.14.0.0/24' }],
        [{ subnet: 'FD00:AB:0:1::/64', rangeStart: 'fd00:ab:0:1:ffff:ffff:ffff:fffe' }],
      ],
      routes: [{ dst: '::/0' }],
    });
    const a = await ipamAdd(conf, attach('a'));
    t.deepEqual(a.ips, [
      { address: '10.14.0.2/24', gateway: '10.14.0.1' },
      { address: 'fd00:ab:0:1:ffff:ffff:ffff:fffe/64', gateway: 'fd00:ab:0:1::1' },
    ]);
    t.deepEqual(a.routes, [{ dst: '::/0' }]);
    // The last address of a v6 subnet is allocatable (no broadcast), then it wraps to the range start... which
    // is rangeStart itself, so the set is exhausted after two.
    const b = await ipamAdd(conf, attach('b'));
    t.is(b.ips[1]?.address, 'fd00:ab:0:1:ffff:ffff:ffff:ffff/64');
    const err = await t.throwsAsync(ipamAdd(conf, attach('c')), { instanceOf: CniError });
    t.regex(
      err?.message ?? '',
      /no IP addresses available in range set: fd00:ab:0:1:ffff:ffff:ffff:fffe-fd00:ab:0:1:ffff:ffff:ffff:ffff/,
    );
    // A failed ADD keeps nothing: c got no v4 address either.
    t.deepEqual([...allocationFiles(dir).keys()].sort(), [
      '10.14.0.2',
      '10.14.0.3',
      'fd00:ab:0:1:ffff:ffff:ffff:fffe',
      'fd00:ab:0:1:ffff:ffff:ffff:ffff',
    ]);
    const big = config(dir, { ranges: [[{ subnet: 'fd01::/48' }]] });
    t.is((await ipamAdd(big, attach('z'))).ips[0]?.address, 'fd01::2/48');
  });
});

test('requested IPs: granted when free and in range, refused clearly otherwise', async (t) => {
  await inTempDir(async (dir) => {
    const base = { ranges: [[{ subnet: '10.15.0.0/24', rangeEnd: '10.15.0.100' }]] };
    const want = (ip: string) => config(dir, base, { runtimeConfig: { ips: [ip] } });
    t.is((await ipamAdd(want('10.15.0.42'), attach('a'))).ips[0]?.address, '10.15.0.42/24');
    const cases: [string, number, RegExp][] = [
      ['10.15.0.42', ErrorCode.TryAgainLater, /requested IP address 10\.15\.0\.42 is not available/],
      ['10.15.0.1', ErrorCode.InvalidNetworkConfig, /is the subnet's gateway/],
      [
        '10.15.0.200',
        ErrorCode.InvalidNetworkConfig,
        /requested IP 10\.15\.0\.200 is not in range set 10\.15\.0\.1-10\.15\.0\.100/,
      ],
      ['10.99.0.1', ErrorCode.InvalidNetworkConfig, /failed to allocate all requested IPs: 10\.99\.0\.1/],
    ];
    for (const [ip, code, pattern] of cases) {
      const err = await t.throwsAsync(ipamAdd(want(ip), attach(`x${ip}`)), { instanceOf: CniError });
      t.is(err?.code, code, ip);
      t.regex(err?.message ?? '', pattern);
    }
    t.deepEqual([...allocationFiles(dir).keys()], ['10.15.0.42']);
  });
});

test('a second ADD for the same container and interface is refused, as host-local does; another ifname is fine', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, { subnet: '10.16.0.0/24' });
    await ipamAdd(conf, attach('a'));
    const err = await t.throwsAsync(ipamAdd(conf, attach('a')), { instanceOf: CniError });
    t.regex(
      err?.message ?? '',
      /10\.16\.0\.2 has been allocated to a \(eth0\), duplicate allocation is not allowed/,
    );
    t.is((await ipamAdd(conf, attach('a', 'net1'))).ips[0]?.address, '10.16.0.3/24');
    t.deepEqual(Object.fromEntries(allocationFiles(dir)), {
      '10.16.0.2': 'a\r\neth0',
      '10.16.0.3': 'a\r\nnet1',
    });
  });
});

test('DEL releases only that attachment, is idempotent, and creates nothing on an unused network', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, { ranges: [[{ subnet: '10.17.0.0/24' }], [{ subnet: 'fd17::/64' }]] });
    await ipamAdd(conf, attach('a'));
    await ipamAdd(conf, attach('a', 'net1'));
    await ipamAdd(conf, attach('b'));
    t.deepEqual((await ipamDel(conf, attach('a'))).sort(), ['10.17.0.2', 'fd17::2']);
    t.deepEqual(await ipamDel(conf, attach('a')), []);
    t.deepEqual([...allocationFiles(dir).values()].sort(), [
      'a\r\nnet1',
      'a\r\nnet1',
      'b\r\neth0',
      'b\r\neth0',
    ]);
    const unused = config(dir, { subnet: '10.18.0.0/24' }, { name: 'never-used' });
    t.deepEqual(await ipamDel(unused, attach('a')), []);
    t.false(existsSync(join(dir, 'never-used')));
  });
});

test('CHECK passes while the container holds an address in every range set, fails with code 3 after DEL', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, { ranges: [[{ subnet: '10.19.0.0/24' }], [{ subnet: 'fd19::/64' }]] });
    await ipamAdd(conf, attach('a'));
    await t.notThrowsAsync(ipamCheck(conf, attach('a')));
    const other = await t.throwsAsync(ipamCheck(conf, attach('a', 'eth1')), { instanceOf: CniError });
    t.is(other?.code, ErrorCode.UnknownContainer);
    await ipamDel(conf, attach('a'));
    const err = await t.throwsAsync(ipamCheck(conf, attach('a')), { instanceOf: CniError });
    t.is(err?.code, ErrorCode.UnknownContainer);
  });
});

test('GC releases every allocation not in the valid attachments, including an ownerless file', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, { subnet: '10.20.0.0/24' });
    for (const id of ['a', 'b', 'c']) await ipamAdd(conf, attach(id));
    await ipamAdd(conf, attach('a', 'net1'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'testnet', '10.20.0.99'), ''); // what a crash between create and write leaves
    const released = await ipamGc(conf, [attach('a'), attach('c')]);
    t.deepEqual(released.sort(), ['10.20.0.3', '10.20.0.5', '10.20.0.99']);
    t.deepEqual(Object.fromEntries(allocationFiles(dir)), {
      '10.20.0.2': 'a\r\neth0',
      '10.20.0.4': 'c\r\neth0',
    });
    t.deepEqual(await ipamGc(conf, [attach('a'), attach('c')]), []);
  });
});

test('STATUS is fine with free addresses, code 50 once a range set is exhausted', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, { ranges: [[{ subnet: '10.21.0.0/30' }], [{ subnet: 'fd21::/64' }]] });
    await t.notThrowsAsync(ipamStatus(conf));
    await ipamAdd(conf, attach('a')); // a /30 has exactly one address besides the gateway
    const err = await t.throwsAsync(ipamStatus(conf), { instanceOf: CniError });
    t.is(err?.code, ErrorCode.PluginNotAvailable);
    t.regex(err?.message ?? '', /no IP addresses available in range set: 10\.21\.0\.1-10\.21\.0\.2/);
    await ipamDel(conf, attach('a'));
    await t.notThrowsAsync(ipamStatus(conf));
  });
});

test('bad container IDs and interface names are refused before touching the store', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, { subnet: '10.22.0.0/24' });
    for (const bad of [
      attach('../x'),
      attach('a\r\nb'),
      attach('a', 'eth0/1'),
      attach('a', 'averyveryverylongname'),
    ]) {
      const err = await t.throwsAsync(ipamAdd(conf, bad), { instanceOf: CniError });
      t.is(err?.code, ErrorCode.InvalidEnvironment);
    }
    t.false(existsSync(join(dir, 'testnet')));
  });
});

test('resolvConf fills the result DNS', async (t) => {
  await inTempDir(async (dir) => {
    const { writeFileSync } = await import('node:fs');
    const resolv = join(dir, 'resolv.conf');
    writeFileSync(
      resolv,
      '# comment\nnameserver 10.0.0.53\nnameserver fd00::53\ndomain example.org\nsearch a.example b.example\noptions ndots:2 rotate\n',
    );
    const conf = config(dir, { subnet: '10.23.0.0/24', resolvConf: resolv });
    t.deepEqual((await ipamAdd(conf, attach('a'))).dns, {
      nameservers: ['10.0.0.53', 'fd00::53'],
      domain: 'example.org',
      search: ['a.example', 'b.example'],
      options: ['ndots:2', 'rotate'],
    });
  });
});
