import { existsSync } from 'node:fs';
import test from 'ava';
import { RtnType, RtProtocol, RtScope } from '../../pkg/netlink/constants.ts';
import { Handle } from '../../pkg/netlink/handle.ts';
import { NetlinkError } from '../../pkg/netlink/socket.ts';
import { ipJson, type TestNetns, withNetnses } from '../helpers/netns.ts';

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  prefsrc?: string;
  type?: string;
  flags: string[];
  metrics?: Record<string, number>[];
}

/** `ip -d route show` (details: protocol, scope and type always printed). */
function oracleRoutes(ns: TestNetns, family: 4 | 6, ...args: string[]): IpRoute[] {
  return ipJson<IpRoute[]>(ns.path, `-${family}`, '-d', 'route', 'show', ...args);
}

/** A node namespace whose `up0` is a veth (carrier up) to a peer namespace, with v4 and v6 addresses. */
async function nodeWithUplink(h: Handle, peer: TestNetns): Promise<number> {
  await h.linkAdd({ kind: 'veth', name: 'up0', up: true, peer: { name: 'up1', netns: peer.path } });
  await Handle.with(peer.path, async (p) => p.linkSetUp((await p.linkGet('up1')).index));
  const up = await h.linkGet('up0');
  await h.addrAdd(up.index, '198.18.0.1/24');
  await h.addrAdd(up.index, 'fd00:18::1/64', { noDad: true });
  return up.index;
}

test('IPv4 routes: gateway, device with metric, onlink, table 100 and 1000, default, src and metrics', async (t) => {
  await withNetnses('nlrt', 2, async ([node, peer]) => {
    await Handle.with(node!.path, async (h) => {
      const up = await nodeWithUplink(h, peer!);
      await h.routeAdd({ dst: '10.10.0.0/24', gateway: '198.18.0.254' });
      await h.routeAdd({ dst: '10.11.0.0/24', oif: up, metric: 100, src: '198.18.0.1' });
      await h.routeAdd({ dst: '10.12.0.0/24', gateway: '10.99.0.1', oif: up, onlink: true });
      await h.routeAdd({ dst: '10.13.0.0/24', gateway: '198.18.0.254', table: 100 });
      await h.routeAdd({ dst: '10.14.0.0/24', oif: up, table: 1000, protocol: 77 });
      await h.routeAdd({ dst: 'default', gateway: '198.18.0.254', mtu: 1400, advmss: 1360 });
      await h.routeAdd({ dst: '10.15.0.0/24', type: 'blackhole' });

      const main = oracleRoutes(node!, 4);
      const byDst = (dst: string, list = main) => list.find((r) => r.dst === dst);
      t.like(byDst('10.10.0.0/24'), { gateway: '198.18.0.254', dev: 'up0', protocol: 'boot' });
      t.like(byDst('10.11.0.0/24'), { dev: 'up0', metric: 100, scope: 'link', prefsrc: '198.18.0.1' });
      t.like(byDst('10.12.0.0/24'), { gateway: '10.99.0.1', dev: 'up0' });
      t.true(byDst('10.12.0.0/24')?.flags.includes('onlink'));
      t.like(byDst('default'), { gateway: '198.18.0.254', metrics: [{ mtu: 1400, advmss: 1360 }] });
      t.is(byDst('10.15.0.0/24')?.type, 'blackhole');
      t.is(byDst('10.13.0.0/24'), undefined, 'table 100 routes stay out of main');
      t.like(byDst('10.13.0.0/24', oracleRoutes(node!, 4, 'table', '100')), { gateway: '198.18.0.254' });
      t.like(byDst('10.14.0.0/24', oracleRoutes(node!, 4, 'table', '1000')), { dev: 'up0', protocol: '77' });

      const mine = await h.routeList({ family: 4 });
      const d = (dst: string, list = mine) => list.find((r) => r.dst === dst);
      t.like(d('10.10.0.0/24'), {
        family: 4,
        gateway: '198.18.0.254',
        oif: up,
        table: 254,
        protocol: RtProtocol.boot,
        scope: RtScope.universe,
        type: RtnType.unicast,
        onlink: false,
      });
      t.like(d('10.11.0.0/24'), { oif: up, priority: 100, scope: RtScope.link, prefsrc: '198.18.0.1' });
      t.like(d('10.12.0.0/24'), { gateway: '10.99.0.1', onlink: true });
      t.like(d('0.0.0.0/0'), { gateway: '198.18.0.254', mtu: 1400, advmss: 1360 });
      t.like(d('10.15.0.0/24'), { type: RtnType.blackhole });
      t.like(d('198.18.0.0/24'), { protocol: RtProtocol.kernel, prefsrc: '198.18.0.1' });
      t.is(d('10.13.0.0/24'), undefined, 'main table only by default');
      t.like(d('10.13.0.0/24', await h.routeList({ table: 100 })), { table: 100 });
      t.like(d('10.14.0.0/24', await h.routeList({ table: 1000 })), { table: 1000, protocol: 77 });
      t.true(
        (await h.routeList({ table: 'all' })).some((r) => r.table === 255),
        'all tables: local too',
      );
      t.true((await h.routeList({ oif: up })).every((r) => r.oif === up));
    });
  });
});

