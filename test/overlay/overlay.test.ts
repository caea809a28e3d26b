import { spawn } from 'node:child_process';
import test from 'ava';
import { Overlay, type OverlayOptions, type Peer, stableVtepMac } from '../../pkg/overlay/index.ts';
import { ip, nsexec } from '../helpers/netns.ts';
import {
  eventually,
  oracleFdb,
  oracleNeigh,
  oracleRoutes,
  pings,
  type TestNode,
  withCluster,
} from './world.ts';

const macOf = (node: TestNode): string => stableVtepMac(`${node.ns.name}/10.244.0.0/16`);
const peerOf = (node: TestNode): Peer => ({
  subnet: node.subnet,
  publicIp: node.underlayIp,
  vtepMac: macOf(node),
});
const optionsOf = (node: TestNode, extra: Partial<OverlayOptions> = {}): OverlayOptions => ({
  vni: 1,
  localIp: node.underlayIp,
  mac: macOf(node),
  subnet: node.subnet,
  ...extra,
});

/** Starts an overlay on every node with every other node as a peer; runs `fn`; closes them all. */
async function withOverlays(
  nodes: TestNode[],
  extra: Partial<OverlayOptions>,
  fn: (overlays: Overlay[]) => Promise<void>,
): Promise<void> {
  const overlays = nodes.map((n) => new Overlay(n.ns.path, optionsOf(n, extra)));
  try {
    for (const [i, o] of overlays.entries()) {
      await o.start();
      await o.setPeers(nodes.filter((_, j) => j !== i).map(peerOf));
    }
    await fn(overlays);
  } finally {
    for (const o of overlays) await o.close();
  }
}

test('pods on two nodes ping each other over the VXLAN overlay; close() and a restart leave traffic alone', async (t) => {
  await withCluster('ovnd', 2, async ([a, b]) => {
    t.false(await pings(a!.pod, b!.podIp), 'no overlay yet: no path');
    await withOverlays([a!, b!], { reconcileIntervalMs: 0 }, async ([oa]) => {
      t.true(await pings(a!.pod, b!.podIp));
      t.true(await pings(b!.pod, a!.podIp));
      t.is(oa!.vtep.mac, macOf(a!));
      t.like(
        oracleNeigh(a!.ns).find((n) => n.dst === '10.244.2.0'),
        { lladdr: macOf(b!), state: ['PERMANENT'] },
      );
      t.like(
        oracleFdb(a!.ns).find((f) => f.mac === macOf(b!)),
        { dst: b!.underlayIp, state: 'permanent' },
      );
      t.like(
        oracleRoutes(a!.ns).find((r) => r.dst === b!.subnet),
        { gateway: '10.244.2.0', protocol: '116' },
      );
    });

    // Both agents are gone: the data plane stays and carries traffic.
    t.is(oracleRoutes(a!.ns).filter((r) => r.dst === b!.subnet).length, 1);
    t.is(oracleFdb(a!.ns).length, 1);
    t.true(await pings(a!.pod, b!.podIp));

    // A restarted agent adopts what is there: same MAC, nothing to repair. Until it has the full lease list it
    // removes nothing (here a foreign route stands in for a peer it has not heard of yet).
    ip(a!.ns.path, 'route', 'add', '10.244.99.0/24', 'via', '10.244.99.0', 'dev', 'tsnet.1', 'onlink');
    const restarted = new Overlay(a!.ns.path, optionsOf(a!, { reconcileIntervalMs: 0, watchEvents: false }));
    try {
      const report = await restarted.start();
      t.is(report.added.length + report.fixed.length + report.removed.length, 0);
      t.is(restarted.vtep.mac, macOf(a!));
      t.true(await pings(a!.pod, b!.podIp));
      t.true(oracleRoutes(a!.ns).some((r) => r.dst === '10.244.99.0/24'));
      const listed = await restarted.setPeers([peerOf(b!)]);
      t.deepEqual(
        listed.removed.map((c) => c.entry),
        ['10.244.99.0/24 via 10.244.99.0 onlink proto 3'],
      );
      t.is(listed.added.length + listed.fixed.length, 0);
      t.true(await pings(a!.pod, b!.podIp));
    } finally {
      await restarted.close();
    }
  });
});

