// Runtime networks end to end in a test node namespace: a bridge network's conflist run by the libcni-like
// executor through ContainerNetworking, with iproute2, nft and TCP clients as the oracles.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { NetworkAttachment } from '../../pkg/container/networking.ts';
import { HostPortError } from '../../pkg/network/host-ports.ts';
import { type IpLink, ipJson, ipLinks, nsexec } from '../helpers/netns.ts';
import { startTcpServer, tcpRequest } from '../nft/world.ts';
import { linkOtherHost, type NodeWorld, withNodeWorld } from './world.ts';

const CTR1 = 'a'.repeat(64);
const CTR2 = 'b'.repeat(64);

async function createNet(w: NodeWorld, name: string, subnet = '10.77.0.0/24') {
  return w.store.create({
    name,
    driver: 'bridge',
    pools: [{ subnet }],
    options: {},
    labels: {},
    internal: false,
  });
}

function attach(
  w: NodeWorld,
  network: string,
  id: string,
  netnsPath: string,
  extra: Partial<Parameters<NodeWorld['networking']['attach']>[0]> = {},
): Promise<NetworkAttachment> {
  return w.networking.attach({
    containerId: id,
    containerName: `ctr-${id.slice(0, 4)}`,
    netnsPath,
    network,
    ifName: 'eth0',
    aliases: [],
    ports: [],
    ...extra,
  });
}

function nft(w: NodeWorld): string {
  return nsexec(w.node.path, '/usr/sbin/nft', ['list', 'ruleset']);
}

function linkNames(path: string): string[] {
  return ipLinks(path)
    .map((l: IpLink) => l.ifname)
    .sort();
}

test('two containers on a bridge network reach each other; the attachment says their address, gateway and MAC', async (t) => {
  await withNodeWorld(2, async (w) => {
    const [c1, c2] = [w.others[0]!, w.others[1]!];
    await createNet(w, 'appnet');
    const a1 = await attach(w, 'appnet', CTR1, c1.path, { aliases: ['web'] });
    const a2 = await attach(w, 'appnet', CTR2, c2.path, { ipv4: '10.77.0.50', mac: '02:42:0a:4d:00:32' });
    t.is(a2.macAddress, '02:42:0a:4d:00:32', '--mac-address is honoured');
    await t.throwsAsync(attach(w, 'appnet', CTR2, c2.path), {
      message: 'endpoint with name ctr-bbbb already exists in network appnet (eth0)',
    });
    t.is(a1.network, 'appnet');
    t.regex(a1.networkId, /^[0-9a-f]{64}$/);
    t.is(a1.gateway, '10.77.0.1');
    t.is(a1.prefixLength, 24);
    t.deepEqual(a1.aliases, ['web']);
    t.is(a2.ipAddress, '10.77.0.50', '--ip is honoured');
    const eth0 = ipJson<{ address: string; addr_info: { local: string }[] }[]>(
      c1.path,
      'addr',
      'show',
      'eth0',
    )[0]!;
    t.is(eth0.address, a1.macAddress ?? '');
    t.true(eth0.addr_info.some((a) => a.local === a1.ipAddress));
    t.notThrows(() => nsexec(c1.path, 'ping', ['-c', '1', '-W', '3', a2.ipAddress!]));
    t.notThrows(() => nsexec(c2.path, 'ping', ['-c', '1', '-W', '3', a1.ipAddress!]));
    // The inspect view of the network lists both, from the result cache.
    const endpoints = await w.networking.endpointsOf(await w.store.find('appnet'));
    t.deepEqual(endpoints.map((e) => [e.containerId, e.containerName, e.ipv4Address]).sort(), [
      [CTR1, 'ctr-aaaa', `${a1.ipAddress}/24`],
      [CTR2, 'ctr-bbbb', '10.77.0.50/24'],
    ]);
    t.deepEqual(endpoints.find((e) => e.containerId === CTR1)?.aliases, ['web']);

    await w.networking.detach({ containerId: CTR1, netnsPath: c1.path, network: 'appnet', ifName: 'eth0' });
    t.false(linkNames(c1.path).includes('eth0'), 'detach removes the interface');
    await w.networking.detach({ containerId: CTR1, netnsPath: c1.path, network: 'appnet', ifName: 'eth0' });
    t.deepEqual(
      (await w.networking.endpointsOf(await w.store.find('appnet'))).map((e) => e.containerId),
      [CTR2],
    );
  });
});

