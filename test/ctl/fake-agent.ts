// A fake agent for tsnetctl's tests: the real API server (startApiServer) on a temp socket, with Images and
// System handlers that answer canned but realistic data and stream progress as the agent does. It records
// what it received (a load's bytes as their SHA-256) so tests can check the client end to end.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { ImagesHandlers } from '../../pkg/api/generated/tsnet/v1/Images.ts';
import type { ProgressMessage } from '../../pkg/api/generated/tsnet/v1/ProgressMessage.ts';
import { api } from '../../pkg/api/proto.ts';
import { type ApiServer, startApiServer } from '../../pkg/api/server.ts';
import { systemHandlers } from '../../pkg/api/system.ts';
import { EventBus } from '../../pkg/events/bus.ts';

export const BUSYBOX_ID = `sha256:${'3f57d9401f8d'.padEnd(64, 'a')}`;
export const APP_ID = `sha256:${'9b2c71e0d4a5'.padEnd(64, 'b')}`;
export const DANGLING_ID = `sha256:${'0c1d2e3f4a5b'.padEnd(64, 'c')}`;
export const BUSYBOX_DIGEST = `sha256:${'d'.repeat(64)}`;
const DAY = 86_400;

export interface FakeAgent {
  readonly host: string;
  readonly events: EventBus;
  /** SHA-256 (hex) and size of every archive Load received. */
  readonly loaded: { sha256: string; bytes: number }[];
  readonly calls: string[];
}

const notFound = (what: string) => ({ code: grpc.status.NOT_FOUND, details: `No such image: ${what}` });

function inspectJson(name: string): string {
  return JSON.stringify({
    Id: BUSYBOX_ID,
    RepoTags: ['busybox:latest'],
    RepoDigests: [`busybox@${BUSYBOX_DIGEST}`],
    Created: '2024-05-01T10:00:00Z',
    Size: 4264000,
    Architecture: 'amd64',
    Os: 'linux',
    Config: { Cmd: ['sh'], Env: ['PATH=/bin'], Labels: null },
    RootFS: { Type: 'layers', Layers: [`sha256:${'e'.repeat(64)}`] },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
    _asked: name,
  });
}

/** A pull as the agent streams it: per-layer states with byte counts, then Digest and Status. */
function pullMessages(layers: string[]): ProgressMessage[] {
  const total = 2_130_000;
  const messages: ProgressMessage[] = [{ id: 'latest', status: 'Pulling from library/busybox' }];
  for (const id of layers) messages.push({ id, status: 'Pulling fs layer' });
  for (const step of [1, 2, 3, 4])
    for (const id of layers) messages.push({ id, status: 'Downloading', current: (total * step) / 4, total });
  for (const id of layers)
    messages.push(
      { id, status: 'Verifying Checksum' },
      { id, status: 'Download complete' },
      { id, status: 'Extracting', current: total, total },
      { id, status: 'Pull complete' },
    );
  messages.push(
    { status: `Digest: ${BUSYBOX_DIGEST}` },
    { status: 'Status: Downloaded newer image for busybox:latest' },
  );
  return messages;
}

async function streamSlowly(
  call: grpc.ServerWritableStream<unknown, ProgressMessage>,
  messages: ProgressMessage[],
) {
  for (const m of messages) {
    call.write(m);
    await new Promise((r) => setTimeout(r, 15));
  }
}

