// A macvlan network (-d macvlan -o parent=) on a veth parent of the test node: the container gets a macvlan
// interface on the parent's segment and reaches another host there.
import test from 'ava';
import { ip, ipLinks, nsexec } from '../helpers/netns.ts';
import { withNodeWorld } from './world.ts';

test('a macvlan network on a veth parent: the container reaches a host on the parent segment', async (t) => {
  await withNodeWorld(2, async (w) => {
    const [ctr, host] = [w.others[0]!, w.others[1]!];
    ip(w.node.path, 'link', 'add', 'mvparent', 'type', 'veth', 'peer', 'name', 'seg0', 'netns', host.name);
    ip(w.node.path, 'link', 'set', 'mvparent', 'up');
    ip(host.path, 'addr', 'add', '198.18.5.100/24', 'dev', 'seg0');
    ip(host.path, 'link', 'set', 'seg0', 'up');
    const net = await w.store.create({
      name: 'lan',
      driver: 'macvlan',
      pools: [{ subnet: '198.18.5.0/24', gateway: '198.18.5.1' }],
      options: { parent: 'mvparent' },
      labels: {},
      internal: false,
    });
    t.like(net.list?.plugins[0], { type: 'tsnet-macvlan', master: 'mvparent', mode: 'bridge' });
    const a = await w.networking.attach({
      containerId: 'd'.repeat(64),
      containerName: 'mv',
      netnsPath: ctr.path,
      network: 'lan',
      ifName: 'eth0',
      ipv4: '198.18.5.20',
      aliases: [],
      ports: [],
    });
    t.is(a.ipAddress, '198.18.5.20');
    const eth0 = ipLinks(ctr.path).find((l) => l.ifname === 'eth0');
    t.is(eth0?.linkinfo?.info_kind, 'macvlan');
    t.notThrows(() => nsexec(ctr.path, 'ping', ['-c', '1', '-W', '3', '198.18.5.100']));
    await w.networking.detach({
      containerId: 'd'.repeat(64),
      netnsPath: ctr.path,
      network: 'lan',
      ifName: 'eth0',
    });
    t.false(ipLinks(ctr.path).some((l) => l.ifname === 'eth0'));
    await t.throwsAsync(
      w.store.create({
        name: 'lan2',
        driver: 'macvlan',
        pools: [{ subnet: '198.18.6.0/24' }],
        options: { parent: 'bad/name' },
        labels: {},
        internal: false,
      }),
      { message: /-o parent=bad\/name/ },
    );
  });
});
