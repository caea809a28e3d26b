// The network store: conflists on disk in a temp conf dir, names and pools validated, Docker's defaults.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { parseConfList } from '../../pkg/network/cni-exec.ts';
import { pluginDirsUnder } from '../../pkg/network/conflist.ts';
import {
  type CreateNetworkRequest,
  InvalidNetworkError,
  NetworkExistsError,
  NetworkNotFoundError,
  NetworkStore,
} from '../../pkg/network/store.ts';
import { DIST_CNI } from '../helpers/plugin.ts';
import { withTempDir } from '../helpers/tmp.ts';

async function withStore(fn: (store: NetworkStore, dir: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const store = new NetworkStore({
      confDir: join(dir, 'net.d'),
      pluginDirs: pluginDirsUnder(join(dir, 'data'), join(dir, 'run', 'subnet.env')),
    });
    await store.ensureBuiltins();
    await fn(store, dir);
  });
}

const req = (name: string, extra: Partial<CreateNetworkRequest> = {}): CreateNetworkRequest => ({
  name,
  driver: 'bridge',
  pools: [],
  options: {},
  labels: {},
  internal: false,
  ...extra,
});

test('built-ins: bridge (tsnet0, 172.17.0.0/16, masquerade), host, none; tsnet only in a cluster', async (t) => {
  await withStore(async (store, dir) => {
    t.deepEqual(
      (await store.list()).map((n) => [n.name, n.driver]),
      [
        ['host', 'host'],
        ['none', 'null'],
        ['bridge', 'bridge'],
      ],
    );
    const bridge = await store.find('bridge');
    t.deepEqual(bridge.pools, [{ subnet: '172.17.0.0/16', gateway: '172.17.0.1' }]);
    const plugin = bridge.list?.plugins[0] as Record<string, unknown>;
    t.like(plugin, { type: 'tsnet-bridge', bridge: 'tsnet0', ipMasq: true, isDefaultGateway: true });
    t.is(bridge.file, join(dir, 'net.d', 'tsnet-bridge.conflist'));
    // In a cluster (subnet.env written by the agent) the overlay network appears.
    mkdirSync(join(dir, 'run'));
    writeFileSync(
      join(dir, 'run', 'subnet.env'),
      'TSNET_NETWORK=10.244.0.0/16\nTSNET_SUBNET=10.244.3.1/24\nTSNET_MTU=1450\nTSNET_IPMASQ=true\n',
    );
    await store.ensureBuiltins();
    const tsnet = await store.find('tsnet');
    t.is(tsnet.driver, 'overlay');
    t.deepEqual(tsnet.pools, [{ subnet: '10.244.3.0/24', gateway: '10.244.3.1' }]);
    t.is(tsnet.list?.plugins[0]?.type, 'tsnet-vxlan');
    // The cluster network's range is not handed out to a local network.
    await t.throwsAsync(store.create(req('clash', { pools: [{ subnet: '10.244.0.0/24' }] })), {
      instanceOf: InvalidNetworkError,
      message: /Pool overlaps/,
    });
  });
});

test('create writes a valid conflist named tsnet-<name>.conflist that our plugins can run', async (t) => {
  await withStore(async (store, dir) => {
    const n = await store.create(
      req('web', {
        pools: [{ subnet: '10.80.0.0/16', gateway: '10.80.0.254', ipRange: '10.80.5.0/24' }],
        labels: { team: 'a' },
        options: { 'com.docker.network.driver.mtu': '1400' },
      }),
    );
    t.regex(n.id, /^[0-9a-f]{64}$/);
    const file = join(dir, 'net.d', 'tsnet-web.conflist');
    const list = parseConfList(readFileSync(file), file);
    t.is(list.name, 'web');
    t.is(list.cniVersion, '1.1.0');
    const plugin = list.plugins[0] as Record<string, unknown>;
    t.like(plugin, {
      type: 'tsnet-bridge',
      mtu: 1400,
      capabilities: { portMappings: true, ips: true, mac: true },
    });
    t.like(plugin['ipam'], {
      type: 'tsnet-ipam',
      ranges: [
        [
          {
            subnet: '10.80.0.0/16',
            gateway: '10.80.0.254',
            rangeStart: '10.80.5.1',
            rangeEnd: '10.80.5.254',
          },
        ],
      ],
    });
    for (const p of list.plugins) t.true(readdirSync(DIST_CNI).includes(p.type), `${p.type} is one of ours`);
    t.deepEqual((await store.find(n.id.slice(0, 12))).labels, { team: 'a' }, 'found by ID prefix');
    t.is((await store.find(n.id)).name, 'web');
    t.deepEqual(readdirSync(join(dir, 'net.d')).sort(), ['tsnet-bridge.conflist', 'tsnet-web.conflist']);
  });
});

