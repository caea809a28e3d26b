// tsnetctl diagnose A B on a real 2-node cluster with its agents down: every hop fine, then one fault at a time
// injected with ip/bridge (ping as the oracle that it really breaks the path), named as the broken hop, and
// restored before the next.
import test from 'ava';
import { ip, ipJson, nsRun, VTEP_NAME } from '../../pkg/cluster/index.ts';
import { HOP_IDS } from '../../pkg/ctl/cluster/path.ts';
import { peerOf } from '../cluster/helpers.ts';
import { assertOneLineError } from './cli.ts';
import { pings, withViewCluster } from './cluster-fixture.ts';

interface Hop {
  id: string;
  where: string;
  status: 'ok' | 'broken' | 'not-checked';
  detail: string;
  fix?: string;
}
interface Report {
  from: { name: string; ip: string; node: string };
  to: { name: string; ip: string; node: string };
  hops: Hop[];
  broken?: Hop;
}

test('diagnose names the broken hop for each injected fault, from A to B across nodes', async (t) => {
  await withViewCluster(
    t,
    [
      ['a', 0],
      ['b', 1],
      ['c', 1],
    ],
    async ({ cluster, containers, ctl, ctlOn }) => {
      const [a, b] = containers.map((c) => c.container);
      const node1 = cluster.nodes[1]!.netnsPath;
      // Run inside node0 (found as the local node by its public IP); node1 mapped by --node-netns.
      const diagnose = async () => {
        const r = await ctlOn(0, 'diagnose', 'a', 'b', '-o', 'json', '--node-netns', `node1=${node1}`);
        if (r.stderr) t.log(r.stderr);
        return { code: r.code, report: JSON.parse(r.stdout) as Report };
      };
      const expectBroken = async (what: string, hop: string) => {
        t.false(await pings(a!.netnsPath, b!.ip), `${what}: the fault breaks a -> b`);
        const { code, report } = await diagnose();
        t.is(code, 1, `${what}: exit 1`);
        t.is(report.broken?.id, hop, `${what}: ${JSON.stringify(report.broken)}`);
        t.truthy(report.broken?.fix, `${what}: says what to do`);
      };
      const expectRestored = async (what: string) =>
        t.true(await pings(a!.netnsPath, b!.ip, 3), `${what} restored: a reaches b again`);

      const healthy = await diagnose();
      t.is(healthy.code, 0);
      t.deepEqual(
        healthy.report.hops.map((h) => [h.id, h.status]),
        HOP_IDS.map((id) => [id, 'ok']),
      );
      t.like(healthy.report, {
        from: { name: 'a', ip: a!.ip, node: 'node0' },
        to: { name: 'b', ip: b!.ip, node: 'node1' },
      });
      t.true(await pings(a!.netnsPath, b!.ip), 'a reaches b before any fault');

      // 1. A's route to B deleted (every gatewayed route in A's namespace: the cluster route and the default).
      const aRoutes = await ipJson<{ dst: string; gateway?: string; dev: string }[]>(a!.netnsPath, [
        'route',
        'show',
      ]);
      const viaGateway = aRoutes.filter((r) => r.gateway);
      t.true(viaGateway.length > 0, 'A has a route via its gateway');
      for (const r of viaGateway) await ip(a!.netnsPath, 'route', 'del', r.dst, 'via', r.gateway!);
      await expectBroken("A's route deleted", 'a-route');
      for (const r of viaGateway)
        await ip(a!.netnsPath, 'route', 'add', r.dst, 'via', r.gateway!, 'dev', r.dev);
      await expectRestored("A's route");

      // 2. node0's VXLAN FDB entry for node1 deleted.
      const peer1 = await peerOf(cluster, 1);
      const node0 = cluster.nodes[0]!.netnsPath;
      await nsRun(node0, 'bridge', ['fdb', 'del', peer1.vtepMac, 'dev', VTEP_NAME, 'dst', peer1.publicIp]);
      await expectBroken("node1's FDB entry deleted", 'fdb');
      await nsRun(node0, 'bridge', [
        'fdb',
        'append',
        peer1.vtepMac,
        'dev',
        VTEP_NAME,
        'dst',
        peer1.publicIp,
        'self',
        'permanent',
      ]);
      await expectRestored('the FDB entry');

      // 3. node1's underlay link down.
      await ip(node1, 'link', 'set', 'ul0', 'down');
      await expectBroken("node1's underlay link down", 'b-underlay');
      await ip(node1, 'link', 'set', 'ul0', 'up');
      await expectRestored("node1's underlay link");

      // 4. B's bridge port down: its host veth (the peer of B's eth0) set down, then its port state disabled.
      const [bEth0] = await ipJson<{ link_index: number }[]>(b!.netnsPath, ['link', 'show', 'dev', 'eth0']);
      const hostLinks = await ipJson<{ ifindex: number; ifname: string }[]>(node1, ['link', 'show']);
      const veth = hostLinks.find((l) => l.ifindex === bEth0?.link_index)?.ifname ?? '';
      t.not(veth, '', "B's host veth found");
      await ip(node1, 'link', 'set', veth, 'down');
      await expectBroken("B's bridge port down", 'b-veth');
      await ip(node1, 'link', 'set', veth, 'up');
      await expectRestored("B's host veth");
      await nsRun(node1, 'bridge', ['link', 'set', 'dev', veth, 'state', '0']);
      await expectBroken("B's bridge port disabled", 'b-veth');
      await nsRun(node1, 'bridge', ['link', 'set', 'dev', veth, 'state', '3']);
      await expectRestored("B's bridge port");

      const after = await diagnose();
      t.is(after.code, 0, 'every fault restored');
      t.is(after.report.broken, undefined);

      // Two containers of one node: no overlay hop on the path.
      const local = await ctlOn(1, 'diagnose', 'b', 'c', '-o', 'json');
      t.is(local.code, 0, local.stderr);
      t.deepEqual(
        (JSON.parse(local.stdout) as Report).hops.map((h) => [h.id, h.status]),
        ['a-interface', 'a-route', 'a-veth', 'b-route', 'b-bridge', 'b-veth', 'b-interface'].map((id) => [
          id,
          'ok',
        ]),
      );

      // From the host namespace nothing is reachable: hops not checked, none guessed broken.
      const far = await ctl('diagnose', 'a', 'b', '--json');
      const farReport = JSON.parse(far.stdout) as Report;
      t.is(far.code, 0);
      t.true(farReport.hops.every((h) => h.status === 'not-checked'));
      t.regex(farReport.hops[0]?.detail ?? '', /run diagnose on node0/);

      // The text form names the hop and what to do.
      await ip(node1, 'link', 'set', 'ul0', 'down');
      const text = await ctlOn(0, 'diagnose', 'a', 'b', '--node-netns', `node1=${node1}`);
      await ip(node1, 'link', 'set', 'ul0', 'up');
      t.is(text.code, 1);
      t.regex(text.stdout, /broken hop: b-underlay on node1: ul0 \(198\.18\.0\.2\) DOWN/);
      t.regex(text.stdout, /what to do: bring node1's underlay link up: ip link set ul0 up/);

      assertOneLineError(t, await ctl('diagnose', 'a', 'nosuch'), /no container nosuch in the cluster/);
      assertOneLineError(t, await ctl('diagnose', 'a'), /diagnose takes two containers/);
      assertOneLineError(
        t,
        await ctl('diagnose', 'a', 'b', '--node-netns', 'node1=/nonexistent'),
        /--node-netns node1=\/nonexistent: \/nonexistent is not a network namespace/,
      );
    },
  );
});