test('netlink events trigger repair: a route, an FDB entry and the whole device deleted by hand come back', async (t) => {
  await withCluster('ovev', 2, async ([a, b]) => {
    const repairs: string[] = [];
    await withOverlays(
      [a!, b!],
      {
        reconcileIntervalMs: 0,
        debounceMs: 20,
        hooks: { onReconcile: (r, trigger) => repairs.push(...r.added.map((c) => `${trigger} ${c.kind}`)) },
      },
      async ([oa]) => {
        const routeBack = () =>
          oracleRoutes(a!.ns).some((r) => r.dst === b!.subnet && r.gateway === '10.244.2.0');
        ip(a!.ns.path, 'route', 'del', b!.subnet, 'dev', 'tsnet.1');
        t.true(await eventually(routeBack), 'the route deleted by hand is back');
        t.true(repairs.includes('event route'));

        ip(a!.ns.path, 'neigh', 'del', '10.244.2.0', 'dev', 'tsnet.1');
        t.true(
          await eventually(() =>
            oracleNeigh(a!.ns).some((n) => n.dst === '10.244.2.0' && n.lladdr === macOf(b!)),
          ),
          'the neighbour deleted by hand is back',
        );
        t.true(repairs.includes('event neighbour'));

        nsexec(a!.ns.path, 'bridge', [
          'fdb',
          'del',
          macOf(b!),
          'dev',
          'tsnet.1',
          'dst',
          b!.underlayIp,
          'self',
        ]);
        t.true(
          await eventually(() => oracleFdb(a!.ns).some((f) => f.mac === macOf(b!))),
          'the FDB entry is back',
        );
        t.true(await eventually(() => repairs.includes('event fdb')), 'repaired on its event');

        ip(a!.ns.path, 'neigh', 'add', '10.244.77.0', 'lladdr', '02:00:00:00:00:77', 'dev', 'tsnet.1');
        t.true(
          await eventually(() => !oracleNeigh(a!.ns).some((n) => n.dst === '10.244.77.0')),
          'a foreign neighbour goes',
        );

        ip(a!.ns.path, 'link', 'del', 'tsnet.1');
        t.true(await eventually(routeBack), 'device recreated and peer reprogrammed');
        t.true(await pings(a!.pod, b!.podIp));
        const s = oa!.stats();
        t.true(s.repairs.added >= 4);
        t.true(s.repairs.removed >= 1);
        t.true(s.vtepRepairs >= 1);
        t.true(s.events > 0);
      },
    );
  });
});

test('the periodic reconcile repairs drift without the event watch', async (t) => {
  await withCluster('ovtm', 2, async ([a, b]) => {
    await withOverlays([a!, b!], { reconcileIntervalMs: 50, watchEvents: false }, async ([oa]) => {
      ip(a!.ns.path, 'route', 'del', b!.subnet, 'dev', 'tsnet.1');
      t.true(await eventually(() => oracleRoutes(a!.ns).some((r) => r.dst === b!.subnet)));
      t.true(oa!.stats().repairs.added >= 1);
      t.is(oa!.stats().events, 0);
    });
  });
});

