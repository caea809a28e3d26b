import test from 'ava';
import { Handle } from '../../pkg/netlink/handle.ts';
import { programPeer, removePeer, TSNET_ROUTE_PROTOCOL } from '../../pkg/overlay/peers.ts';
import { reconcile, repairCount } from '../../pkg/overlay/reconcile.ts';
import { ensureVtep, stableVtepMac } from '../../pkg/overlay/vtep.ts';
import { ip, nsexec, type TestNetns, withNetnses } from '../helpers/netns.ts';
import { oracleFdb, oracleNeigh, oracleRoutes } from './world.ts';

const LOCAL = '198.18.0.1';
const B = { subnet: '10.244.5.0/24', publicIp: '198.18.0.3', vtepMac: stableVtepMac('node-b') };
const C = { subnet: '10.244.6.0/24', publicIp: '198.18.0.4', vtepMac: stableVtepMac('node-c') };

const bridge = (ns: TestNetns, ...args: string[]): string => nsexec(ns.path, 'bridge', args);

/** A namespace with an underlay and a VTEP for 10.244.3.0/24; runs `fn` with a handle and the VTEP index. */
async function withVtep(fn: (ns: TestNetns, h: Handle, vtep: number) => Promise<void>): Promise<void> {
  await withNetnses('ovpr', 1, async ([ns]) => {
    ip(ns!.path, 'link', 'add', 'ul0', 'type', 'veth', 'peer', 'name', 'ul1');
    ip(ns!.path, 'addr', 'add', `${LOCAL}/24`, 'dev', 'ul0');
    ip(ns!.path, 'link', 'set', 'ul0', 'up');
    await Handle.with(ns!.path, async (h) => {
      const { vtep } = await ensureVtep(h, {
        vni: 1,
        localIp: LOCAL,
        mac: stableVtepMac('node-a'),
        subnet: '10.244.3.0/24',
      });
      await fn(ns!, h, vtep.index);
    });
  });
}

/** The peer's three entries as iproute2 sees them, or undefined for each one missing. */
function oraclePeer(ns: TestNetns, peer: typeof B) {
  const vtepIp = peer.subnet.split('/')[0];
  return {
    neigh: oracleNeigh(ns).filter((n) => n.dst === vtepIp),
    fdb: oracleFdb(ns).filter((f) => f.mac === peer.vtepMac),
    route: oracleRoutes(ns).filter((r) => r.dst === peer.subnet),
  };
}

test('programPeer installs neighbour, FDB and route as flannel does, idempotently; removePeer removes them', async (t) => {
  await withVtep(async (ns, h, vtep) => {
    await programPeer(h, vtep, B);
    await programPeer(h, vtep, B);
    const seen = oraclePeer(ns, B);
    t.is(seen.neigh.length, 1);
    t.like(seen.neigh[0], { dst: '10.244.5.0', lladdr: B.vtepMac, state: ['PERMANENT'] });
    t.is(seen.fdb.length, 1);
    t.like(seen.fdb[0], { dst: B.publicIp, state: 'permanent' });
    t.true(seen.fdb[0]?.flags.includes('self'));
    t.is(seen.route.length, 1);
    t.like(seen.route[0], { gateway: '10.244.5.0', dev: 'tsnet.1', protocol: String(TSNET_ROUTE_PROTOCOL) });
    t.true(seen.route[0]?.flags.includes('onlink'));

    // The peer moved to another underlay address: replace semantics, still one FDB entry.
    await programPeer(h, vtep, { ...B, publicIp: '198.18.0.30' });
    t.deepEqual(
      oracleFdb(ns)
        .filter((f) => f.mac === B.vtepMac)
        .map((f) => f.dst),
      ['198.18.0.30'],
    );

    await programPeer(h, vtep, C);
    await removePeer(h, vtep, { ...B, publicIp: '198.18.0.30' });
    t.deepEqual(oraclePeer(ns, B), { neigh: [], fdb: [], route: [] });
    t.is(oraclePeer(ns, C).route.length, 1, 'other peers stay');
    // Already gone: no error.
    await removePeer(h, vtep, B);
    t.deepEqual(oraclePeer(ns, B), { neigh: [], fdb: [], route: [] });
  });
});

test('programPeer refuses bad peers before touching the kernel', async (t) => {
  await withVtep(async (ns, h, vtep) => {
    await t.throwsAsync(programPeer(h, vtep, { ...B, subnet: '10.244.5.1/24' }), {
      message: /invalid subnet/,
    });
    await t.throwsAsync(programPeer(h, vtep, { ...B, subnet: '0.0.0.0/0' }), { message: /\/0/ });
    await t.throwsAsync(programPeer(h, vtep, { ...B, publicIp: 'fd00::1' }), { message: /not IPv4/ });
    await t.throwsAsync(programPeer(h, vtep, { ...B, vtepMac: '01:00:5e:00:00:01' }), { message: /unicast/ });
    t.deepEqual(oracleNeigh(ns), []);
    t.deepEqual(oracleRoutes(ns), []);
  });
});