function imagesHandlers(agent: FakeAgent): ImagesHandlers {
  const now = Math.floor(Date.now() / 1000);
  return {
    List(call, callback) {
      const now = Math.floor(Date.now() / 1000);
      agent.calls.push(`List all=${call.request.all} filters=${call.request.filters.join(',')}`);
      callback(null, {
        images: [
          {
            id: BUSYBOX_ID,
            repoTags: ['busybox:latest', 'localhost:5000/tools/busybox:v1'],
            repoDigests: [`busybox@${BUSYBOX_DIGEST}`],
            createdUnix: now - 2 * DAY - 60,
            size: 4_264_000,
            containers: -1,
          },
          { id: APP_ID, repoTags: ['app:1.0'], createdUnix: now - 3 * 3600, size: 1_234, containers: -1 },
          { id: DANGLING_ID, createdUnix: now - 45 * 60, size: 987_654_321, containers: -1 },
        ],
      });
    },
    Inspect(call, callback) {
      if (call.request.image !== 'busybox') return callback(notFound(call.request.image));
      callback(null, { json: inspectJson(call.request.image) });
    },
    History(call, callback) {
      if (call.request.image !== 'busybox') return callback(notFound(call.request.image));
      callback(null, {
        entries: [
          {
            id: BUSYBOX_ID,
            createdUnix: now - 5 * DAY,
            createdBy: '/bin/sh -c #(nop)  CMD ["sh"] and a long tail that docker truncates',
            size: 0,
            emptyLayer: true,
          },
          {
            id: '<missing>',
            createdUnix: now - 5 * DAY,
            createdBy: '/bin/sh -c #(nop) ADD file:abc in /',
            size: 4_264_000,
          },
        ],
      });
    },
    Pull(call) {
      agent.calls.push(
        `Pull ${call.request.reference} platform=${call.request.platform} all=${call.request.allTags}`,
      );
      if (call.request.reference.includes('nosuch')) {
        call.emit('error', {
          code: grpc.status.NOT_FOUND,
          details: `manifest for ${call.request.reference} not found`,
        });
        return;
      }
      streamSlowly(call, pullMessages(['a3ed95caeb02', '5f70bf18a086'])).then(() => call.end());
    },
    Push(call) {
      agent.calls.push(`Push ${call.request.reference}`);
      const id = 'a3ed95caeb02';
      streamSlowly(call, [
        { status: `The push refers to repository [${call.request.reference}]` },
        { id, status: 'Preparing' },
        { id, status: 'Pushing', current: 1_000_000, total: 2_000_000 },
        { id, status: 'Pushed' },
        { status: `latest: digest: ${BUSYBOX_DIGEST} size: 527` },
      ]).then(() => call.end());
    },
    Tag(call, callback) {
      agent.calls.push(`Tag ${call.request.source} ${call.request.target}`);
      if (call.request.source !== 'busybox') return callback(notFound(call.request.source));
      callback(null, {});
    },
    Remove(call, callback) {
      agent.calls.push(
        `Remove ${call.request.image} force=${call.request.force} noPrune=${call.request.noPrune}`,
      );
      if (call.request.image === 'busybox')
        return callback(null, { untagged: ['busybox:latest'], deleted: [BUSYBOX_ID] });
      if (call.request.image === 'inuse')
        return callback({
          code: grpc.status.FAILED_PRECONDITION,
          details:
            'conflict: unable to remove repository reference "inuse" (must force) - container 1a2b is using its referenced image',
        });
      callback(notFound(call.request.image));
    },
    Prune(call, callback) {
      agent.calls.push(`Prune all=${call.request.all}`);
      callback(null, { deleted: [DANGLING_ID], spaceReclaimed: 987_654_321 });
    },
    Load(call) {
      const hash = createHash('sha256');
      let bytes = 0;
      call.on('data', (chunk: { data: Buffer }) => {
        hash.update(chunk.data);
        bytes += chunk.data.length;
      });
      call.on('end', () => {
        const sha256 = hash.digest('hex');
        agent.loaded.push({ sha256, bytes });
        call.write({ id: 'a3ed95caeb02', status: 'Loading layer', current: bytes, total: bytes });
        call.write({ status: 'Loaded image: busybox:latest' });
        call.write({ status: `Loaded image ID: sha256:${sha256}` });
        call.end();
      });
    },
    Save(call) {
      agent.calls.push(`Save ${call.request.images.join(',')}`);
      if (call.request.images.includes('nosuch')) {
        call.emit('error', notFound('nosuch'));
        return;
      }
      for (let i = 0; i < 4; i++) call.write({ data: Buffer.alloc(100_000, i) });
      call.end();
    },
    Import(call, callback) {
      const hash = createHash('sha256');
      let options = '';
      call.on('data', (chunk: { data: Buffer; reference: string; message: string; changes: string[] }) => {
        if (chunk.reference || chunk.message || chunk.changes.length)
          options = `${chunk.reference} ${chunk.message} ${chunk.changes.join(';')}`;
        hash.update(chunk.data);
      });
      call.on('end', () => {
        agent.calls.push(`Import ${options}`);
        callback(null, { id: `sha256:${hash.digest('hex')}` });
      });
    },
    Login(call, callback) {
      agent.calls.push(`Login ${call.request.server} ${call.request.username}:${call.request.password}`);
      if (call.request.password !== 'secret')
        return callback({
          code: grpc.status.UNAUTHENTICATED,
          details: 'Get "https://r/v2/": unauthorized: incorrect username or password',
        });
      callback(null, { status: 'Login Succeeded' });
    },
    Logout(call, callback) {
      agent.calls.push(`Logout ${call.request.server}`);
      callback(null, {});
    },
    Build(call) {
      call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'the fake agent does not build' });
    },
    Commit(_call, callback) {
      callback({ code: grpc.status.UNIMPLEMENTED, details: 'the fake agent does not commit' });
    },
  };
}

/** Runs `fn` against a fake agent listening on a socket in `dir`; the server is closed afterwards. */
export async function withFakeAgent<T>(dir: string, fn: (agent: FakeAgent) => Promise<T>): Promise<T> {
  const groupFile = join(dir, 'group');
  writeFileSync(groupFile, 'root:x:0:\n');
  const path = join(dir, 'api.sock');
  const agent: FakeAgent = { host: `unix://${path}`, events: new EventBus(), loaded: [], calls: [] };
  const info = async () => ({
    name: 'fake-node',
    dataDir: '/var/lib/tsnet',
    runDir: '/run/tsnet',
    images: 3,
    storageDriver: 'overlay',
    cgroupVersion: '1',
    runtime: 'runc',
    store: 'embedded',
    cpus: 2,
    memoryBytes: 4_123_456_789,
    insecureRegistries: ['127.0.0.0/8'],
  });
  const server: ApiServer = await startApiServer({
    path,
    groupFile,
    services: [
      [api().Images.service, imagesHandlers(agent)],
      [api().System.service, systemHandlers({ version: '9.9.9', events: agent.events, info })],
    ],
  });
  try {
    return await fn(agent);
  } finally {
    await server.close();
  }
}
