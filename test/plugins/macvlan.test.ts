// tsnet-macvlan, the built plugin run inside a test "node" namespace (nsenter --net) whose veth plays the
// node's uplink (this kernel has no dummy): containers ping each other over bridge-mode macvlans, every mode
// builds the link iproute2 reports, failures leave nothing behind, DEL and GC release the addresses.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { type IpLink, ip, ipLinks, type TestNetns, withNetnses } from '../helpers/netns.ts';
import { type PluginCall, runPlugin, runPluginOk } from '../helpers/plugin.ts';

const MASTER = 'uplink0';

/** The node: uplink0 (with its veth peer, both up, so it has carrier), an address and a default route. */
function buildNode(node: TestNetns): void {
  ip(node.path, 'link', 'add', MASTER, 'type', 'veth', 'peer', 'name', `${MASTER}p`);
  ip(node.path, 'link', 'set', MASTER, 'up');
  ip(node.path, 'link', 'set', `${MASTER}p`, 'up');
  ip(node.path, 'addr', 'add', '198.18.30.2/24', 'dev', MASTER);
  ip(node.path, 'route', 'add', 'default', 'via', '198.18.30.1');
}

interface World {
  node: TestNetns;
  containers: TestNetns[];
  dataDir: string;
}

async function withWorld(containers: number, fn: (w: World) => Promise<void>): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tsnt-macvlan-ipam-'));
  try {
    await withNetnses('mvl', containers + 1, async ([node, ...rest]) => {
      buildNode(node!);
      await fn({ node: node!, containers: rest, dataDir });
    });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function netconf(w: World, extra: Record<string, unknown> = {}, ipam: Record<string, unknown> = {}) {
  return {
    cniVersion: '1.1.0',
    name: 'mvnet',
    type: 'tsnet-macvlan',
    master: MASTER,
    ipam: {
      type: 'tsnet-ipam',
      dataDir: w.dataDir,
      ranges: [[{ subnet: '198.18.40.0/24', gateway: '198.18.40.1' }]],
      routes: [{ dst: '0.0.0.0/0' }],
      ...ipam,
    },
    ...extra,
  };
}

function call(w: World, container: TestNetns, id: string, command: PluginCall['command'], config: object) {
  return {
    command,
    containerId: id,
    ifname: 'eth0',
    netns: container.path,
    nodeNetns: w.node.path,
    config: config as Record<string, unknown>,
  };
}

/** Allocation files of the network (host-local layout: one file per IP). */
function allocations(w: World): string[] {
  try {
    return readdirSync(join(w.dataDir, 'mvnet')).filter(
      (f) => !f.startsWith('last_reserved_ip') && f !== 'lock',
    );
  } catch {
    return [];
  }
}

function link(container: TestNetns, name = 'eth0'): IpLink | undefined {
  return ipLinks(container.path).find((l) => l.ifname === name);
}

interface AddResult {
  interfaces: { name: string; mac: string; sandbox?: string }[];
  ips: { interface: number; address: string; gateway?: string }[];
  routes: { dst: string; gw?: string }[];
}

test('two bridge-mode macvlan containers ping each other; CHECK passes; DEL removes links and addresses', async (t) => {
  await withWorld(2, async (w) => {
    const [c1, c2] = w.containers as [TestNetns, TestNetns];
    const conf = netconf(w);
    const r1 = (await runPluginOk('tsnet-macvlan', call(w, c1, 'c1', 'ADD', conf)))
      .json as unknown as AddResult;
    const r2 = (await runPluginOk('tsnet-macvlan', call(w, c2, 'c2', 'ADD', conf)))
      .json as unknown as AddResult;

    for (const [c, r] of [
      [c1, r1],
      [c2, r2],
    ] as const) {
      const l = link(c)!;
      t.is(l.linkinfo?.info_kind, 'macvlan');
      t.is(l.linkinfo?.info_data?.['mode'], 'bridge');
      t.true(l.flags.includes('UP'));
      t.not(l.link_netnsid, undefined, 'the parent lives in another namespace (the node)');
      t.deepEqual(r.interfaces, [{ name: 'eth0', mac: l.address!, sandbox: c.path }]);
      t.is(r.ips.length, 1);
      t.is(r.ips[0]!.interface, 0);
      t.is(r.ips[0]!.gateway, '198.18.40.1');
      t.regex(r.ips[0]!.address, /^198\.18\.40\.\d+\/24$/);
      const routes = JSON.parse(
        execFileSync('nsenter', [`--net=${c.path}`, 'ip', '-j', 'route', 'show', 'default'], {
          encoding: 'utf8',
        }),
      ) as { gateway: string; dev: string }[];
      t.deepEqual(
        routes.map((x) => `${x.gateway} ${x.dev}`),
        ['198.18.40.1 eth0'],
      );
    }
    t.not(r1.ips[0]!.address, r2.ips[0]!.address);
    t.deepEqual(
      ipLinks(w.node.path)
        .map((l) => l.ifname)
        .sort(),
      ['lo', MASTER, `${MASTER}p`].sort(),
      'nothing was created in the node namespace',
    );

    const peer = r2.ips[0]!.address.split('/')[0]!;
    execFileSync('nsenter', [`--net=${c1.path}`, 'ping', '-c1', '-W2', peer], { stdio: 'ignore' });
    t.pass(`c1 reached ${peer}`);

    const check = await runPlugin('tsnet-macvlan', call(w, c1, 'c1', 'CHECK', { ...conf, prevResult: r1 }));
    t.is(check.code, 0, check.stdout);

    t.is(allocations(w).length, 2);
    for (const [c, id] of [
      [c1, 'c1'],
      [c2, 'c2'],
    ] as const) {
      const del = await runPlugin('tsnet-macvlan', call(w, c, id, 'DEL', conf));
      t.is(del.code, 0, del.stdout);
      t.is(del.stdout, '');
      t.is(link(c), undefined, `${id}: eth0 is gone`);
      const again = await runPlugin('tsnet-macvlan', call(w, c, id, 'DEL', conf));
      t.is(again.code, 0, 'DEL is idempotent');
    }
    t.deepEqual(allocations(w), []);
  });
});

test('vepa, private and passthru build the link iproute2 reports; passthru allows one per master', async (t) => {
  await withWorld(2, async (w) => {
    const [c1, c2] = w.containers as [TestNetns, TestNetns];
    for (const mode of ['vepa', 'private', 'passthru'] as const) {
      const conf = netconf(w, { mode });
      const out = await runPlugin('tsnet-macvlan', call(w, c1, 'c1', 'ADD', conf));
      t.is(out.code, 0, `${mode}: ${out.stdout}`);
      t.is(link(c1)?.linkinfo?.info_data?.['mode'], mode);
      if (mode === 'passthru') {
        const second = await runPlugin('tsnet-macvlan', call(w, c2, 'c2', 'ADD', conf));
        t.is(second.code, 1, 'a second macvlan on a passthru master is refused');
        t.regex(String(second.json?.['details']), /passthru/);
        t.is(link(c2), undefined, 'nothing left in the refused container');
        t.is(allocations(w).length, 1, 'the refused ADD allocated nothing');
      }
      const check = await runPlugin(
        'tsnet-macvlan',
        call(w, c1, 'c1', 'CHECK', { ...conf, prevResult: out.json }),
      );
      t.is(check.code, 0, `${mode} CHECK: ${check.stdout}`);
      const wrongMode = mode === 'vepa' ? 'private' : 'vepa';
      const mismatch = await runPlugin(
        'tsnet-macvlan',
        call(w, c1, 'c1', 'CHECK', { ...netconf(w, { mode: wrongMode }), prevResult: out.json }),
      );
      t.not(mismatch.code, 0, `CHECK notices mode ${mode} is not ${wrongMode}`);
      await runPluginOk('tsnet-macvlan', call(w, c1, 'c1', 'DEL', conf));
      t.is(link(c1), undefined);
    }
    t.deepEqual(allocations(w), []);
  });
});

test('master defaults to the default route interface; MTU and MAC are applied; L2 only without ipam', async (t) => {
  await withWorld(1, async (w) => {
    const [c1] = w.containers as [TestNetns];
    const { master: _unused, ...noMaster } = netconf(w, {
      mtu: 1400,
      capabilities: { mac: true },
      runtimeConfig: { mac: '02:00:5e:10:20:30' },
    });
    const out = await runPluginOk('tsnet-macvlan', call(w, c1, 'c1', 'ADD', noMaster));
    const l = link(c1)!;
    t.is(l.mtu, 1400);
    t.is(l.address, '02:00:5e:10:20:30');
    t.is((out.json as unknown as AddResult).interfaces[0]!.mac, '02:00:5e:10:20:30');
    const masterIndex = ipLinks(w.node.path).find((x) => x.ifname === MASTER)!.ifindex;
    const parent = JSON.parse(
      execFileSync('nsenter', [`--net=${c1.path}`, 'ip', '-j', '-d', 'link', 'show', 'eth0'], {
        encoding: 'utf8',
      }),
    ) as { link_index?: number; link?: string }[];
    t.is(parent[0]?.link_index, masterIndex, 'the macvlan hangs off uplink0, the default route interface');
    await runPluginOk('tsnet-macvlan', call(w, c1, 'c1', 'DEL', noMaster));

    const { ipam: _none, ...l2 } = netconf(w);
    const l2out = await runPluginOk('tsnet-macvlan', call(w, c1, 'c1', 'ADD', l2));
    t.deepEqual((l2out.json as unknown as AddResult).ips, []);
    t.true(link(c1)!.flags.includes('UP'));
    await runPluginOk('tsnet-macvlan', call(w, c1, 'c1', 'DEL', l2));
    t.is(link(c1), undefined);
  });
});

test('linkInContainer: the master is looked up and the macvlan made inside the container', async (t) => {
  await withWorld(1, async (w) => {
    const [c1] = w.containers as [TestNetns];
    ip(c1.path, 'link', 'add', 'inner0', 'type', 'veth', 'peer', 'name', 'inner0p');
    ip(c1.path, 'link', 'set', 'inner0', 'up');
    const conf = netconf(w, { master: 'inner0', linkInContainer: true });
    const out = await runPluginOk('tsnet-macvlan', call(w, c1, 'c1', 'ADD', conf));
    const l = link(c1)!;
    t.is(l.linkinfo?.info_kind, 'macvlan');
    t.is(l.link_netnsid, undefined, 'the parent is in the same namespace');
    const check = await runPlugin(
      'tsnet-macvlan',
      call(w, c1, 'c1', 'CHECK', { ...conf, prevResult: out.json }),
    );
    t.is(check.code, 0, check.stdout);
    // Without linkInContainer, inner0 does not exist on the node.
    const wrong = await runPlugin(
      'tsnet-macvlan',
      call(w, c1, 'c2', 'ADD', { ...conf, linkInContainer: false }),
    );
    t.is(wrong.json?.['code'], 7);
    t.regex(String(wrong.json?.['msg']), /master interface inner0 not found in the node namespace/);
    await runPluginOk('tsnet-macvlan', call(w, c1, 'c1', 'DEL', conf));
    t.is(link(c1), undefined);
    t.deepEqual(allocations(w), []);
  });
});

test('failed ADDs leave nothing: IPAM exhausted, MTU above the master, taken ifname, bad netns', async (t) => {
  await withWorld(2, async (w) => {
    const [c1, c2] = w.containers as [TestNetns, TestNetns];
    const tiny = {
      ranges: [[{ subnet: '198.18.40.0/24', rangeStart: '198.18.40.10', rangeEnd: '198.18.40.10' }]],
    };
    await runPluginOk('tsnet-macvlan', call(w, c1, 'c1', 'ADD', netconf(w, {}, tiny)));
    const exhausted = await runPlugin('tsnet-macvlan', call(w, c2, 'c2', 'ADD', netconf(w, {}, tiny)));
    t.is(exhausted.code, 1);
    t.is(link(c2), undefined, 'the macvlan made before IPAM failed was rolled back');
    t.deepEqual(allocations(w), ['198.18.40.10']);

    const mtu = await runPlugin('tsnet-macvlan', call(w, c2, 'c2', 'ADD', netconf(w, { mtu: 9000 })));
    t.is(mtu.json?.['code'], 7);
    t.regex(String(mtu.json?.['msg']), /cannot exceed its master's MTU/);

    const taken = await runPlugin('tsnet-macvlan', call(w, c1, 'c1b', 'ADD', netconf(w)));
    t.is(taken.json?.['code'], 4, 'c1 already has eth0');

    const missing = await runPlugin('tsnet-macvlan', {
      ...call(w, c2, 'c2', 'ADD', netconf(w)),
      netns: '/run/netns/tsnt-mvl-missing',
    });
    t.is(missing.json?.['code'], 4);

    const badMode = await runPlugin(
      'tsnet-macvlan',
      call(w, c2, 'c2', 'ADD', netconf(w, { mode: 'source' })),
    );
    t.is(badMode.json?.['code'], 7);

    t.is(link(c2), undefined);
    t.deepEqual(allocations(w), ['198.18.40.10'], 'only the first ADD holds an address');
    await runPluginOk('tsnet-macvlan', call(w, c1, 'c1', 'DEL', netconf(w, {}, tiny)));
    t.deepEqual(allocations(w), []);
  });
});

test('DEL releases the address when the namespace is gone; GC and STATUS reach IPAM and the master', async (t) => {
  await withWorld(1, async (w) => {
    const [c1] = w.containers as [TestNetns];
    const conf = netconf(w);
    await runPluginOk('tsnet-macvlan', call(w, c1, 'c1', 'ADD', conf));
    const gone = await runPlugin('tsnet-macvlan', {
      ...call(w, c1, 'c1', 'DEL', conf),
      netns: '/run/netns/tsnt-mvl-gone',
    });
    t.is(gone.code, 0, gone.stdout);
    t.deepEqual(allocations(w), []);
    ip(c1.path, 'link', 'del', 'eth0'); // what the runtime's namespace removal would have done

    await runPluginOk('tsnet-macvlan', call(w, c1, 'c2', 'ADD', conf));
    t.is(allocations(w).length, 1);
    const keep = await runPlugin('tsnet-macvlan', {
      ...call(w, c1, '', 'GC', {
        ...conf,
        'cni.dev/valid-attachments': [{ containerID: 'c2', ifname: 'eth0' }],
      }),
      containerId: undefined,
    });
    t.is(keep.code, 0, keep.stdout);
    t.is(allocations(w).length, 1, 'a valid attachment is kept');
    const collect = await runPlugin('tsnet-macvlan', {
      ...call(w, c1, '', 'GC', { ...conf, 'cni.dev/valid-attachments': [] }),
      containerId: undefined,
    });
    t.is(collect.code, 0, collect.stdout);
    t.deepEqual(allocations(w), [], 'GC released the unlisted attachment');

    const ok = await runPlugin('tsnet-macvlan', {
      ...call(w, c1, '', 'STATUS', conf),
      containerId: undefined,
    });
    t.is(ok.code, 0, ok.stdout);
    const down = await runPlugin('tsnet-macvlan', {
      ...call(w, c1, '', 'STATUS', netconf(w, { master: 'nosuch0' })),
      containerId: undefined,
    });
    t.is(down.json?.['code'], 50);
    t.regex(String(down.json?.['msg']), /nosuch0/);
    await runPluginOk('tsnet-macvlan', call(w, c1, 'c2', 'DEL', conf));
  });
});

test('DEL deletes only a macvlan on the configured master: never another link named CNI_IFNAME, never in the node namespace', async (t) => {
  await withWorld(2, async (w) => {
    const [c1, c2] = w.containers as [TestNetns, TestNetns];
    const conf = netconf(w);
    await runPluginOk('tsnet-macvlan', call(w, c1, 'c1', 'ADD', conf));
    const kinds = (c: TestNetns) =>
      ipLinks(c.path)
        .map((l) => `${l.ifname}:${l.linkinfo?.info_kind ?? ''}`)
        .sort();

    // In c2: a bridge, a macvlan on another node interface, a macvlan on a parent inside c2: none is ours.
    ip(c2.path, 'link', 'add', 'eth0', 'type', 'bridge');
    ip(w.node.path, 'link', 'add', 'other0', 'type', 'veth', 'peer', 'name', 'other0p');
    ip(w.node.path, 'link', 'add', 'eth1', 'link', 'other0', 'netns', c2.name, 'type', 'macvlan');
    ip(c2.path, 'link', 'add', 'inner0', 'type', 'veth', 'peer', 'name', 'inner0p');
    ip(c2.path, 'link', 'add', 'eth2', 'link', 'inner0', 'type', 'macvlan');
    const before = kinds(c2);
    for (const ifname of ['eth0', 'eth1', 'eth2']) {
      const r = await runPlugin('tsnet-macvlan', {
        ...call(w, c2, `stranger-${ifname}`, 'DEL', conf),
        ifname,
      });
      t.is(r.code, 0, r.stdout);
    }
    t.deepEqual(kinds(c2), before, "c2's links that ADD did not make stay");

    // c1's attachment ID with c2 as CNI_NETNS: the address is released, c2's eth0 stays.
    t.is(allocations(w).length, 1);
    await runPluginOk('tsnet-macvlan', call(w, c2, 'c1', 'DEL', conf));
    t.deepEqual(allocations(w), []);
    t.deepEqual(kinds(c2), before);

    // CNI_NETNS is the node's own namespace, which has an eth0 that is a macvlan of the master: left alone;
    // and ADD there is refused.
    ip(w.node.path, 'link', 'add', 'eth0', 'link', MASTER, 'type', 'macvlan');
    const nodeBefore = kinds(w.node);
    const inNode = await runPlugin('tsnet-macvlan', call(w, w.node, 'c1', 'DEL', conf));
    t.is(inNode.code, 0, inNode.stdout);
    const addInNode = await runPlugin('tsnet-macvlan', {
      ...call(w, w.node, 'n1', 'ADD', conf),
      ifname: 'eth5',
    });
    t.is(addInNode.json?.['code'], 4, addInNode.stdout);
    t.deepEqual(kinds(w.node), nodeBefore, "the node's links stay");
    t.deepEqual(allocations(w), []);

    // The real attachment is still removed.
    await runPluginOk('tsnet-macvlan', call(w, c1, 'c1', 'DEL', conf));
    t.is(link(c1), undefined);
  });
});
