import { spawnSync } from 'node:child_process';
import test from 'ava';
import { Handle } from '../../pkg/netlink/handle.ts';
import type { MacvlanModeName } from '../../pkg/netlink/link.ts';
import { NetlinkError } from '../../pkg/netlink/socket.ts';
import { ipLinks, withNetnses } from '../helpers/netns.ts';

test('veth pair with the peer created and named directly in another namespace', async (t) => {
  await withNetnses('lnk', 2, async ([node, ctr]) => {
    await Handle.with(node!.path, async (h) => {
      await h.linkAdd({
        kind: 'veth',
        name: 'vh0',
        mtu: 1400,
        up: true,
        peer: { name: 'eth0', netns: ctr!.path, mtu: 1400 },
      });
      const host = await h.linkGet('vh0');
      t.is(host.info.kind, 'veth');
      t.is(host.mtu, 1400);
      t.true(host.up);
      t.is(host.parentNetnsId !== undefined, true, 'peer lives in another namespace');
    });
    const nodeLinks = ipLinks(node!.path);
    const ctrLinks = ipLinks(ctr!.path);
    const vh = nodeLinks.find((l) => l.ifname === 'vh0');
    const eth = ctrLinks.find((l) => l.ifname === 'eth0');
    t.truthy(vh);
    t.truthy(eth);
    t.is(eth?.linkinfo?.info_kind, 'veth');
    t.is(eth?.mtu, 1400);
    t.false(
      nodeLinks.some((l) => l.ifname === 'eth0'),
      'peer is not left in the creating namespace',
    );
  });
});

test('bridge with ports: master, nomaster, hairpin, mtu, mac, rename, down, delete', async (t) => {
  await withNetnses('lnk', 2, async ([node, ctr]) => {
    await Handle.with(node!.path, async (h) => {
      await h.linkAdd({ kind: 'bridge', name: 'br0', up: true });
      const br = await h.linkGet('br0');
      t.is(br.info.kind, 'bridge');
      for (const i of [1, 2]) {
        await h.linkAdd({ kind: 'veth', name: `vh${i}`, peer: { name: `eth${i}`, netns: ctr!.path } });
        const port = await h.linkGet(`vh${i}`);
        await h.linkSetMaster(port.index, br.index);
        await h.linkSetUp(port.index);
      }
      const vh1 = await h.linkGet('vh1');
      await h.bridgePortSet(vh1.index, { hairpin: true });
      await h.linkSet(vh1.index, { mtu: 1300, mac: '02:42:ac:11:00:02' });

      let links = ipLinks(node!.path);
      t.is(links.find((l) => l.ifname === 'vh1')?.master, 'br0');
      t.is(links.find((l) => l.ifname === 'vh2')?.master, 'br0');
      t.is(links.find((l) => l.ifname === 'vh1')?.linkinfo?.info_slave_data?.['hairpin'], true);
      t.is(links.find((l) => l.ifname === 'vh1')?.mtu, 1300);
      t.is(links.find((l) => l.ifname === 'vh1')?.address, '02:42:ac:11:00:02');
      const decoded = await h.linkGet(vh1.index);
      t.is(decoded.masterIndex, br.index);
      t.is(decoded.bridgePort?.hairpin, true);

      await h.linkSetNoMaster(vh1.index);
      await h.linkSetDown(vh1.index);
      await h.linkSet(vh1.index, { name: 'renamed1' });
      links = ipLinks(node!.path);
      const renamed = links.find((l) => l.ifname === 'renamed1');
      t.truthy(renamed);
      t.is(renamed?.master, undefined);
      t.false(renamed?.flags.includes('UP'));

      t.true(await h.linkDelByName('renamed1'));
      t.false(await h.linkDelByName('renamed1'), 'deleting a missing link reports false');
      t.false(ipLinks(node!.path).some((l) => l.ifname === 'renamed1'));
      t.false(
        ipLinks(ctr!.path).some((l) => l.ifname === 'eth1'),
        'deleting one end removes the peer',
      );
    });
  });
});

test('vxlan with VNI, local, port, underlay device, learning off and TTL', async (t) => {
  await withNetnses('lnk', 2, async ([node, other]) => {
    await Handle.with(node!.path, async (h) => {
      await h.linkAdd({ kind: 'veth', name: 'under0', peer: { name: 'under1', netns: other!.path } });
      const under = await h.linkGet('under0');
      await h.linkAdd({
        kind: 'vxlan',
        name: 'tsnet.1',
        vni: 4242,
        local: '198.18.0.1',
        port: 8472,
        device: under.index,
        learning: false,
        ttl: 16,
        mtu: 1450,
      });
      const vx = await h.linkGet('tsnet.1');
      t.like(vx.info, {
        kind: 'vxlan',
        vni: 4242,
        local: '198.18.0.1',
        port: 8472,
        learning: false,
        ttl: 16,
      });
      t.is(vx.info.kind === 'vxlan' ? vx.info.device : undefined, under.index);
    });
    const oracle = ipLinks(node!.path).find((l) => l.ifname === 'tsnet.1');
    t.is(oracle?.linkinfo?.info_kind, 'vxlan');
    t.like(oracle?.linkinfo?.info_data ?? {}, {
      id: 4242,
      local: '198.18.0.1',
      port: 8472,
      learning: false,
      ttl: 16,
    });
    t.is(oracle?.mtu, 1450);
  });
});

