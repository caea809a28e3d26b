import test from 'ava';
import { attachToEnsuredBridge, ensureBridge } from '../../pkg/bridge/dataplane.ts';
import { Handle } from '../../pkg/netlink/handle.ts';
import { ip, ipLinks, withNetnses } from '../helpers/netns.ts';

test('a bridge removed by a failing concurrent ADD before this port joined is ensured again, once', async (t) => {
  await withNetnses('brdp', 2, async ([node, ctr]) => {
    await Handle.with(node!.path, async (h) => {
      const opts = { name: 'tsbr9', promisc: false, vlanFiltering: false };
      const { bridge, created } = await ensureBridge(h, opts);
      t.true(created);
      const again = await ensureBridge(h, opts);
      t.false(again.created, 'a second ensure finds it');
      await h.linkAdd({ kind: 'veth', name: 'vh9', peer: { name: 'eth0', netns: ctr!.path } });
      const host = await h.linkGet('vh9');
      ip(node!.path, 'link', 'del', 'tsbr9'); // the other ADD's rollback
      const attached = await attachToEnsuredBridge(h, host, bridge, opts, false);
      t.not(attached.bridge.index, bridge.index, 'a new bridge');
      t.is(ipLinks(node!.path).find((l) => l.ifname === 'vh9')?.master, 'tsbr9');
    });
  });
});
