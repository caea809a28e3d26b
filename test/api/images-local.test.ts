// The Images calls that need no registry, over images written straight into the stores: list filters, find by
// name / ID / prefix, inspect's shape, history from the config, and tag moving a name (the old image kept as
// `repo@digest`, dangling).
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { Registry } from 'prom-client';
import { ApiService } from '../../pkg/agent/api.ts';
import { ImageService } from '../../pkg/agent/images.ts';
import { AgentClient, ApiCallError } from '../../pkg/api/client.ts';
import { digestOf } from '../../pkg/content/digest.ts';
import { LocalContentStore } from '../../pkg/content/local.ts';
import { writeBlob } from '../../pkg/content/store.ts';
import { LocalImageStore } from '../../pkg/image/store.ts';
import { silentLogger } from '../../pkg/log/index.ts';
import { withTempDir } from '../helpers/tmp.ts';

const ctx = {
  signal: new AbortController().signal,
  log: silentLogger,
  status: { health: () => ({ healthy: true, live: true, services: {} }), registry: new Registry() },
  fatal: () => undefined,
};

interface Made {
  id: string;
  manifest: string;
}

/** Stores an image (config, layers of the given sizes, manifest) and names it. */
async function storeImage(
  dataDir: string,
  names: string[],
  config: Record<string, unknown>,
  layerSizes: number[],
): Promise<Made> {
  const content = new LocalContentStore(join(dataDir, 'content'));
  const put = async (bytes: Buffer) => {
    const digest = digestOf(bytes);
    await writeBlob(content, { ref: `test-${digest}`, expected: digest }, bytes);
    return { digest, size: bytes.length };
  };
  const layers = [];
  for (const [i, size] of layerSizes.entries()) {
    const bytes = Buffer.alloc(size, i + names.length);
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await put(bytes)) });
  }
  const configBlob = await put(Buffer.from(JSON.stringify(config)));
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
      layers,
    }),
  );
  const manifest = await put(manifestBytes);
  const descriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest };
  const images = new LocalImageStore(join(dataDir, 'images'));
  for (const name of names)
    await images.put({
      name,
      target: descriptor,
      manifest: descriptor,
      platform: { os: 'linux', architecture: 'amd64' },
    });
  return { id: configBlob.digest, manifest: manifest.digest };
}

async function withAgent(
  prepare: (dataDir: string) => Promise<void>,
  fn: (client: AgentClient) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const dataDir = join(dir, 'data');
    await prepare(dataDir);
    const api = new ApiService({
      path: join(dir, 'run', 'tsnet.sock'),
      nodeName: 'n',
      version: '1',
      dataDir,
      runDir: join(dir, 'run'),
    });
    const images = new ImageService({ dataDir, insecureRegistries: [], api });
    await images.start(ctx);
    await api.start(ctx);
    const client = new AgentClient(join(dir, 'run', 'tsnet.sock'));
    try {
      await fn(client);
    } finally {
      client.close();
      await api.stop();
      await images.stop();
    }
  });
}

const code = (err: unknown) => (err instanceof ApiCallError ? err.code : undefined);