test('IPv6 routes: gateway, metric, table, and the local table kept apart', async (t) => {
  await withNetnses('nlrt', 2, async ([node, peer]) => {
    await Handle.with(node!.path, async (h) => {
      const up = await nodeWithUplink(h, peer!);
      await h.routeAdd({ dst: 'fd00:10::/64', gateway: 'fd00:18::fe', oif: up });
      await h.routeAdd({ dst: 'fd00:11::/64', oif: up, metric: 50 });
      await h.routeAdd({ dst: 'fd00:12::/64', gateway: 'fd00:18::fe', oif: up, table: 100 });
      await h.routeAdd({ dst: 'default', gateway: 'fd00:18::fe', oif: up });

      const main = oracleRoutes(node!, 6);
      t.like(
        main.find((r) => r.dst === 'fd00:10::/64'),
        { gateway: 'fd00:18::fe', dev: 'up0' },
      );
      t.like(
        main.find((r) => r.dst === 'fd00:11::/64'),
        { dev: 'up0', metric: 50 },
      );
      t.like(
        main.find((r) => r.dst === 'default'),
        { gateway: 'fd00:18::fe' },
      );
      t.like(
        oracleRoutes(node!, 6, 'table', '100').find((r) => r.dst === 'fd00:12::/64'),
        { gateway: 'fd00:18::fe' },
      );

      const mine = await h.routeList({ family: 6 });
      t.like(
        mine.find((r) => r.dst === 'fd00:10::/64'),
        { family: 6, gateway: 'fd00:18::fe', oif: up, table: 254 },
      );
      t.like(
        mine.find((r) => r.dst === 'fd00:11::/64'),
        { priority: 50 },
      );
      t.like(
        mine.find((r) => r.dst === '::/0'),
        { gateway: 'fd00:18::fe' },
      );
      t.true(mine.every((r) => r.table === 254 && r.family === 6));
      const local = await h.routeList({ family: 6, table: 'local' });
      t.like(
        local.find((r) => r.dst === 'fd00:18::1/128'),
        { type: RtnType.local },
      );
    });
  });
});

test('replace changes the gateway of one route; delete removes it; both families', async (t) => {
  await withNetnses('nlrt', 2, async ([node, peer]) => {
    await Handle.with(node!.path, async (h) => {
      const up = await nodeWithUplink(h, peer!);
      for (const [dst, gw1, gw2] of [
        ['10.20.0.0/16', '198.18.0.10', '198.18.0.11'],
        ['fd00:20::/48', 'fd00:18::10', 'fd00:18::11'],
      ] as const) {
        await h.routeReplace({ dst, gateway: gw1, oif: up }); // replace creates when missing
        await h.routeReplace({ dst, gateway: gw2, oif: up });
        const family = dst.includes(':') ? 6 : 4;
        const matches = oracleRoutes(node!, family).filter((r) => r.dst === dst);
        t.is(matches.length, 1, `${dst}: replaced, not duplicated`);
        t.is(matches[0]?.gateway, gw2);

        await h.routeDel({ dst });
        t.false(oracleRoutes(node!, family).some((r) => r.dst === dst));
        t.false((await h.routeList()).some((r) => r.dst === dst));
      }
    });
  });
});

