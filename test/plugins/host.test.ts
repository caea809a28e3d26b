// tsnet-host, the built plugin run inside a test "node" namespace (nsenter --net), which it takes for the
// host: ADD reports that namespace's interfaces and addresses and changes nothing; a container namespace of
// its own is refused.
import test from 'ava';
import { ip, ipJson, nsexec, type TestNetns, withNetnses } from '../helpers/netns.ts';
import { runPlugin, runPluginOk } from '../helpers/plugin.ts';

const conf = { cniVersion: '1.1.0', name: 'host-net', type: 'tsnet-host' };

interface IpAddr {
  ifname: string;
  address?: string;
  addr_info: { local: string; prefixlen: number; scope: string }[];
}

/** A node with one uplink (198.18.20.2/24, default route via .1) and a second link with IPv4 and IPv6. */
function buildNode(node: TestNetns): void {
  // No IPv6 duplicate address detection in this namespace: its end (link-local addresses leaving "tentative",
  // their local routes appearing) would change the node between the two snapshots on its own.
  nsexec(node.path, 'sysctl', [
    '-qw',
    'net.ipv6.conf.default.accept_dad=0',
    'net.ipv6.conf.all.accept_dad=0',
  ]);
  ip(node.path, 'link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', 'uplink0p');
  ip(node.path, 'link', 'add', 'side0', 'type', 'veth', 'peer', 'name', 'side0p');
  for (const l of ['uplink0', 'uplink0p', 'side0', 'side0p']) ip(node.path, 'link', 'set', l, 'up');
  ip(node.path, 'addr', 'add', '198.18.20.2/24', 'dev', 'uplink0');
  ip(node.path, 'addr', 'add', '198.18.21.2/24', 'dev', 'side0');
  ip(node.path, 'addr', 'add', 'fd00:18::2/64', 'dev', 'side0', 'nodad');
  ip(node.path, 'route', 'add', 'default', 'via', '198.18.20.1');
}

function snapshot(ns: TestNetns): string {
  return JSON.stringify([
    ipJson(ns.path, 'link', 'show'),
    ipJson(ns.path, 'addr', 'show'),
    ipJson(ns.path, 'route', 'show', 'table', 'all'),
  ]);
}

test("ADD reports the node's interfaces and global addresses and changes nothing", async (t) => {
  await withNetnses('host', 1, async ([node]) => {
    buildNode(node!);
    const before = snapshot(node!);
    const out = await runPluginOk('tsnet-host', {
      command: 'ADD',
      containerId: 'c1',
      ifname: 'eth0',
      netns: node!.path,
      nodeNetns: node!.path,
      config: conf,
    });
    t.is(snapshot(node!), before, 'nothing changed in the node namespace');

    const result = out.json as {
      interfaces: { name: string; mac?: string; sandbox?: string }[];
      ips: { interface: number; address: string; gateway?: string }[];
    };
    // The oracle: every up, non-loopback link and its global addresses, as iproute2 sees them.
    const seen = ipJson<(IpAddr & { flags: string[] })[]>(node!.path, 'addr', 'show').filter(
      (l) => l.ifname !== 'lo' && l.flags.includes('UP'),
    );
    t.deepEqual(result.interfaces.map((i) => i.name).sort(), seen.map((l) => l.ifname).sort());
    for (const iface of result.interfaces) {
      t.is(iface.sandbox, undefined, `${iface.name} is a host interface`);
      t.is(iface.mac, seen.find((l) => l.ifname === iface.name)?.address);
    }
    const reported = result.ips.map((i) => `${result.interfaces[i.interface]!.name} ${i.address}`).sort();
    const expected = seen
      .flatMap((l) =>
        l.addr_info.filter((a) => a.scope === 'global').map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`),
      )
      .sort();
    t.deepEqual(reported, expected);
    t.true(reported.includes('uplink0 198.18.20.2/24') && reported.includes('side0 fd00:18::2/64'));
    t.is(result.ips.find((i) => i.address === '198.18.20.2/24')?.gateway, '198.18.20.1');
    t.is(result.ips.find((i) => i.address === '198.18.21.2/24')?.gateway, undefined);

    const check = await runPlugin('tsnet-host', {
      command: 'CHECK',
      containerId: 'c1',
      ifname: 'eth0',
      netns: node!.path,
      nodeNetns: node!.path,
      config: { ...conf, prevResult: out.json },
    });
    t.is(check.code, 0, check.stdout);
  });
});

test("ADD and CHECK refuse a namespace that is not the node's with error 4; DEL accepts it", async (t) => {
  await withNetnses('host', 2, async ([node, container]) => {
    const call = { containerId: 'c1', ifname: 'eth0', nodeNetns: node!.path, config: conf };
    for (const command of ['ADD', 'CHECK'] as const) {
      const out = await runPlugin('tsnet-host', { ...call, command, netns: container!.path });
      t.is(out.code, 1, command);
      t.is(out.json?.['code'], 4);
      t.is(out.json?.['msg'], `CNI_NETNS ${container!.path} is not the node's network namespace`);
    }
    const missing = await runPlugin('tsnet-host', { ...call, command: 'ADD', netns: '/run/netns/tsnt-nope' });
    t.is(missing.json?.['code'], 4);
    t.regex(String(missing.json?.['msg']), /not a network namespace/);
    t.deepEqual(
      ipJson<{ ifname: string }[]>(container!.path, 'link', 'show').map((l) => l.ifname),
      ['lo'],
      'the refused container namespace is untouched',
    );
    for (const netns of [container!.path, node!.path, '/run/netns/tsnt-nope', '']) {
      const del = await runPlugin('tsnet-host', { ...call, command: 'DEL', netns });
      t.is(del.code, 0, `DEL with CNI_NETNS=${JSON.stringify(netns)}`);
      t.is(del.stdout, '');
    }
  });
});