test("a published port is reachable from another host and from the node's 127.0.0.1; hostPort 0 gets a free port", async (t) => {
  await withNodeWorld(2, async (w) => {
    const [ctr, host] = [w.others[0]!, w.others[1]!];
    linkOtherHost(w.node, host);
    const a = await attach(w, 'bridge', CTR1, ctr.path, {
      ports: [
        { hostIp: '', hostPort: 18080, containerPort: 8080, protocol: 'tcp' },
        { hostIp: '', hostPort: 0, containerPort: 9090, protocol: 'tcp' },
      ],
    });
    t.regex(a.ipAddress ?? '', /^172\.17\./, 'the default bridge network is docker0-like');
    t.is(a.ports[0]?.hostPort, 18080);
    const picked = a.ports[1]?.hostPort ?? 0;
    t.true(picked > 0 && picked !== 18080, `a free port was picked: ${picked}`);
    const server = await startTcpServer(ctr, 8080, 'hello');
    const server2 = await startTcpServer(ctr, 9090, 'other');
    try {
      const remote = await tcpRequest(host, '198.18.0.1', 18080);
      t.regex(remote.text, /^hello /, `from another host: ${remote.text}`);
      const local = await tcpRequest(w.node, '127.0.0.1', 18080);
      t.regex(local.text, /^hello /, `from the node's localhost: ${local.text}`);
      const viaPicked = await tcpRequest(host, '198.18.0.1', picked);
      t.regex(viaPicked.text, /^other /, `through the picked port: ${viaPicked.text}`);
    } finally {
      await server.stop();
      await server2.stop();
    }
    await w.networking.detach({ containerId: CTR1, netnsPath: ctr.path, network: 'bridge', ifName: 'eth0' });
    t.false((await tcpRequest(host, '198.18.0.1', 18080)).ok, 'unpublished after detach');
  });
});

test("a taken host port is refused with Docker's message and leaves nothing behind", async (t) => {
  await withNodeWorld(2, async (w) => {
    const [c1, c2] = [w.others[0]!, w.others[1]!];
    await attach(w, 'bridge', CTR1, c1.path, {
      ports: [{ hostIp: '', hostPort: 18080, containerPort: 80, protocol: 'tcp' }],
    });
    const before = {
      links: linkNames(w.node.path),
      nft: nft(w),
      cache: readdirSync(join(w.cacheDir, 'results')),
    };
    // Taken by another container.
    const byContainer = await t.throwsAsync(
      attach(w, 'bridge', CTR2, c2.path, {
        ports: [{ hostIp: '', hostPort: 18080, containerPort: 80, protocol: 'tcp' }],
      }),
      { instanceOf: HostPortError },
    );
    t.is(byContainer?.message, 'Bind for 0.0.0.0:18080 failed: port is already allocated');
    // Taken by a process of the node.
    const holder = await startTcpServer(w.node, 18081, 'node');
    try {
      const byProcess = await t.throwsAsync(
        attach(w, 'bridge', CTR2, c2.path, {
          ports: [{ hostIp: '', hostPort: 18081, containerPort: 80, protocol: 'tcp' }],
        }),
        { instanceOf: HostPortError },
      );
      t.is(byProcess?.message, 'Bind for 0.0.0.0:18081 failed: port is already allocated');
    } finally {
      await holder.stop();
    }
    t.deepEqual(linkNames(w.node.path), before.links, 'no veth left on the node');
    t.deepEqual(linkNames(c2.path), ['lo'], 'no interface in the container');
    t.is(nft(w), before.nft, 'the ruleset is unchanged');
    t.deepEqual(readdirSync(join(w.cacheDir, 'results')), before.cache, 'no cache entry');
  });
});

