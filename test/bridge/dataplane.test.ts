import test from 'ava';
import { createVethOnBridge, deleteContainerVeth, ensureBridge } from '../../pkg/bridge/dataplane.ts';
import { Handle } from '../../pkg/netlink/handle.ts';
import { ip, ipLinks, withNetnses } from '../helpers/netns.ts';

test('a bridge removed by a failing concurrent ADD before this port joined is ensured again, once', async (t) => {
  await withNetnses('brdp', 2, async ([node, ctr]) => {
    const h = Handle.open(node!.path);
    const c = Handle.open(ctr!.path);
    try {
      const opts = { name: 'tsbr9', promisc: false, vlanFiltering: false };
      const { bridge, created } = await ensureBridge(h, opts);
      t.true(created);
      const again = await ensureBridge(h, opts);
      t.false(again.created, 'a second ensure finds it');
      ip(node!.path, 'link', 'del', 'tsbr9'); // the other ADD's rollback
      let ensuredAgain = 0;
      const made = await createVethOnBridge(
        h,
        c,
        bridge,
        async () => {
          ensuredAgain++;
          return (await ensureBridge(h, opts)).bridge;
        },
        { containerNetns: ctr!.path, ifname: 'eth0' },
      );
      t.is(ensuredAgain, 1);
      t.not(made.bridge.index, bridge.index, 'a new bridge');
      t.is(ipLinks(node!.path).find((l) => l.ifname === made.veth.host.name)?.master, 'tsbr9');
    } finally {
      c.close();
      h.close();
    }
  });
});

test('deleteContainerVeth deletes only the container end of a veth on our bridge, nothing else named ifname', async (t) => {
  await withNetnses('brdel', 2, async ([node, ctr]) => {
    const h = Handle.open(node!.path);
    const c = Handle.open(ctr!.path);
    const del = (ifname: string, recordedHostVeth?: string) =>
      deleteContainerVeth(h, c, { ifname, bridgeName: 'tsbr8', recordedHostVeth });
    const ctrLinks = () =>
      ipLinks(ctr!.path)
        .map((l) => l.ifname)
        .sort();
    try {
      const { bridge } = await ensureBridge(h, { name: 'tsbr8', promisc: false, vlanFiltering: false });
      // Not ours: a bridge, a veth with both ends in the container, a veth whose node end is off the bridge.
      ip(ctr!.path, 'link', 'add', 'eth1', 'type', 'bridge');
      ip(ctr!.path, 'link', 'add', 'eth2', 'type', 'veth', 'peer', 'name', 'eth2p');
      ip(node!.path, 'link', 'add', 'vout', 'type', 'veth', 'peer', 'name', 'eth3', 'netns', ctr!.name);
      ip(node!.path, 'link', 'add', 'vgone', 'type', 'veth', 'peer', 'name', 'eth4', 'netns', ctr!.name);
      for (const name of ['eth1', 'eth2', 'eth2p', 'eth3', 'eth9']) t.false(await del(name), name);
      t.deepEqual(ctrLinks(), ['eth1', 'eth2', 'eth2p', 'eth3', 'eth4', 'lo']);
      t.true(ipLinks(node!.path).some((l) => l.ifname === 'vout'));

      // Ours: the node end is a port of the bridge; or the ADD's result names it (the bridge was removed since).
      await h.linkAdd({
        kind: 'veth',
        name: 'vours',
        masterIndex: bridge.index,
        peer: { name: 'eth0', netns: ctr!.path },
      });
      t.true(await del('eth0'));
      t.true(await del('eth4', 'vgone'));
      t.deepEqual(ctrLinks(), ['eth1', 'eth2', 'eth2p', 'eth3', 'lo']);
      t.false(ipLinks(node!.path).some((l) => l.ifname === 'vours' || l.ifname === 'vgone'));
    } finally {
      c.close();
      h.close();
    }
  });
});

test("the bridge keeps the MAC it was created with while ports come and go (containers' gateway entries stay valid)", async (t) => {
  await withNetnses('brmac', 1, async ([node]) => {
    const h = Handle.open(node!.path);
    const macOf = (name: string) => ipLinks(node!.path).find((l) => l.ifname === name)?.address;
    try {
      const { bridge } = await ensureBridge(h, { name: 'tsbr7', promisc: false, vlanFiltering: false });
      const created = macOf('tsbr7');
      t.regex(created ?? '', /^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/, 'a locally administered unicast MAC');
      // Ports with the lowest and the highest possible MACs: a bridge without an assigned address takes the
      // lowest port MAC, and another one again when that port leaves.
      for (const [name, mac] of [
        ['vlow', '02:00:00:00:00:01'],
        ['vhigh', 'fe:ff:ff:ff:ff:fe'],
      ] as const) {
        ip(node!.path, 'link', 'add', name, 'address', mac, 'type', 'veth', 'peer', 'name', `${name}p`);
        ip(node!.path, 'link', 'set', name, 'master', 'tsbr7', 'up');
        t.is(macOf('tsbr7'), created, `after ${name} (${mac}) joined`);
      }
      ip(node!.path, 'link', 'del', 'vlow');
      t.is(macOf('tsbr7'), created, 'after the lowest port left');
      t.is((await h.linkGet(bridge.index)).mac, created, 'netlink agrees with ip');
    } finally {
      h.close();
    }
  });
});