test('three nodes: every pod reaches every other; a departed node leaves no entry behind', async (t) => {
  await withCluster('ov3n', 3, async (nodes) => {
    await withOverlays(nodes, { reconcileIntervalMs: 0, watchEvents: false }, async (overlays) => {
      for (const from of nodes) {
        for (const to of nodes) {
          if (from !== to) t.true(await pings(from.pod, to.podIp), `${from.subnet} -> ${to.subnet}`);
        }
      }
      const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
      await overlays[0]!.removePeer(c.subnet);
      await overlays[1]!.removePeer(peerOf(c));
      for (const n of [a, b]) {
        t.false(oracleRoutes(n.ns).some((r) => r.dst === c.subnet));
        t.false(oracleNeigh(n.ns).some((x) => x.dst === '10.244.3.0'));
        t.false(oracleFdb(n.ns).some((f) => f.mac === macOf(c)));
      }
      t.false(await pings(a.pod, c.podIp));
      t.true(await pings(a.pod, b.podIp));

      // c comes back on another underlay address: upsertPeer replaces, no stale FDB destination stays.
      await overlays[0]!.upsertPeer({ ...peerOf(c), publicIp: '198.18.0.33' });
      await overlays[0]!.upsertPeer(peerOf(c));
      t.deepEqual(
        oracleFdb(a.ns)
          .filter((f) => f.mac === macOf(c))
          .map((f) => f.dst),
        [c.underlayIp],
      );
      await t.throwsAsync(overlays[0]!.upsertPeer({ ...peerOf(c), subnet: a.subnet }), {
        message: /own subnet/,
      });
      // b's VTEP MAC under another subnet (b re-leased while its old lease lingers): held back, not
      // programmed, while b's old lease is there; programmed once b's old lease goes.
      await overlays[0]!.upsertPeer({ ...peerOf(b), subnet: '10.244.9.0/24' });
      t.false(
        oracleRoutes(a.ns).some((r) => r.dst === '10.244.9.0/24'),
        'held back while the conflict lasts',
      );
      t.true(
        oracleRoutes(a.ns).some((r) => r.dst === b.subnet),
        'the first holder keeps its entries',
      );
      await overlays[0]!.removePeer(b.subnet);
      t.true(
        oracleRoutes(a.ns).some((r) => r.dst === '10.244.9.0/24'),
        'programmed once the conflict is gone',
      );
      t.deepEqual(
        oracleFdb(a.ns)
          .filter((f) => f.mac === macOf(b))
          .map((f) => f.dst),
        [b.underlayIp],
      );
      // A newer lease for the same VTEP (b re-leased again) wins at once over the older one.
      await overlays[0]!.upsertPeer({ ...peerOf(b), subnet: '10.244.10.0/24', revision: 99 });
      t.true(
        oracleRoutes(a.ns).some((r) => r.dst === '10.244.10.0/24'),
        'the newer lease is programmed',
      );
      t.false(
        oracleRoutes(a.ns).some((r) => r.dst === '10.244.9.0/24'),
        'the older one is held back',
      );
      await overlays[0]!.removePeer('10.244.10.0/24');
      t.true(
        oracleRoutes(a.ns).some((r) => r.dst === '10.244.9.0/24'),
        'the older one returns when the newer goes',
      );
      t.false(oracleRoutes(a.ns).some((r) => r.dst === '10.244.10.0/24'));
    });
  });
});

test('a ping across nodes loses nothing while the overlays are closed and restarted', async (t) => {
  await withCluster('ovrs', 2, async ([a, b]) => {
    await withOverlays([a!, b!], { reconcileIntervalMs: 0 }, async () => {});
    // 100 echo requests at 20 ms intervals while both agents restart, the way a DaemonSet rollout does it.
    const ping = spawn('nsenter', [
      `--net=${a!.pod.path}`,
      'ping',
      '-n',
      '-q',
      '-c100',
      '-i0.02',
      '-W2',
      b!.podIp,
    ]);
    let out = '';
    ping.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => ping.on('close', resolve));
    try {
      for (let round = 0; round < 3; round++) {
        await withOverlays([a!, b!], { reconcileIntervalMs: 0 }, async (overlays) => {
          t.is(overlays[0]!.stats().changes, 0);
        });
      }
      const code = await exited;
      t.regex(out, / 0% packet loss/);
      t.is(code, 0);
    } finally {
      if (ping.exitCode === null) ping.kill();
      await exited;
    }
  });
});