test('pools: overlapping subnets refused, defaults picked like Docker, gateway and ip-range checked', async (t) => {
  await withStore(async (store) => {
    await store.create(req('one', { pools: [{ subnet: '10.90.0.0/24' }] }));
    const overlap = await t.throwsAsync(store.create(req('two', { pools: [{ subnet: '10.90.0.0/16' }] })), {
      instanceOf: InvalidNetworkError,
    });
    t.regex(overlap?.message ?? '', /^Pool overlaps with other one on this address space: .* of one$/);
    await t.throwsAsync(store.create(req('b17', { pools: [{ subnet: '172.17.5.0/24' }] })), {
      message: /overlaps 172\.17\.0\.0\/16 of bridge/,
    });
    t.deepEqual((await store.create(req('auto1'))).pools, [
      { subnet: '172.18.0.0/16', gateway: '172.18.0.1' },
    ]);
    t.deepEqual((await store.create(req('auto2'))).pools, [
      { subnet: '172.19.0.0/16', gateway: '172.19.0.1' },
    ]);
    await t.throwsAsync(store.create(req('hb', { pools: [{ subnet: '10.91.0.1/24' }] })), {
      message: 'invalid subnet 10.91.0.1/24: it should be 10.91.0.0/24',
    });
    await t.throwsAsync(
      store.create(req('gw', { pools: [{ subnet: '10.92.0.0/24', gateway: '10.93.0.1' }] })),
      {
        message: /no matching subnet for gateway 10\.93\.0\.1/,
      },
    );
    await t.throwsAsync(
      store.create(req('rng', { pools: [{ subnet: '10.92.0.0/24', ipRange: '10.92.1.0/25' }] })),
      {
        message: /no matching subnet for range/,
      },
    );
    await t.throwsAsync(store.create(req('nosub', { pools: [{ gateway: '10.92.0.1' }] })), {
      message: /needs a --subnet/,
    });
    t.deepEqual(
      (await store.list()).map((n) => n.name),
      ['host', 'none', 'auto1', 'auto2', 'bridge', 'one'],
      'nothing was written for a refused create',
    );
  });
});

test('names: taken and built-in names, bad names and unknown drivers are refused; find says not found', async (t) => {
  await withStore(async (store) => {
    await store.create(req('dup'));
    await t.throwsAsync(store.create(req('dup')), {
      instanceOf: NetworkExistsError,
      message: 'network with name dup already exists',
    });
    for (const name of ['bridge', 'host', 'none', 'tsnet']) {
      await t.throwsAsync(store.create(req(name)), { instanceOf: NetworkExistsError });
    }
    for (const name of ['../etc', '-x', '', 'a/b', 'x'.repeat(63)]) {
      await t.throwsAsync(store.create(req(name)), { instanceOf: InvalidNetworkError }, JSON.stringify(name));
    }
    await t.throwsAsync(store.create(req('drv', { driver: 'weave' })), {
      message: /plugin "weave" not found/,
    });
    await t.throwsAsync(store.create(req('ovl', { driver: 'overlay' })), {
      message: /needs the node to be in a cluster/,
    });
    await t.throwsAsync(store.find('nosuch'), {
      instanceOf: NetworkNotFoundError,
      message: 'network nosuch not found',
    });
    const dup = await store.find('dup');
    await store.remove(dup);
    await t.throwsAsync(store.find('dup'), { instanceOf: NetworkNotFoundError });
    await t.throwsAsync(store.remove(await store.find('bridge')), {
      message: 'bridge is a pre-defined network and cannot be removed',
    });
  });
});

test('concurrent creates never share a subnet: defaults differ, the same explicit subnet is refused once', async (t) => {
  await withStore(async (store) => {
    const auto = await Promise.all([
      store.create(req('c1')),
      store.create(req('c2')),
      store.create(req('c3')),
    ]);
    t.is(new Set(auto.map((n) => n.pools[0]?.subnet)).size, 3);
    const same = await Promise.allSettled([
      store.create(req('s1', { pools: [{ subnet: '10.95.0.0/24' }] })),
      store.create(req('s2', { pools: [{ subnet: '10.95.0.0/24' }] })),
    ]);
    t.deepEqual(same.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  });
});

test('scopeOf: overlay networks (tsnet and user -d overlay) are cluster-scoped, the rest and unknown names local', async (t) => {
  await withStore(async (store, dir) => {
    mkdirSync(join(dir, 'run'));
    writeFileSync(
      join(dir, 'run', 'subnet.env'),
      'TSNET_NETWORK=10.244.0.0/16\nTSNET_SUBNET=10.244.3.1/24\nTSNET_MTU=1450\nTSNET_IPMASQ=true\n',
    );
    await store.create(req('app_net', { driver: 'overlay' }));
    await store.create(req('local_net'));
    t.is(store.scopeOf('app_net'), 'cluster');
    t.is(store.scopeOf('tsnet'), 'cluster');
    t.is(store.scopeOf('local_net'), 'local');
    t.is(store.scopeOf('bridge'), 'local');
    t.is(store.scopeOf('host'), 'local');
    t.is(store.scopeOf('nosuch'), 'local');
    t.is(store.scopeOf('../etc'), 'local');
    // what list() says agrees
    for (const n of await store.list()) t.is(store.scopeOf(n.name), n.scope, n.name);
  });
});