test('list: sizes, created, labels; reference, label, dangling, before and since filters', async (t) => {
  const made: Record<string, Made> = {};
  await withAgent(
    async (data) => {
      made['old'] = await storeImage(
        data,
        ['docker.io/library/alpha:1', 'example.com/team/alpha:1'],
        {
          created: '2024-01-01T00:00:00Z',
          config: { Labels: { tier: 'base' } },
          rootfs: { type: 'layers', diff_ids: [] },
        },
        [100, 20],
      );
      made['mid'] = await storeImage(
        data,
        ['docker.io/library/beta:2'],
        { created: '2024-06-01T00:00:00Z', config: { Labels: { tier: 'app', team: 'x' } } },
        [7],
      );
      made['new'] = await storeImage(
        data,
        [`docker.io/library/gamma@sha256:${'a'.repeat(64)}`],
        { created: '2025-01-01T00:00:00Z' },
        [1],
      );
    },
    async (client) => {
      const all = (await client.images({})).images;
      t.deepEqual(
        all.map((i) => i.id),
        [made['new']!.id, made['mid']!.id, made['old']!.id],
        'newest first',
      );
      t.like(all[2], {
        repoTags: ['alpha:1', 'example.com/team/alpha:1'],
        size: 120,
        createdUnix: Date.parse('2024-01-01T00:00:00Z') / 1000,
        labels: { tier: 'base' },
        containers: 0,
      });
      t.deepEqual(all[0]?.repoDigests, [`gamma@sha256:${'a'.repeat(64)}`]);
      const ids = async (...filters: string[]) => (await client.images({ filters })).images.map((i) => i.id);
      t.deepEqual(await ids('reference=alpha'), [made['old']!.id]);
      t.deepEqual(
        (await client.images({ filters: ['reference=example.com/*/alpha:*'] })).images[0]?.repoTags,
        ['example.com/team/alpha:1'],
      );
      t.deepEqual(await ids('label=tier'), [made['mid']!.id, made['old']!.id]);
      t.deepEqual(await ids('label=tier=app', 'label=team'), [made['mid']!.id]);
      t.deepEqual(await ids('dangling=true'), [made['new']!.id]);
      t.deepEqual(await ids('dangling=false'), [made['mid']!.id, made['old']!.id]);
      t.deepEqual(await ids('before=beta:2'), [made['old']!.id]);
      t.deepEqual(await ids('since=beta:2'), [made['new']!.id]);
      t.is(
        code(await t.throwsAsync(client.images({ filters: ['dangling=maybe'] }))),
        grpc.status.INVALID_ARGUMENT,
      );
      t.is(code(await t.throwsAsync(client.images({ filters: ['before=nothing'] }))), grpc.status.NOT_FOUND);
    },
  );
});

