import test from 'ava';
import fc from 'fast-check';
import { Handle } from '../../pkg/netlink/handle.ts';
import { ensureVtep, stableVtepMac } from '../../pkg/overlay/vtep.ts';
import { ip, ipJson, ipLinks, type TestNetns, withNetnses } from '../helpers/netns.ts';

const LOCAL = '198.18.0.1';

/** A namespace with an underlay (a veth end holding 198.18.0.1/24, MTU `mtu`). */
function underlay(ns: TestNetns, mtu = 1500): void {
  ip(ns.path, 'link', 'add', 'ul0', 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', 'ul1');
  ip(ns.path, 'addr', 'add', `${LOCAL}/24`, 'dev', 'ul0');
  ip(ns.path, 'link', 'set', 'ul0', 'up');
}

const vtepLink = (ns: TestNetns) => ipLinks(ns.path).find((l) => l.ifname === 'tsnet.1');
const vtepAddrs = (ns: TestNetns): string[] =>
  ipJson<{ addr_info: { family: string; local: string; prefixlen: number }[] }[]>(
    ns.path,
    'addr',
    'show',
    'dev',
    'tsnet.1',
  )
    .flatMap((l) => l.addr_info)
    .filter((a) => a.family === 'inet')
    .map((a) => `${a.local}/${a.prefixlen}`);

test('stableVtepMac: deterministic, locally administered unicast, distinct per identity', (t) => {
  t.is(stableVtepMac('node-a/10.244.0.0/16'), stableVtepMac('node-a/10.244.0.0/16'));
  t.not(stableVtepMac('node-a/10.244.0.0/16'), stableVtepMac('node-b/10.244.0.0/16'));
  t.throws(() => stableVtepMac(''), { message: /empty/ });
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), (key) => {
      const mac = stableVtepMac(key);
      const first = Number.parseInt(mac.slice(0, 2), 16);
      return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac) && (first & 1) === 0 && (first & 2) === 2;
    }),
  );
});

test('ensureVtep creates the device as specified, with the subnet network address, and is idempotent', async (t) => {
  await withNetnses('ovvt', 1, async ([ns]) => {
    underlay(ns!, 1400);
    const mac = stableVtepMac('node-a');
    await Handle.with(ns!.path, async (h) => {
      const first = await ensureVtep(h, { vni: 7, localIp: LOCAL, mac, subnet: '10.244.3.0/24' });
      t.true(first.created);
      t.like(first.vtep, { name: 'tsnet.1', vni: 7, port: 8472, mtu: 1350, mac, address: '10.244.3.0/32' });
      const link = vtepLink(ns!);
      t.is(link?.mtu, 1350, 'underlay MTU minus 50');
      t.is(link?.address, mac);
      t.true(link?.flags.includes('UP'));
      t.like(link?.linkinfo, {
        info_kind: 'vxlan',
        info_data: { id: 7, local: LOCAL, port: 8472, learning: false, link: 'ul0' },
      });
      t.deepEqual(vtepAddrs(ns!), ['10.244.3.0/32']);

      const again = await ensureVtep(h, { vni: 7, localIp: LOCAL, mac, subnet: '10.244.3.0/24' });
      t.false(again.created);
      t.deepEqual(again.changes, []);
      t.is(again.vtep.index, first.vtep.index);
    });
  });
});

test('ensureVtep repairs MTU, MAC, admin state and address in place', async (t) => {
  await withNetnses('ovvt', 1, async ([ns]) => {
    underlay(ns!);
    const mac = stableVtepMac('node-a');
    await Handle.with(ns!.path, async (h) => {
      const { vtep } = await ensureVtep(h, { vni: 1, localIp: LOCAL, mac, subnet: '10.244.3.0/24' });
      ip(ns!.path, 'link', 'set', 'tsnet.1', 'down');
      ip(ns!.path, 'link', 'set', 'tsnet.1', 'mtu', '1300', 'address', '02:00:00:00:00:99');
      ip(ns!.path, 'addr', 'add', '10.244.9.0/32', 'dev', 'tsnet.1');
      const fixed = await ensureVtep(h, { vni: 1, localIp: LOCAL, mac, subnet: '10.244.3.0/24' });
      t.false(fixed.created);
      t.is(fixed.vtep.index, vtep.index, 'adjusted in place, not recreated');
      t.true(fixed.changes.includes('mtu 1300 -> 1450'));
      t.true(fixed.changes.some((c) => c.startsWith('mac 02:00:00:00:00:99')));
      t.true(fixed.changes.includes('down -> up'));
      t.true(fixed.changes.includes('address 10.244.9.0/32 removed'));
      const link = vtepLink(ns!);
      t.like(link, { mtu: 1450, address: mac });
      t.true(link?.flags.includes('UP'));
      t.deepEqual(vtepAddrs(ns!), ['10.244.3.0/32']);
    });
  });
});