test('reconcile adds what is missing, fixes what differs and removes what is foreign, then finds nothing to do', async (t) => {
  await withVtep(async (ns, h, vtep) => {
    const first = await reconcile(h, { index: vtep }, [B, C]);
    t.is(first.added.length, 6);
    t.is(first.peers, 2);
    t.is(oraclePeer(ns, B).route.length, 1);
    t.is(oraclePeer(ns, C).fdb.length, 1);

    // Drift made by hand with iproute2.
    ip(ns.path, 'route', 'del', B.subnet, 'dev', 'tsnet.1');
    ip(
      ns.path,
      'neigh',
      'replace',
      '10.244.6.0',
      'lladdr',
      '02:00:00:00:00:66',
      'dev',
      'tsnet.1',
      'nud',
      'permanent',
    );
    ip(ns.path, 'route', 'add', '10.244.99.0/24', 'via', '10.244.99.0', 'dev', 'tsnet.1', 'onlink');
    ip(
      ns.path,
      'neigh',
      'add',
      '10.244.99.0',
      'lladdr',
      '02:00:00:00:00:99',
      'dev',
      'tsnet.1',
      'nud',
      'permanent',
    );
    bridge(
      ns,
      'fdb',
      'append',
      '02:00:00:00:00:99',
      'dev',
      'tsnet.1',
      'dst',
      '198.18.0.99',
      'self',
      'permanent',
    );
    bridge(
      ns,
      'fdb',
      'append',
      '00:00:00:00:00:00',
      'dev',
      'tsnet.1',
      'dst',
      '198.18.0.98',
      'self',
      'permanent',
    );
    bridge(ns, 'fdb', 'replace', B.vtepMac, 'dev', 'tsnet.1', 'dst', '198.18.0.97', 'self', 'permanent');

    const report = await reconcile(h, { index: vtep }, [B, C]);
    t.deepEqual(
      report.added.map((c) => `${c.kind} ${c.subnet}`),
      [`route ${B.subnet}`],
    );
    t.deepEqual(report.fixed.map((c) => `${c.kind} ${c.subnet}`).sort(), [
      `fdb ${B.subnet}`,
      `neighbour ${C.subnet}`,
    ]);
    t.deepEqual(report.removed.map((c) => c.kind).sort(), ['fdb', 'fdb', 'neighbour', 'route']);
    t.deepEqual(report.failed, []);

    t.like(oraclePeer(ns, B).route[0], { gateway: '10.244.5.0', protocol: String(TSNET_ROUTE_PROTOCOL) });
    t.like(oraclePeer(ns, C).neigh[0], { lladdr: C.vtepMac, state: ['PERMANENT'] });
    t.deepEqual(
      oracleFdb(ns)
        .map((f) => `${f.mac} ${f.dst}`)
        .sort(),
      [`${B.vtepMac} ${B.publicIp}`, `${C.vtepMac} ${C.publicIp}`].sort(),
    );
    t.deepEqual(
      oracleRoutes(ns)
        .map((r) => r.dst)
        .sort(),
      [B.subnet, C.subnet],
    );
    t.deepEqual(
      oracleNeigh(ns)
        .map((n) => n.dst)
        .sort(),
      ['10.244.5.0', '10.244.6.0'],
    );

    const quiet = await reconcile(h, { index: vtep }, [B, C]);
    t.is(repairCount(quiet), 0);

    // A peer that left: its entries are foreign now.
    const left = await reconcile(h, { index: vtep }, [C]);
    t.is(left.removed.length, 3);
    t.deepEqual(oraclePeer(ns, B), { neigh: [], fdb: [], route: [] });
    t.is(oraclePeer(ns, C).route.length, 1);
  });
});

test('reconcile leaves routes on other devices alone, but takes over a conflicting route for a peer subnet', async (t) => {
  await withVtep(async (ns, h, vtep) => {
    ip(ns.path, 'route', 'add', '10.99.0.0/16', 'dev', 'ul0');
    ip(ns.path, 'route', 'add', B.subnet, 'dev', 'ul0');
    const report = await reconcile(h, { index: vtep }, [B]);
    t.deepEqual(
      report.fixed.map((c) => `${c.kind} ${c.subnet}`),
      [`route ${B.subnet}`],
    );
    t.regex(report.fixed[0]?.reason ?? '', /not the VTEP/);
    t.is(oracleRoutes(ns, 'ul0').filter((r) => r.dst === '10.99.0.0/16').length, 1);
    t.like(oraclePeer(ns, B).route[0], { dev: 'tsnet.1', gateway: '10.244.5.0' });
  });
});

test('reconcile rejects conflicting peers and programs the first of each', async (t) => {
  await withVtep(async (ns, h, vtep) => {
    const report = await reconcile(h, { index: vtep }, [
      B,
      { ...C, vtepMac: B.vtepMac },
      { ...C, subnet: '10.244.5.0/25' },
      { ...C, publicIp: 'nope' },
    ]);
    t.is(report.peers, 1);
    t.is(report.rejected.length, 3);
    t.regex(report.rejected[0]?.reason ?? '', /VTEP MAC/);
    t.regex(report.rejected[1]?.reason ?? '', /VTEP IP 10\.244\.5\.0/);
    t.regex(report.rejected[2]?.reason ?? '', /not IPv4/);
    t.deepEqual(
      oracleRoutes(ns).map((r) => r.dst),
      [B.subnet],
    );
  });
});

test('reconcile without pruning adds and fixes but removes nothing', async (t) => {
  await withVtep(async (ns, h, vtep) => {
    await reconcile(h, { index: vtep }, [B, C]);
    ip(ns.path, 'route', 'del', C.subnet, 'dev', 'tsnet.1');
    const report = await reconcile(h, { index: vtep }, [C], { prune: false });
    t.deepEqual(
      report.added.map((c) => c.kind),
      ['route'],
    );
    t.deepEqual(report.removed, []);
    t.is(oraclePeer(ns, B).route.length, 1, 'the peer missing from the desired set keeps its entries');
    t.is(oraclePeer(ns, B).fdb.length, 1);
  });
});