test('macvlan in each mode over a veth stand-in master', async (t) => {
  await withNetnses('lnk', 2, async ([node, ctr]) => {
    await Handle.with(node!.path, async (h) => {
      await h.linkAdd({
        kind: 'veth',
        name: 'master0',
        up: true,
        peer: { name: 'spare0', netns: ctr!.path },
      });
      const master = await h.linkGet('master0');
      const modes: MacvlanModeName[] = ['bridge', 'vepa', 'private', 'passthru'];
      for (const mode of modes) {
        await h.linkAdd({
          kind: 'macvlan',
          name: `mv-${mode}`,
          parentIndex: master.index,
          mode,
          netns: ctr!.path,
        });
        await Handle.with(ctr!.path, async (c) => {
          const mv = await c.linkGet(`mv-${mode}`);
          t.deepEqual(mv.info, { kind: 'macvlan', mode });
          const oracle = ipLinks(ctr!.path).find((l) => l.ifname === `mv-${mode}`);
          t.is(oracle?.linkinfo?.info_data?.['mode'], mode);
          await c.linkDel(mv.index);
        });
      }
    });
  });
});

test('move a link to another namespace, list and get by index', async (t) => {
  await withNetnses('lnk', 3, async ([a, b, c]) => {
    await Handle.with(a!.path, async (h) => {
      await h.linkAdd({ kind: 'veth', name: 'mv0', peer: { name: 'mv1', netns: c!.path } });
      const link = await h.linkGet('mv0');
      const listed = await h.linkList();
      t.true(listed.some((l) => l.name === 'lo' && l.index === 1));
      t.is((await h.linkGet(link.index)).name, 'mv0');
      await h.linkSetNetns(link.index, b!.path);
      t.is(await h.linkFind('mv0'), undefined);
    });
    t.true(ipLinks(b!.path).some((l) => l.ifname === 'mv0'));
  });
});

test('kernel errors carry the errno name and the request', async (t) => {
  await withNetnses('lnk', 1, async ([ns]) => {
    await Handle.with(ns!.path, async (h) => {
      await h.linkAdd({ kind: 'bridge', name: 'dup0' });
      const dup = await t.throwsAsync(h.linkAdd({ kind: 'bridge', name: 'dup0' }), {
        instanceOf: NetlinkError,
      });
      t.is(dup?.code, 'EEXIST');
      t.regex(dup?.message ?? '', /add link dup0 \(bridge\)/);
      const missing = await t.throwsAsync(h.linkGet('nope0'), { instanceOf: NetlinkError });
      t.is(missing?.code, 'ENODEV');
      await t.throwsAsync(h.linkAdd({ kind: 'bridge', name: 'a/b' }), { message: /invalid interface name/ });
    });
  });
});

// This kernel may be built without the dummy driver: probe once, synchronously (ava takes declarations only
// before its first turn), in a throwaway namespace that ends with the probe, and skip with the reason.
const dummySupport =
  spawnSync('unshare', ['--net', 'ip', 'link', 'add', 'probe0', 'type', 'dummy'], { stdio: 'ignore' })
    .status === 0;
const dummyTest = dummySupport ? test : test.skip;

dummyTest(
  `dummy links${dummySupport ? '' : ' (skipped: this kernel has no dummy driver, EOPNOTSUPP)'}`,
  async (t) => {
    await withNetnses('lnk', 1, async ([ns]) => {
      await Handle.with(ns!.path, async (h) => {
        await h.linkAdd({ kind: 'dummy', name: 'dum0', mtu: 1400 });
        const dum = await h.linkGet('dum0');
        t.is(dum.info.kind, 'dummy');
        t.is(ipLinks(ns!.path).find((l) => l.ifname === 'dum0')?.linkinfo?.info_kind, 'dummy');
      });
    });
  },
);

test('several requests in flight on one socket get their own replies', async (t) => {
  await withNetnses('lnk', 1, async ([ns]) => {
    await Handle.with(ns!.path, async (h) => {
      const names = Array.from({ length: 20 }, (_, i) => `br${i}`);
      await Promise.all(names.map((name) => h.linkAdd({ kind: 'bridge', name })));
      const got = await Promise.all(names.map((name) => h.linkGet(name)));
      t.deepEqual(
        got.map((l) => l.name),
        names,
      );
      const results = await Promise.allSettled([h.linkGet('missing0'), h.linkGet('br3'), h.linkList()]);
      t.is(results[0].status, 'rejected');
      t.is(results[1].status === 'fulfilled' ? results[1].value.name : '', 'br3');
      t.is(results[2].status === 'fulfilled' ? results[2].value.length : 0, 21);
    });
  });
});

test('a request made right after a link add or delete (sent off the event loop) still reaches the kernel after it', async (t) => {
  await withNetnses('lnk', 1, async ([ns]) => {
    await Handle.with(ns!.path, async (h) => {
      for (let i = 0; i < 10; i++) {
        const name = `ord${i}`;
        const made = h.linkAdd({ kind: 'bridge', name });
        const found = h.linkGet(name); // not awaited between: the kernel must see the add first
        await made;
        const link = await found;
        t.is(link.name, name);
        const removed = h.linkDel(link.index);
        const gone = h.linkFind(name);
        await removed;
        t.is(await gone, undefined, `${name} is gone for the request made after its delete`);
      }
      const failed = h.linkAdd({ kind: 'bridge', name: 'lo' });
      const after = h.linkGet('lo');
      const err = await t.throwsAsync(failed, { instanceOf: NetlinkError });
      t.is(err?.code, 'EEXIST', 'a kernel refusal of an off-thread send still carries its errno');
      t.is((await after).name, 'lo');
    });
  });
});