test('kernel errors name the errno and the route: duplicate add, missing delete; bad input is refused', async (t) => {
  await withNetnses('nlrt', 2, async ([node, peer]) => {
    await Handle.with(node!.path, async (h) => {
      const up = await nodeWithUplink(h, peer!);
      await h.routeAdd({ dst: '10.30.0.0/24', gateway: '198.18.0.254' });
      const dup = await t.throwsAsync(h.routeAdd({ dst: '10.30.0.0/24', gateway: '198.18.0.254' }), {
        instanceOf: NetlinkError,
      });
      t.is(dup?.code, 'EEXIST');
      t.regex(dup?.message ?? '', /add route 10\.30\.0\.0\/24 via 198\.18\.0\.254/);
      const dup6 = h
        .routeAdd({ dst: 'fd00:30::/64', oif: up })
        .then(() => h.routeAdd({ dst: 'fd00:30::/64', oif: up }));
      t.is((await t.throwsAsync(dup6, { instanceOf: NetlinkError }))?.code, 'EEXIST');

      const missing = await t.throwsAsync(h.routeDel({ dst: '10.31.0.0/24' }), { instanceOf: NetlinkError });
      t.is(missing?.code, 'ESRCH');
      const missing6 = await t.throwsAsync(h.routeDel({ dst: 'fd00:31::/64' }), { instanceOf: NetlinkError });
      t.is(missing6?.code, 'ESRCH');

      const unreachable = await t.throwsAsync(h.routeAdd({ dst: '10.32.0.0/24', gateway: '10.99.0.1' }), {
        instanceOf: NetlinkError,
      });
      t.is(unreachable?.code, 'ENETUNREACH', 'a gateway off every subnet needs onlink');

      await t.throwsAsync(h.routeAdd({ dst: '10.33.0.1/24', oif: up }), { message: /host bits set/ });
      await t.throwsAsync(h.routeAdd({ dst: '10.33.0.0/24', gateway: 'fd00::1' }), { message: /not IPv4/ });
    });
  });
});

test('a batch sends its requests together: each settles on its own ack, one refused does not stop the others', async (t) => {
  await withNetnses('nlbt', 2, async ([node, peer]) => {
    await Handle.with(node!.path, async (h) => {
      const up = await nodeWithUplink(h, peer!);
      // More than one send's worth (64 messages), so the batch is split and its acks read between sends.
      const dsts = Array.from({ length: 150 }, (_, i) => `10.${20 + (i >> 8)}.${i & 255}.0/24`);
      const results = await Promise.allSettled(
        h.batch(() => [
          ...dsts.map((dst) => h.routeAdd({ dst, gateway: '198.18.0.254', oif: up })),
          h.routeDel({ dst: '10.99.99.0/24', oif: up }), // not there: refused
          h.routeAdd({ dst: dsts[0]!, gateway: '198.18.0.254', oif: up }), // a duplicate: refused
          h.routeAdd({ dst: '10.98.0.0/24', gateway: '198.18.0.254', oif: up }), // after the refusals
        ]),
      );
      t.is(results.filter((r) => r.status === 'fulfilled').length, dsts.length + 1);
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as NetlinkError] : []));
      t.deepEqual(
        refused.map((e) => e.code),
        ['ESRCH', 'EEXIST'],
      );
      t.regex(refused[1]!.message, /add route 10\.20\.0\.0\/24/);
      const shown = new Set(oracleRoutes(node!, 4).map((r) => r.dst));
      t.true(dsts.every((d) => shown.has(d)));
      t.true(shown.has('10.98.0.0/24'));
      // Every request settled: no poll is left waiting for replies (a worker thread held for its 200 ms
      // slice, the socket's close deferred until it ends), so closing it closes its descriptor now.
      const { fd } = h.socket;
      h.socket.close();
      t.false(existsSync(`/proc/self/fd/${fd}`), 'the descriptor is closed at once');
    });
  });
});