test('ensureVtep recreates a device with the wrong VNI, port or learning, or of another kind', async (t) => {
  await withNetnses('ovvt', 1, async ([ns]) => {
    underlay(ns!);
    const mac = stableVtepMac('node-a');
    const opts = { vni: 1, localIp: LOCAL, mac, subnet: '10.244.3.0/24' };
    await Handle.with(ns!.path, async (h) => {
      const cases: [string[], RegExp][] = [
        [
          ['type', 'vxlan', 'id', '9', 'local', LOCAL, 'dstport', '8472', 'nolearning', 'dev', 'ul0'],
          /vni 9 != 1/,
        ],
        [
          ['type', 'vxlan', 'id', '1', 'local', LOCAL, 'dstport', '4789', 'nolearning', 'dev', 'ul0'],
          /port 4789/,
        ],
        [
          ['type', 'vxlan', 'id', '1', 'local', LOCAL, 'dstport', '8472', 'learning', 'dev', 'ul0'],
          /learning/,
        ],
        [['type', 'bridge'], /kind bridge is not vxlan/],
      ];
      for (const [args, reason] of cases) {
        ip(ns!.path, 'link', 'add', 'tsnet.1', ...args);
        const r = await ensureVtep(h, opts);
        t.true(r.created);
        t.regex(r.changes[0] ?? '', reason);
        t.like(vtepLink(ns!)?.linkinfo, {
          info_kind: 'vxlan',
          info_data: { id: 1, port: 8472, learning: false, local: LOCAL },
        });
        t.deepEqual(vtepAddrs(ns!), ['10.244.3.0/32']);
        ip(ns!.path, 'link', 'del', 'tsnet.1');
      }
    });
  });
});

test('the VTEP MAC survives deleting and recreating the device (an agent restart or a reboot)', async (t) => {
  await withNetnses('ovvt', 1, async ([ns]) => {
    underlay(ns!);
    const opts = () => ({ vni: 1, localIp: LOCAL, mac: stableVtepMac('node-a/10.244.0.0/16') });
    const before = await Handle.with(ns!.path, (h) => ensureVtep(h, opts()));
    ip(ns!.path, 'link', 'del', 'tsnet.1');
    const after = await Handle.with(ns!.path, (h) => ensureVtep(h, opts()));
    t.true(after.created);
    t.is(after.vtep.mac, before.vtep.mac);
    t.is(vtepLink(ns!)?.address, before.vtep.mac);
  });
});

test('ensureVtep refuses bad input and a local IP the namespace does not hold, creating nothing', async (t) => {
  await withNetnses('ovvt', 1, async ([ns]) => {
    underlay(ns!);
    const mac = stableVtepMac('x');
    await Handle.with(ns!.path, async (h) => {
      await t.throwsAsync(ensureVtep(h, { vni: 0, localIp: LOCAL, mac }), { message: /VNI 0/ });
      await t.throwsAsync(ensureVtep(h, { vni: 1, localIp: '198.18.0.77', mac }), {
        message: /198\.18\.0\.77 is not assigned/,
      });
      await t.throwsAsync(ensureVtep(h, { vni: 1, localIp: LOCAL, mac: 'zz' }), { message: /MAC/ });
      await t.throwsAsync(ensureVtep(h, { vni: 1, localIp: LOCAL, mac, subnet: '10.244.3.1/24' }), {
        message: /invalid subnet/,
      });
      t.is(vtepLink(ns!), undefined);
    });
  });
});