test('inspect by name, ID, prefix; an ambiguous or unknown prefix; Docker shape and history from the config', async (t) => {
  let made: Made | undefined;
  await withAgent(
    async (data) => {
      made = await storeImage(
        data,
        ['docker.io/library/app:v1'],
        {
          created: '2024-03-01T10:00:00Z',
          author: 'tsnet tests',
          architecture: 'arm64',
          variant: 'v8',
          os: 'linux',
          config: {
            User: '1000',
            Env: ['A=1'],
            Entrypoint: ['/app'],
            Cmd: ['--serve'],
            WorkingDir: '/srv',
            ExposedPorts: { '80/tcp': {} },
            Volumes: { '/data': {} },
            Labels: { l: 'v' },
            StopSignal: 'SIGINT',
          },
          rootfs: { type: 'layers', diff_ids: [`sha256:${'1'.repeat(64)}`, `sha256:${'2'.repeat(64)}`] },
          history: [
            { created: '2024-03-01T09:00:00Z', created_by: 'ADD rootfs.tar /' },
            { created: '2024-03-01T09:30:00Z', created_by: 'ENV A=1', empty_layer: true },
            { created: '2024-03-01T10:00:00Z', created_by: 'COPY app /app', comment: 'build' },
          ],
        },
        [300, 40],
      );
      // Another image whose ID starts with the same hex digit: that one digit is an ambiguous prefix.
      for (let n = 0; ; n++) {
        const config = { created: '2024-01-01T00:00:00Z', comment: `twin ${n}` };
        if (digestOf(JSON.stringify(config))[7] !== made.id[7]) continue;
        await storeImage(data, ['docker.io/library/twin:v1'], config, [1]);
        break;
      }
    },
    async (client) => {
      const id = made!.id;
      const inspect = await client.inspectImage('app:v1');
      t.deepEqual(inspect, {
        Id: id,
        RepoTags: ['app:v1'],
        RepoDigests: [],
        Parent: '',
        Comment: '',
        Created: '2024-03-01T10:00:00Z',
        Author: 'tsnet tests',
        Config: {
          User: '1000',
          ExposedPorts: { '80/tcp': {} },
          Env: ['A=1'],
          Cmd: ['--serve'],
          Volumes: { '/data': {} },
          WorkingDir: '/srv',
          Entrypoint: ['/app'],
          Labels: { l: 'v' },
          StopSignal: 'SIGINT',
        },
        Architecture: 'arm64',
        Variant: 'v8',
        Os: 'linux',
        Size: 340,
        GraphDriver: { Name: 'overlay', Data: null },
        RootFS: { Type: 'layers', Layers: [`sha256:${'1'.repeat(64)}`, `sha256:${'2'.repeat(64)}`] },
        Metadata: {
          LastTagTime: inspect['Metadata']
            ? (inspect['Metadata'] as { LastTagTime: string }).LastTagTime
            : '',
        },
      });
      t.deepEqual(await client.inspectImage(id), inspect);
      t.deepEqual(await client.inspectImage(id.slice(7)), inspect);
      t.deepEqual(await client.inspectImage(id.slice(7, 12)), inspect);
      t.deepEqual(await client.inspectImage('docker.io/library/app:v1'), inspect);
      t.is(code(await t.throwsAsync(client.inspectImage('app:v2'))), grpc.status.NOT_FOUND);
      const ambiguous = await t.throwsAsync(client.inspectImage(id.slice(7, 8)));
      t.is(code(ambiguous), grpc.status.FAILED_PRECONDITION);
      t.regex(ambiguous?.message ?? '', /ambiguous image ID prefix/);
      t.is(code(await t.throwsAsync(client.inspectImage('Bad Name'))), grpc.status.INVALID_ARGUMENT);

      const history = (await client.history('app:v1')).entries;
      t.deepEqual(
        history.map((e) => [e.id, e.createdBy, e.size, e.emptyLayer, e.tags]),
        [
          [id, 'COPY app /app', 40, false, ['app:v1']],
          ['<missing>', 'ENV A=1', 0, true, []],
          ['<missing>', 'ADD rootfs.tar /', 300, false, []],
        ],
      );
      t.is(history[0]?.comment, 'build');
      t.is(history[0]?.createdUnix, Date.parse('2024-03-01T10:00:00Z') / 1000);
    },
  );
});

test('tag moves a name: the image it leaves keeps a digest name (dangling), nothing is orphaned', async (t) => {
  const made: Made[] = [];
  await withAgent(
    async (data) => {
      made.push(
        await storeImage(data, ['docker.io/library/one:v1'], { created: '2024-01-01T00:00:00Z' }, [5]),
      );
      made.push(
        await storeImage(data, ['docker.io/library/two:v1'], { created: '2024-02-01T00:00:00Z' }, [6]),
      );
    },
    async (client) => {
      t.is(
        code(await t.throwsAsync(client.tag('two:v1', `one@sha256:${'b'.repeat(64)}`))),
        grpc.status.INVALID_ARGUMENT,
      );
      await client.tag('two:v1', 'one:v1');
      t.is((await client.inspectImage('one:v1'))['Id'], made[1]!.id);
      const dangling = (await client.images({ filters: ['dangling=true'] })).images;
      t.deepEqual(
        dangling.map((i) => [i.id, i.repoTags, i.repoDigests]),
        [[made[0]!.id, [], [`one@${made[0]!.manifest}`]]],
      );
      const pruned = await client.pruneImages({});
      t.deepEqual(pruned.deleted, [made[0]!.id]);
      t.true(pruned.spaceReclaimed > 5);
      t.deepEqual(
        (await client.images({})).images.map((i) => i.repoTags.sort()),
        [['one:v1', 'two:v1']],
      );
    },
  );
});