test("the result cache is libcni's: <cache>/results/<network>-<id>-<ifname>, cniCacheV1 with the conflist in base64", async (t) => {
  await withNodeWorld(1, async (w) => {
    const ctr = w.others[0]!;
    const net = await createNet(w, 'cachenet');
    const a = await attach(w, 'cachenet', CTR1, ctr.path, {
      ports: [{ hostIp: '', hostPort: 18090, containerPort: 80, protocol: 'tcp' }],
    });
    const file = join(w.cacheDir, 'results', `cachenet-${CTR1}-eth0`);
    const entry = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    t.is(entry['kind'], 'cniCacheV1');
    t.is(entry['containerId'], CTR1);
    t.is(entry['ifName'], 'eth0');
    t.is(entry['networkName'], 'cachenet');
    t.is(entry['netns'], ctr.path);
    t.deepEqual(entry['cniArgs'], [
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAME', 'ctr-aaaa'],
    ]);
    t.is(
      Buffer.from(String(entry['config']), 'base64').toString('utf8'),
      readFileSync(net.file!, 'utf8'),
      'config is the conflist bytes',
    );
    t.deepEqual((entry['capabilityArgs'] as Record<string, unknown>)['portMappings'], [
      { hostPort: 18090, containerPort: 80, protocol: 'tcp' },
    ]);
    const result = entry['result'] as { cniVersion: string; ips: { address: string }[] };
    t.is(result.cniVersion, '1.1.0');
    t.is(result.ips[0]?.address, `${a.ipAddress}/24`);
    await w.networking.detach({
      containerId: CTR1,
      netnsPath: ctr.path,
      network: 'cachenet',
      ifName: 'eth0',
    });
    t.false(existsSync(file), 'DEL removes the cache entry');
  });
});

test('GC removes the attachments the valid list does not name and keeps the others', async (t) => {
  await withNodeWorld(2, async (w) => {
    const [c1, c2] = [w.others[0]!, w.others[1]!];
    await createNet(w, 'gcnet');
    await attach(w, 'gcnet', CTR1, c1.path);
    const kept = await attach(w, 'gcnet', CTR2, c2.path, {
      ports: [{ hostIp: '', hostPort: 18095, containerPort: 80, protocol: 'tcp' }],
    });
    await w.networking.collectGarbage([{ containerId: CTR2, network: 'gcnet', ifName: 'eth0' }]);
    t.false(linkNames(c1.path).includes('eth0'), 'the stale attachment is gone');
    t.false(existsSync(join(w.cacheDir, 'results', `gcnet-${CTR1}-eth0`)));
    t.true(linkNames(c2.path).includes('eth0'), 'the valid one stays');
    t.true(nft(w).includes(`${CTR2}@bridge`) || nft(w).includes(`${CTR2}@gcnet`), 'its published port stays');
    const ipamDir = join(w.dir, 'data', 'cni', 'networks', 'gcnet');
    const leased = readdirSync(ipamDir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
    t.deepEqual(leased, [kept.ipAddress], 'only the valid attachment keeps an address');
  });
});

test('GC detaches what a removed network left, with the conflist the cache kept', async (t) => {
  await withNodeWorld(1, async (w) => {
    const ctr = w.others[0]!;
    const net = await createNet(w, 'gone');
    await attach(w, 'gone', CTR1, ctr.path);
    await w.store.remove(net);
    await w.networking.collectGarbage([]);
    t.false(linkNames(ctr.path).includes('eth0'), 'the interface is gone');
    t.false(existsSync(join(w.cacheDir, 'results', `gone-${CTR1}-eth0`)), 'so is the cache entry');
  });
});

test('in a cluster the tsnet network attaches through tsnet-vxlan with an address of the node subnet', async (t) => {
  await withNodeWorld(1, async (w) => {
    const ctr = w.others[0]!;
    writeFileSync(
      join(w.dir, 'run', 'subnet.env'),
      'TSNET_NETWORK=10.244.0.0/16\nTSNET_SUBNET=10.244.7.1/24\nTSNET_MTU=1450\nTSNET_IPMASQ=true\n',
    );
    const a = await attach(w, 'tsnet', CTR1, ctr.path);
    t.regex(a.ipAddress ?? '', /^10\.244\.7\.\d+$/);
    t.is(a.gateway, '10.244.7.1');
    const eth0 = ipLinks(ctr.path).find((l) => l.ifname === 'eth0');
    t.is(eth0?.mtu, 1450, 'the overlay MTU');
    t.true(existsSync(join(w.confDir, 'tsnet-tsnet.conflist')), 'its conflist is on disk');
    await w.networking.detach({ containerId: CTR1, netnsPath: ctr.path, network: 'tsnet', ifName: 'eth0' });
    t.false(linkNames(ctr.path).includes('eth0'));
  });
});
