// The Volumes gRPC service through a real tsnet-agent: Docker's verbs, status codes for the mistakes
// (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION while in use), volume events, and volumes and their
// uses still there after the agent restarts.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { Registry } from 'prom-client';
import { ApiService } from '../../pkg/agent/api.ts';
import { VolumeService } from '../../pkg/agent/volumes.ts';
import type { VolumesClient } from '../../pkg/api/generated/tsnet/v1/Volumes.ts';
import { api } from '../../pkg/api/proto.ts';
import { pollUntil } from '../../pkg/cluster/exec.ts';
import { silentLogger } from '../../pkg/log/index.ts';
import { VolumeStore } from '../../pkg/volume/store.ts';
import { startTestAgent } from '../helpers/agent.ts';
import { withNetnses } from '../helpers/netns.ts';
import { withTempDir } from '../helpers/tmp.ts';

const CID = 'e'.repeat(64);

type Unary<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown;

function call<Req, Res>(client: VolumesClient, method: Unary<Req, Res>, req: Req): Promise<Res> {
  return new Promise((resolve, reject) =>
    method.call(client, req, (err, res) => (err ? reject(err) : resolve(res as Res))),
  );
}

async function callFails(
  client: VolumesClient,
  method: Unary<never, unknown>,
  req: unknown,
): Promise<grpc.ServiceError> {
  try {
    await call(client, method as Unary<unknown, unknown>, req);
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('the call succeeded');
}

test('volume create/ls/inspect/rm/prune through the agent, with Docker messages and status codes', async (t) => {
  await withNetnses('vol', 1, async ([ns]) =>
    withTempDir(async (dir) => {
      const dataDir = join(dir, 'data');
      let agent = startTestAgent(ns!.path, dir);
      let agentClient = await agent.connect().catch((err: unknown) => {
        t.log(agent.log());
        throw err;
      });
      const volumesAt = (socket: string) =>
        new (api().Volumes)(`unix://${socket}`, grpc.credentials.createInsecure());
      let client = volumesAt(agent.socket);
      try {
        const events = agentClient.events({
          // from before the first create: held events are replayed, so the stream's start does not race the calls
          sinceUnixNano: String(BigInt(Date.now() - 1000) * 1_000_000n),
          filters: ['type=volume'],
        });
        const seen: string[] = [];
        events.on('data', (e: { action: string; id: string }) => seen.push(`${e.action} ${e.id}`));
        events.on('error', () => undefined);

        const created = await call(client, client.Create, { name: 'web-data', labels: { app: 'web' } });
        t.like(created, {
          name: 'web-data',
          driver: 'local',
          scope: 'local',
          mountpoint: join(dataDir, 'volumes', 'web-data', '_data'),
          labels: { app: 'web' },
          refCount: 0,
        });
        t.true(existsSync(join(dataDir, 'volumes', 'web-data', '_data')));
        // idempotent
        t.is((await call(client, client.Create, { name: 'web-data' })).name, 'web-data');
        const anon = await call(client, client.Create, {});
        t.regex(anon.name, /^[0-9a-f]{64}$/);

        await pollUntil('the volume events', async () => (seen.length >= 2 ? true : undefined), {
          timeoutMs: 10_000,
        });
        t.deepEqual(seen, ['create web-data', `create ${anon.name}`]);
        events.cancel();

        const inspected = JSON.parse((await call(client, client.Inspect, { name: 'web-data' })).json);
        t.like(inspected, {
          Name: 'web-data',
          Driver: 'local',
          Scope: 'local',
          Labels: { app: 'web' },
          Options: {},
        });

        const bad = await callFails(client, client.Create, { name: 'x' });
        t.is(bad.code, grpc.status.INVALID_ARGUMENT);
        t.regex(bad.details, /^create x: "x" includes invalid characters for a local volume name/);
        t.is(
          (await callFails(client, client.Create, { name: 'v2', driver: 'nfs' })).code,
          grpc.status.INVALID_ARGUMENT,
        );
        t.is(
          (await callFails(client, client.List, { filters: ['colour=red'] })).code,
          grpc.status.INVALID_ARGUMENT,
        );
        const missing = await callFails(client, client.Inspect, { name: 'nope' });
        t.is(missing.code, grpc.status.NOT_FOUND);
        t.is(missing.details, 'get nope: no such volume');
        t.is((await callFails(client, client.Remove, { name: 'nope' })).code, grpc.status.NOT_FOUND);
        await call(client, client.Remove, { name: 'nope', force: true });

        const listed = await call(client, client.List, { filters: ['label=app=web'] });
        t.deepEqual(
          listed.volumes.map((v) => v.name),
          ['web-data'],
        );

        // a container's use, as the engine records it (the agent reads the store on every call)
        await (await VolumeStore.open(join(dataDir, 'volumes'))).acquire('web-data', CID);
        t.is((await call(client, client.List, { filters: ['name=web'] })).volumes[0]?.refCount, 1);
        const inUse = await callFails(client, client.Remove, { name: 'web-data', force: true });
        t.is(inUse.code, grpc.status.FAILED_PRECONDITION);
        t.is(inUse.details, `remove web-data: volume is in use - [${CID}]`);

        // the agent restarts: the volumes and the use are still there
        client.close();
        agentClient.close();
        await agent.stop();
        agent = startTestAgent(ns!.path, dir);
        agentClient = await agent.connect();
        client = volumesAt(agent.socket);
        t.deepEqual(
          (await call(client, client.List, {})).volumes.map((v) => v.name).sort(),
          [anon.name, 'web-data'].sort(),
        );
        t.is(
          (await callFails(client, client.Remove, { name: 'web-data' })).code,
          grpc.status.FAILED_PRECONDITION,
        );

        const pruned = await call(client, client.Prune, {});
        t.deepEqual(pruned.deleted, [anon.name]);
        t.deepEqual((await call(client, client.Prune, { all: true })).deleted, []);
        await (await VolumeStore.open(join(dataDir, 'volumes'))).release('web-data', CID);
        await call(client, client.Remove, { name: 'web-data' });
        t.deepEqual(readdirSync(join(dataDir, 'volumes')), []);
      } finally {
        client.close();
        agentClient.close();
        await agent.stop();
      }
    }),
  );
});

test('before the store opens, Volumes calls answer UNAVAILABLE and the engine side rejects; then ready', async (t) => {
  await withTempDir(async (dir) => {
    const ctx = {
      signal: new AbortController().signal,
      log: silentLogger,
      status: { health: () => ({ healthy: true, live: true, services: {} }), registry: new Registry() },
      fatal: () => undefined,
    };
    const socket = join(dir, 'run', 'tsnet.sock');
    const apiService = new ApiService({
      path: socket,
      nodeName: 'n1',
      version: '1.0.0',
      dataDir: dir,
      runDir: join(dir, 'run'),
    });
    const volumes = new VolumeService({ dataDir: join(dir, 'data'), api: apiService });
    t.false(volumes.health().ready);
    await apiService.start(ctx);
    const client = new (api().Volumes)(`unix://${socket}`, grpc.credentials.createInsecure());
    try {
      const early = await callFails(client, client.List, {});
      t.is(early.code, grpc.status.UNAVAILABLE);
      t.is(early.details, 'the volume store is not open yet');
      await t.throwsAsync(volumes.containerVolumes.release(CID, [], false), { message: /not open yet/ });
      await volumes.start(ctx);
      t.true(volumes.health().ready);
      t.deepEqual((await call(client, client.List, {})).volumes, []);
      const resolved = await volumes.containerVolumes.resolveMounts(
        { Image: 'img', HostConfig: { Binds: ['v1:/data'] } },
        join(dir, 'run'), // an image without /data
        { containerId: CID },
      );
      t.deepEqual(
        resolved.inspect.map((m) => m.Name),
        ['v1'],
      );
      t.is((await call(client, client.List, {})).volumes[0]?.refCount, 1);
    } finally {
      client.close();
      await apiService.stop();
      await volumes.stop();
    }
  });
});
