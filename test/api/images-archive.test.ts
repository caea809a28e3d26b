// Images.Load, Save and Import through a real gRPC server on a unix socket and the generated client stubs.
import { execFile } from 'node:child_process';
import { createReadStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { pack } from 'tar-stream';
import type { ImagesClient } from '../../pkg/api/generated/tsnet/v1/Images.ts';
import type { ProgressMessage__Output } from '../../pkg/api/generated/tsnet/v1/ProgressMessage.ts';
import { archiveHandlers } from '../../pkg/api/images-archive.ts';
import { api } from '../../pkg/api/proto.ts';
import { startApiServer } from '../../pkg/api/server.ts';
import { LocalContentStore } from '../../pkg/content/local.ts';
import { EventBus } from '../../pkg/events/bus.ts';
import { ImageCatalog } from '../../pkg/image/catalog.ts';
import { parseManifest } from '../../pkg/image/manifest.ts';
import { formatPlatform, hostPlatform } from '../../pkg/image/platform.ts';
import { LocalImageStore } from '../../pkg/image/store.ts';
import { OverlaySnapshotter } from '../../pkg/snapshot/overlay.ts';
import { writeBusyboxLayout } from '../helpers/registry.ts';
import { withTempDir } from '../helpers/tmp.ts';

const run = promisify(execFile);

interface World {
  client: ImagesClient;
  content: LocalContentStore;
  images: LocalImageStore;
  events: EventBus;
  dir: string;
}

async function withWorld(fn: (w: World) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'group'), 'root:x:0:\n');
    mkdirSync(join(dir, 'scratch'));
    const content = new LocalContentStore(join(dir, 'content'));
    const images = new LocalImageStore(join(dir, 'images'));
    const events = new EventBus();
    const catalog = new ImageCatalog({
      content,
      images,
      snapshots: await OverlaySnapshotter.open(join(dir, 'snapshots')),
    });
    const server = await startApiServer({
      path: join(dir, 'api.sock'),
      services: [
        [
          api().Images.service,
          archiveHandlers({ catalog: () => catalog, events, scratchDir: join(dir, 'scratch') }),
        ],
      ],
      groupFile: join(dir, 'group'),
    });
    const client = new (api().Images)(`unix://${server.path}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 << 20,
    });
    try {
      await fn({ client, content, images, events, dir });
    } finally {
      client.close();
      await server.close();
    }
  });
}

/** Streams `file` to Load; resolves with every progress message and the final status. */
function load(
  client: ImagesClient,
  file: string,
): Promise<{ messages: ProgressMessage__Output[]; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const call = client.Load();
    const messages: ProgressMessage__Output[] = [];
    call.on('data', (m: ProgressMessage__Output) => messages.push(m));
    call.on('error', (error: grpc.ServiceError) => resolve({ messages, error }));
    call.on('end', () => resolve({ messages }));
    const source = createReadStream(file, { highWaterMark: 256 << 10 });
    source.on('data', (data) => {
      if (!call.write({ data })) {
        source.pause();
        call.once('drain', () => source.resume());
      }
    });
    source.on('end', () => call.end());
  });
}

function save(client: ImagesClient, images: string[], format = ''): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const call = client.Save({ images, format });
    call.on('data', (c: { data: Buffer }) => chunks.push(c.data));
    call.on('error', reject);
    call.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function importTar(
  client: ImagesClient,
  options: { reference?: string; changes?: string[]; message?: string },
  data: Buffer,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const call = client.Import((err, response) => (err ? reject(err) : resolve(response!.id)));
    call.write({ ...options });
    for (let at = 0; at < data.length; at += 100_000) call.write({ data: data.subarray(at, at + 100_000) });
    call.end();
  });
}

/** A small tar from entries (header, content), built in memory: test rootfs tars are small. */
async function tarOf(entries: [Parameters<ReturnType<typeof pack>['entry']>[0], Buffer?][]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => p.on('end', () => resolve()));
  for (const [header, data] of entries) p.entry(header, data ?? Buffer.alloc(0));
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

const rootfsTar = () =>
  tarOf([
    [{ name: 'bin/', type: 'directory', mode: 0o755 }],
    [{ name: 'bin/busybox', mode: 0o755 }, readFileSync('/usr/bin/busybox')],
    [{ name: 'bin/sh', type: 'symlink', linkname: 'busybox' }],
  ]);

const escapingTar = () =>
  tarOf([
    [{ name: 'ok' }, Buffer.from('fine')],
    [{ name: '../escape' }, Buffer.from('bad')],
  ]);

async function skopeoDockerArchive(dir: string): Promise<string> {
  await writeBusyboxLayout(join(dir, 'layout'), 'v1', [formatPlatform(hostPlatform())]);
  const file = join(dir, 'docker.tar');
  await run('skopeo', ['copy', `oci:${join(dir, 'layout')}:v1`, `docker-archive:${file}:busybox:v1`]);
  return file;
}

test('Load streams progress and ends with "Loaded image: NAME"; Save streams an archive skopeo reads', async (t) => {
  await withWorld(async ({ client, images, events, dir }) => {
    const loadEvents: string[] = [];
    events.subscribe(new Map(), 0n, (e) => loadEvents.push(`${e.type} ${e.action} ${e.attributes['name']}`));
    const file = await skopeoDockerArchive(dir);
    const { messages, error } = await load(client, file);
    t.is(error, undefined);
    t.is(messages.at(-1)?.status, 'Loaded image: busybox:v1');
    t.true(messages.some((m) => m.status === 'Loading layer' && m.id.length === 12 && m.current === m.total));
    t.truthy(await images.get('busybox:v1'));
    t.deepEqual(loadEvents, ['image load busybox:v1']);

    const saved = join(dir, 'saved.tar');
    writeFileSync(saved, await save(client, ['busybox:v1']));
    const original = JSON.parse((await run('skopeo', ['inspect', `docker-archive:${file}`])).stdout) as {
      Layers: string[];
    };
    const again = JSON.parse((await run('skopeo', ['inspect', `docker-archive:${saved}`])).stdout) as {
      Layers: string[];
    };
    t.deepEqual(again.Layers, original.Layers);
  });
});

const openFds = () => readdirSync('/proc/self/fd').length;

test('a Save the client cancels stops on the agent: no blob reader stays open', async (t) => {
  await withWorld(async ({ client, dir }) => {
    const file = await skopeoDockerArchive(dir);
    t.is((await load(client, file)).error, undefined);
    await save(client, ['busybox:v1']); // warm: every lazily opened descriptor is open now
    const before = openFds();
    const cancelled = await new Promise<grpc.ServiceError>((resolve) => {
      const call = client.Save({ images: ['busybox:v1'] });
      call.once('data', () => call.cancel());
      call.on('error', resolve);
    });
    t.is(cancelled.code, grpc.status.CANCELLED);
    let now = openFds();
    for (let i = 0; i < 100 && now > before; i++) {
      await new Promise((r) => setTimeout(r, 50));
      now = openFds();
    }
    t.true(now <= before, `${now - before} descriptors still open after the cancelled save`);
    t.true((await save(client, ['busybox:v1'])).length > 0, 'the agent still saves');
  });
});

test('errors map to status codes with one-line messages; a bad archive stores nothing', async (t) => {
  await withWorld(async ({ client, content, images, dir }) => {
    const bad = join(dir, 'bad.tar');
    writeFileSync(bad, Buffer.alloc(4096, 7));
    const { messages, error } = await load(client, bad);
    t.is(error?.code, grpc.status.INVALID_ARGUMENT);
    t.regex(error?.details ?? '', /^archive is not a valid tar stream/);
    t.notRegex(error?.details ?? '', /\n/);
    t.is(messages.at(-1)?.error, error?.details);
    t.deepEqual(await content.list(), []);
    t.deepEqual(await images.list(), []);

    const missing = await save(client, ['nothere:v1']).then(
      () => undefined,
      (err: grpc.ServiceError) => err,
    );
    t.is(missing?.code, grpc.status.NOT_FOUND);
    t.is(missing?.details, 'No such image: nothere:v1');
    t.is(missing?.metadata.get('tsnet-agent-error')[0], '1');
    const format = await save(client, ['x'], 'zip').then(
      () => undefined,
      (err: grpc.ServiceError) => err,
    );
    t.is(format?.code, grpc.status.INVALID_ARGUMENT);

    const badChange = await importTar(client, { changes: ['FROM x'] }, await rootfsTar()).then(
      () => undefined,
      (err: grpc.ServiceError) => err,
    );
    t.is(badChange?.code, grpc.status.INVALID_ARGUMENT);
    t.regex(badChange?.details ?? '', /invalid change "FROM x"/);
    const escaping = await importTar(client, {}, await escapingTar()).then(
      () => undefined,
      (err: grpc.ServiceError) => err,
    );
    t.is(escaping?.code, grpc.status.INVALID_ARGUMENT);
    t.regex(escaping?.details ?? '', /'\.\.' would leave/);
    t.deepEqual(await content.list(), []);
    t.deepEqual(await images.list(), []);
  });
});

test('Import makes a one-layer image with the changes, the message and the node platform', async (t) => {
  await withWorld(async ({ client, content, images, dir }) => {
    const rootfs = await rootfsTar();
    const id = await importTar(
      client,
      {
        reference: 'imported:v1',
        changes: [
          'CMD ["/bin/sh"]',
          'ENV A=1 B="two words"',
          'WORKDIR /tmp',
          'EXPOSE 80 53/udp',
          'LABEL x=y',
        ],
        message: 'from a test',
      },
      rootfs,
    );
    const record = await images.get('imported:v1');
    t.truthy(record);
    const manifest = parseManifest(
      await content.readBytes(record!.manifest.digest),
      record!.manifest.mediaType,
      'm',
    );
    if (manifest.kind !== 'manifest') return t.fail('index stored');
    t.is<string, string>(manifest.config.digest, id);
    t.is(manifest.layers.length, 1);
    const config = JSON.parse((await content.readBytes(manifest.config.digest)).toString()) as {
      os: string;
      architecture: string;
      config: Record<string, unknown>;
      rootfs: { diff_ids: string[] };
      history: { comment: string }[];
    };
    const { createHash } = await import('node:crypto');
    t.deepEqual(config.rootfs.diff_ids, [`sha256:${createHash('sha256').update(rootfs).digest('hex')}`]);
    t.is(config.architecture, hostPlatform().architecture);
    t.deepEqual(config.config, {
      Cmd: ['/bin/sh'],
      Env: ['A=1', 'B=two words'],
      WorkingDir: '/tmp',
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Labels: { x: 'y' },
    });
    t.is(config.history[0]?.comment, 'from a test');

    // skopeo reads it back from a save: the layer uncompresses to the rootfs tar.
    const saved = join(dir, 'imported.tar');
    writeFileSync(saved, await save(client, ['imported:v1']));
    const inspected = JSON.parse((await run('skopeo', ['inspect', `docker-archive:${saved}`])).stdout) as {
      Layers: string[];
    };
    t.deepEqual(inspected.Layers, config.rootfs.diff_ids);
  });
});

test('a tag that a load or an import moves leaves the old image a digest name; Save by ID writes no RepoTags', async (t) => {
  await withWorld(async ({ client, images, dir }) => {
    t.is((await load(client, await skopeoDockerArchive(dir))).error, undefined);
    const old = (await images.get('busybox:v1'))!;
    const id = await importTar(client, { reference: 'busybox:v1' }, await rootfsTar());
    const names = (await images.list()).map((r) => r.name);
    t.true(names.includes(`docker.io/library/busybox@${old.target.digest}`), names.join(', '));
    t.not((await images.get('busybox:v1'))!.manifest.digest, old.manifest.digest);

    const byId = join(dir, 'by-id.tar');
    writeFileSync(byId, await save(client, [id.slice('sha256:'.length, 'sha256:'.length + 12)]));
    const { stdout } = await run('tar', ['-xOf', byId, 'manifest.json']);
    const [entry] = JSON.parse(stdout) as { RepoTags: string[] | null; Config: string }[];
    t.is(entry!.RepoTags, null);
    t.is(entry!.Config, `${id.slice('sha256:'.length)}.json`);
  });
});
