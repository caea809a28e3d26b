import test from 'ava';
import { Handle } from '../../pkg/netlink/handle.ts';
import { NetlinkError } from '../../pkg/netlink/socket.ts';
import { ipJson, withNetnses } from '../helpers/netns.ts';

interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  broadcast?: string;
  scope: string;
  label?: string;
  tentative?: boolean;
  nodad?: boolean;
  noprefixroute?: boolean;
}
interface IpAddrLink {
  ifname: string;
  addr_info: IpAddrInfo[];
}

function oracleAddrs(nsPath: string, dev: string): IpAddrInfo[] {
  return ipJson<IpAddrLink[]>(nsPath, 'addr', 'show', 'dev', dev)[0]?.addr_info ?? [];
}

test('IPv4 and IPv6 addresses: add, list, delete, checked with ip addr', async (t) => {
  await withNetnses('nladdr', 1, async ([ns]) => {
    await Handle.with(ns!.path, async (h) => {
      await h.linkAdd({ kind: 'bridge', name: 'br0', up: true });
      const br = await h.linkGet('br0');

      await h.addrAdd(br.index, '10.1.0.1/24', { label: 'br0:gw' });
      await h.addrAdd(br.index, '10.1.1.1/32');
      await h.addrAdd(br.index, 'fd00:1::1/64', { noDad: true });

      const seen = oracleAddrs(ns!.path, 'br0');
      const v4 = seen.find((a) => a.local === '10.1.0.1');
      t.is(v4?.prefixlen, 24);
      t.is(v4?.broadcast, '10.1.0.255', 'broadcast computed like `brd +`');
      t.is(v4?.label, 'br0:gw');
      t.is(v4?.scope, 'global');
      t.is(seen.find((a) => a.local === '10.1.1.1')?.broadcast, undefined, 'no broadcast on a /32');
      const v6 = seen.find((a) => a.local === 'fd00:1::1');
      t.is(v6?.prefixlen, 64);
      t.true(v6?.nodad);
      t.falsy(v6?.tentative, 'nodad makes the address usable at once');

      const mine = await h.addrList({ index: br.index });
      const d4 = mine.find((a) => a.address === '10.1.0.1');
      t.like(d4, {
        index: br.index,
        family: 4,
        cidr: '10.1.0.1/24',
        local: '10.1.0.1',
        broadcast: '10.1.0.255',
        label: 'br0:gw',
        scope: 0,
      });
      const d6 = mine.find((a) => a.address === 'fd00:1::1');
      t.like(d6, { family: 6, cidr: 'fd00:1::1/64', prefixLength: 64 });
      t.is((d6?.flags ?? 0) & 0x02, 0x02, 'IFA_F_NODAD decoded');
      t.true(
        (d6?.unknown ?? []).some((x) => x.type === 6),
        'IFA_CACHEINFO is kept raw, not dropped',
      );
      const only6 = await h.addrList({ index: br.index, family: 6 });
      t.true(only6.length > 0 && only6.every((a) => a.family === 6 && a.index === br.index));
      await h.linkSetUp((await h.linkGet('lo')).index);
      const everywhere = await h.addrList();
      t.true(
        everywhere.some((a) => a.address === '127.0.0.1'),
        'no filter: other links too (lo)',
      );

      await h.addrDel(br.index, '10.1.0.1/24');
      await h.addrDel(br.index, 'fd00:1::1/64');
      const after = oracleAddrs(ns!.path, 'br0').map((a) => a.local);
      t.false(after.includes('10.1.0.1'));
      t.false(after.includes('fd00:1::1'));
      t.true(after.includes('10.1.1.1'), 'only the named address is removed');
      t.false((await h.addrList({ index: br.index })).some((a) => a.address === '10.1.0.1'));
    });
  });
});

test('noprefixroute leaves the subnet route out; replace accepts an existing address', async (t) => {
  await withNetnses('nladdr', 1, async ([ns]) => {
    await Handle.with(ns!.path, async (h) => {
      await h.linkAdd({ kind: 'bridge', name: 'br0', up: true });
      const br = await h.linkGet('br0');
      await h.addrAdd(br.index, '10.2.0.1/24', { noPrefixRoute: true });
      await h.addrAdd(br.index, '10.3.0.1/24');
      const routes = ipJson<{ dst: string }[]>(ns!.path, 'route', 'show', 'dev', 'br0').map((r) => r.dst);
      t.false(routes.includes('10.2.0.0/24'));
      t.true(routes.includes('10.3.0.0/24'), 'without the flag the kernel adds the prefix route');
      t.true(oracleAddrs(ns!.path, 'br0').find((a) => a.local === '10.2.0.1')?.noprefixroute);

      // The kernel keeps label and flags on replace; what matters is that replace is idempotent.
      await h.addrAdd(br.index, '10.3.0.1/24', { replace: true });
      t.is(oracleAddrs(ns!.path, 'br0').filter((a) => a.local === '10.3.0.1').length, 1);
    });
  });
});

test('kernel errors name the errno and the address: duplicate add, missing delete', async (t) => {
  await withNetnses('nladdr', 1, async ([ns]) => {
    await Handle.with(ns!.path, async (h) => {
      await h.linkAdd({ kind: 'bridge', name: 'br0' });
      const br = await h.linkGet('br0');
      await h.addrAdd(br.index, '10.4.0.1/24');
      const dup = await t.throwsAsync(h.addrAdd(br.index, '10.4.0.1/24'), { instanceOf: NetlinkError });
      t.is(dup?.code, 'EEXIST');
      t.regex(dup?.message ?? '', /add address 10\.4\.0\.1\/24/);

      const missing = await t.throwsAsync(h.addrDel(br.index, '10.9.9.9/24'), { instanceOf: NetlinkError });
      t.is(missing?.code, 'EADDRNOTAVAIL');
      const missing6 = await t.throwsAsync(h.addrDel(br.index, 'fd00:9::9/64'), { instanceOf: NetlinkError });
      t.is(missing6?.code, 'EADDRNOTAVAIL');

      await t.throwsAsync(h.addrAdd(br.index, '10.4.0.1'), { message: /invalid CIDR/ });
      await t.throwsAsync(h.addrAdd(br.index, '10.4.0.1/33'), { message: /prefix length 33/ });
    });
  });
});
