// The Networks service: its handlers over a test node (inspect's Containers map, rm refused while attached,
// prune), and the real agent serving it with its conf dir in the test's directory.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import type { NetworksClient } from '../../pkg/api/generated/tsnet/v1/Networks.ts';
import { type NetworkConnector, networksHandlers } from '../../pkg/api/networks.ts';
import { api } from '../../pkg/api/proto.ts';
import { EventBus } from '../../pkg/events/bus.ts';
import type { DockerNetworkInspect } from '../../pkg/network/inspect.ts';
import { listMasquerade } from '../../pkg/nft/index.ts';
import { startTestAgent } from '../helpers/agent.ts';
import { ipLinks, withNetnses } from '../helpers/netns.ts';
import { withTempDir } from '../helpers/tmp.ts';
import { type NodeWorld, withNodeWorld } from './world.ts';

type Handlers = ReturnType<typeof networksHandlers>;

/** Calls a unary handler as grpc-js would; rejects with the status it answered. */
function call<K extends keyof Handlers>(
  handlers: Handlers,
  name: K,
  request: unknown,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const handler = handlers[name] as unknown as (
      c: { request: unknown },
      cb: (err: grpc.ServiceError | null, value?: Record<string, unknown>) => void,
    ) => void;
    handler({ request }, (err, value) => (err ? reject(err) : resolve(value ?? {})));
  });
}

function handlersFor(w: NodeWorld, connector?: NetworkConnector): Handlers {
  return networksHandlers({
    store: w.store,
    networking: w.networking,
    events: new EventBus(),
    connector: () => connector,
  });
}

const createReq = (name: string, subnet: string) => ({
  name,
  driver: 'bridge',
  pools: [{ subnet, gateway: '', ipRange: '' }],
  options: {},
  labels: { tier: 'web' },
  internal: false,
  checkDuplicateOk: false,
});

test("inspect lists the attached containers; rm is refused while one is attached (Docker's words); prune keeps it", async (t) => {
  await withNodeWorld(1, async (w) => {
    const h = handlersFor(w);
    const { id } = await call(h, 'Create', createReq('busy', '10.79.0.0/24'));
    await call(h, 'Create', createReq('idle', '10.79.1.0/24'));
    const a = await w.networking.attach({
      containerId: 'e'.repeat(64),
      containerName: 'web1',
      netnsPath: w.others[0]!.path,
      network: 'busy',
      ifName: 'eth0',
      aliases: [],
      ports: [],
    });
    const inspect = JSON.parse(
      String((await call(h, 'Inspect', { network: 'busy' }))['json']),
    ) as DockerNetworkInspect;
    t.like(inspect, {
      Name: 'busy',
      Id: id,
      Driver: 'bridge',
      Scope: 'local',
      IPAM: { Driver: 'default', Config: [{ Subnet: '10.79.0.0/24', Gateway: '10.79.0.1' }] },
      Labels: { tier: 'web' },
    });
    t.like(inspect.Containers['e'.repeat(64)], {
      Name: 'web1',
      IPv4Address: `${a.ipAddress}/24`,
      MacAddress: a.macAddress,
    });
    const rm = await t.throwsAsync(call(h, 'Remove', { network: 'busy' }));
    t.is((rm as grpc.ServiceError).code, grpc.status.FAILED_PRECONDITION);
    t.is(
      (rm as grpc.ServiceError).details,
      `error while removing network: network busy id ${id} has active endpoints`,
    );
    const listed = (await call(h, 'List', { filters: ['type=custom'] }))['networks'] as {
      name: string;
      containers: number;
    }[];
    t.deepEqual(
      listed.map((n) => [n.name, n.containers]),
      [
        ['busy', 1],
        ['idle', 0],
      ],
    );
    t.deepEqual((await call(h, 'Prune', { filters: [] }))['deleted'], ['idle']);
    t.true(existsSync(join(w.confDir, 'tsnet-busy.conflist')), 'the attached network stays');
    t.false(existsSync(join(w.confDir, 'tsnet-idle.conflist')));
    const missing = await t.throwsAsync(call(h, 'Inspect', { network: 'nosuch' }));
    t.is((missing as grpc.ServiceError).code, grpc.status.NOT_FOUND);
    const noRuntime = await t.throwsAsync(
      call(h, 'Connect', { network: 'busy', container: 'x', aliases: [], ipv4Address: '' }),
    );
    t.is((noRuntime as grpc.ServiceError).code, grpc.status.UNAVAILABLE);
    // With the engine's connector the call goes to it.
    const seen: string[] = [];
    const h2 = handlersFor(w, {
      connect: async (c, n, o) => {
        seen.push(`connect ${c} ${n} ${o.aliases.join(',')} ${o.ipv4Address ?? ''}`);
      },
      disconnect: async (c, n, o) => {
        seen.push(`disconnect ${c} ${n} ${o.force}`);
      },
    });
    await call(h2, 'Connect', {
      network: 'busy',
      container: 'web2',
      aliases: ['db'],
      ipv4Address: '10.79.0.9',
    });
    await call(h2, 'Disconnect', { network: 'busy', container: 'web2', force: true });
    t.deepEqual(seen, ['connect web2 busy db 10.79.0.9', 'disconnect web2 busy true']);
  });
});

