// Containers.Stats, Top, CopyFrom, CopyTo and Export through a real gRPC server on a unix socket and the
// generated client stubs, over a ContainerLookup of test handles: a directory as a stopped container's rootfs,
// and a busybox container under conmon for the live stats stream.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { containersFsHandlers } from '../../pkg/api/containers-fs.ts';
import type { ArchiveChunk__Output } from '../../pkg/api/generated/tsnet/v1/ArchiveChunk.ts';
import type { ContainerStats__Output } from '../../pkg/api/generated/tsnet/v1/ContainerStats.ts';
import type { ContainersClient } from '../../pkg/api/generated/tsnet/v1/Containers.ts';
import { api } from '../../pkg/api/proto.ts';
import { startApiServer } from '../../pkg/api/server.ts';
import {
  type ContainerHandle,
  type ContainerLookup,
  ContainerNotFoundError,
} from '../../pkg/container/handle.ts';
import { runFixtureContainer, whyContainersCannotRun } from '../helpers/container.ts';
import { fixtureHandle, stoppedHandle } from '../helpers/handle.ts';
import { makeTar, readTar } from '../helpers/tar.ts';
import { withTempDir } from '../helpers/tmp.ts';

function lookupOf(handles: ContainerHandle[]): ContainerLookup {
  return {
    beforeNextStart: () => () => undefined,
    async get(ref) {
      const found = handles.find((h) => h.name === ref || h.id.startsWith(ref));
      if (!found) throw new ContainerNotFoundError(ref);
      return found;
    },
    waitExit: () => new Promise(() => undefined),
  };
}

async function withClient(
  dir: string,
  handles: ContainerHandle[],
  fn: (client: ContainersClient) => Promise<void>,
): Promise<void> {
  writeFileSync(join(dir, 'group'), 'root:x:0:\n');
  const handlers = containersFsHandlers({
    lookup: lookupOf(handles),
    scratchDir: dir,
    statsIntervalMs: 200,
  });
  const server = await startApiServer({
    path: join(dir, 'api.sock'),
    services: [[api().Containers.service, handlers as unknown as grpc.UntypedServiceImplementation]],
    groupFile: join(dir, 'group'),
  });
  const client = new (api().Containers)(`unix://${server.path}`, grpc.credentials.createInsecure());
  try {
    await fn(client);
  } finally {
    client.close();
    await server.close();
  }
}

/** The whole tar of a CopyFrom or Export call (rejects with the call's status). */
async function archiveOf(call: grpc.ClientReadableStream<ArchiveChunk__Output>): Promise<Readable> {
  const chunks: Buffer[] = [];
  for await (const chunk of call) chunks.push((chunk as ArchiveChunk__Output).data);
  return Readable.from([Buffer.concat(chunks)]);
}

function copyTo(client: ContainersClient, container: string, path: string, tar: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = client.CopyTo((err) => (err ? reject(err) : resolve()));
    call.write({ options: { container, path } });
    call.write({ data: tar });
    call.end();
  });
}

function layRootfs(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'hostname'), 'fixture\n');
  return rootfs;
}

test('CopyFrom, CopyTo and Export stream tars; errors keep their codes', async (t) => {
  await withTempDir(async (dir) => {
    const rootfs = layRootfs(dir);
    await withClient(dir, [stoppedHandle(rootfs)], async (client) => {
      const etc = await readTar(await archiveOf(client.CopyFrom({ container: 'fixture', path: '/etc' })));
      t.is(etc.get('etc/hostname')?.content, 'fixture\n');

      await copyTo(client, 'fixture', '/etc', await makeTar([{ name: 'motd', content: 'hi' }]));
      t.is(readFileSync(join(rootfs, 'etc', 'motd'), 'utf8'), 'hi');
      const refused = await t.throwsAsync(
        copyTo(client, 'fixture', '/etc', await makeTar([{ name: '../x', content: 'x' }])),
      );
      t.is((refused as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);

      const exported = await readTar(await archiveOf(client.Export({ container: 'fixture' })));
      t.true(exported.has('etc/hostname') && exported.has('etc/motd'));

      const missing = await t.throwsAsync(
        archiveOf(client.CopyFrom({ container: 'fixture', path: '/nope' })),
      );
      t.is((missing as grpc.ServiceError).code, grpc.status.NOT_FOUND);
      t.regex((missing as Error).message, /Could not find the file \/nope in container fixture/);
      const unknown = await t.throwsAsync(archiveOf(client.Export({ container: 'other' })));
      t.is((unknown as grpc.ServiceError).code, grpc.status.NOT_FOUND);

      const top = await t.throwsAsync(
        new Promise((resolve, reject) =>
          client.Top({ container: 'fixture', psArgs: [] }, (err, res) => (err ? reject(err) : resolve(res))),
        ),
      );
      t.is((top as grpc.ServiceError).code, grpc.status.FAILED_PRECONDITION);
      t.regex((top as Error).message, /is not running/);
    });
  });
});

const skipReason = whyContainersCannotRun({ conmon: true });
const containerTest = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`containers-fs: ${skipReason}`, () => undefined);

containerTest(
  'Stats streams reports of a running container until cancelled; no_stream sends one',
  async (t) => {
    const c = await runFixtureContainer({ args: ['sleep', '100000'], resources: { memory: 32 << 20 } });
    try {
      await withTempDir(async (dir) => {
        await withClient(dir, [fixtureHandle(c, { name: 'live' })], async (client) => {
          const one: ContainerStats__Output[] = [];
          for await (const r of client.Stats({ container: 'live', noStream: true })) one.push(r);
          t.is(one.length, 1);
          t.like(one[0], { id: c.id, name: 'live', memoryLimit: 32 << 20, pids: 1 });

          const call = client.Stats({ container: 'live' });
          const reports: ContainerStats__Output[] = [];
          await new Promise<void>((resolve) => {
            call.on('data', (r: ContainerStats__Output) => {
              reports.push(r);
              if (reports.length === 2) call.cancel();
            });
            call.on('error', () => resolve());
            call.on('end', () => resolve());
          });
          t.is(reports.length, 2);
          t.true((reports[1]?.timeUnixNano ?? 0) > (reports[0]?.timeUnixNano ?? 0));
        });
      });
    } finally {
      await c.cleanup();
    }
  },
);