function networksClient(socket: string): NetworksClient {
  return new (api().Networks)(`unix://${socket}`, grpc.credentials.createInsecure());
}

function unary<T>(fn: (cb: (err: grpc.ServiceError | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

test('the agent serves Networks with --cni-conf-dir: the conf dir is untouched until a network is created', async (t) => {
  await withTempDir(async (dir) => {
    await withNetnses('netagent', 1, async ([ns]) => {
      const agent = startTestAgent(ns!.path, dir);
      try {
        const probe = await agent.connect();
        probe.close();
        const client = networksClient(agent.socket);
        try {
          const listed = await unary<{ networks: { name: string }[] }>((cb) =>
            client.List({ filters: [] }, cb),
          );
          t.deepEqual(
            listed.networks.map((n) => n.name),
            ['host', 'none', 'bridge'],
          );
          t.false(existsSync(join(dir, 'net.d')), 'listing writes nothing');
          await unary((cb) => client.Create(createReq('e2e', '10.81.0.0/24'), cb));
          t.deepEqual(readdirSync(join(dir, 'net.d')).sort(), [
            'tsnet-bridge.conflist',
            'tsnet-e2e.conflist',
          ]);
          const overlap = await t.throwsAsync(
            unary((cb) => client.Create(createReq('e2e2', '10.81.0.128/25'), cb)),
          );
          t.is((overlap as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
          t.regex(
            (overlap as grpc.ServiceError).details,
            /^Pool overlaps with other one on this address space/,
          );
          await unary((cb) => client.Remove({ network: 'e2e' }, cb));
          t.deepEqual(readdirSync(join(dir, 'net.d')), ['tsnet-bridge.conflist']);
        } finally {
          client.close();
        }
      } finally {
        await agent.stop();
      }
    });
  });
});

test('rm of a network nothing uses takes its masquerade and its bridge away: a new network takes the same subnet', async (t) => {
  await withNodeWorld(1, async (w) => {
    const h = handlersFor(w);
    const ctr = w.others[0]!;
    const attach = (network: string) =>
      w.networking.attach({
        containerId: 'f'.repeat(64),
        containerName: 'web1',
        netnsPath: ctr.path,
        network,
        ifName: 'eth0',
        aliases: [],
        ports: [],
      });
    const detach = (network: string) =>
      w.networking.detach({ containerId: 'f'.repeat(64), netnsPath: ctr.path, network, ifName: 'eth0' });
    await call(h, 'Create', createReq('old', '10.79.7.0/24'));
    await attach('old');
    const masqueraded = async () => (await listMasquerade(w.node.path)).map((m) => m.network);
    t.deepEqual(await masqueraded(), ['old']);
    const bridges = () => ipLinks(w.node.path).filter((l) => l.linkinfo?.info_kind === 'bridge');
    const oldBridges = bridges().map((l) => l.ifname);
    t.is(oldBridges.length, 1);
    await detach('old');
    await call(h, 'Remove', { network: 'old' });
    t.deepEqual(await masqueraded(), [], 'no masquerade left owned by the removed network');
    t.deepEqual(bridges(), [], 'its bridge is gone, as docker network rm removes br-<id>');
    // Docker Compose does this on every down + up: another network on the freed subnet.
    await call(h, 'Create', createReq('new', '10.79.7.0/24'));
    const a = await attach('new');
    t.regex(a.ipAddress ?? '', /^10\.79\.7\./);
    t.deepEqual(await masqueraded(), ['new']);
    await detach('new');
    await call(h, 'Remove', { network: 'new' });
  });
});
