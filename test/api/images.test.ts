// The Images service end to end: the agent's image and API services run inside a real registry's namespace
// (docker-registry in a test netns), the test talks to them over the API socket with AgentClient, and skopeo
// is the independent oracle for digests and for what a push left at the registry.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { AgentClient, ApiCallError, callError } from '../../pkg/api/client.ts';
import type { Event__Output } from '../../pkg/api/generated/tsnet/v1/Event.ts';
import type { ProgressMessage__Output } from '../../pkg/api/generated/tsnet/v1/ProgressMessage.ts';
import { chainIds } from '../../pkg/snapshot/chain.ts';
import { OverlaySnapshotter } from '../../pkg/snapshot/overlay.ts';
import {
  type ChildRun,
  makeTokenSigner,
  type RegistryOptions,
  runInRegistryNetns,
  startRegistry,
  type TestImage,
  type TestRegistry,
  writeBusyboxLayout,
} from '../helpers/registry.ts';
import { withTempDir } from '../helpers/tmp.ts';

const AGENT = join(import.meta.dirname, 'fixtures', 'images-agent.ts');

interface World {
  registry: TestRegistry;
  dir: string;
  dataDir: string;
  inUseFile: string;
  client: AgentClient;
  events: Event__Output[];
  host: string;
}

async function withWorld(fn: (w: World) => Promise<void>, options: RegistryOptions = {}): Promise<void> {
  const registry = await startRegistry(options);
  let agent: ChildRun | undefined;
  try {
    await withTempDir(async (dir) => {
      const dataDir = join(dir, 'data');
      const socket = join(dir, 'run', 'tsnet.sock');
      const inUseFile = join(dir, 'in-use.json');
      agent = runInRegistryNetns(registry.netnsPath, AGENT, {
        socket,
        dataDir,
        runDir: join(dir, 'run'),
        inUseFile,
      });
      await agent.waitFor((l) => (l as { listening?: string }).listening === socket);
      const client = new AgentClient(socket);
      const events: Event__Output[] = [];
      const stream = client.events({ filters: ['type=image'], sinceUnixNano: 0 });
      stream.on('data', (e: Event__Output) => events.push(e));
      stream.on('error', () => undefined);
      try {
        await fn({ registry, dir, dataDir, inUseFile, client, events, host: registry.host });
      } finally {
        stream.cancel();
        client.close();
        agent.child.kill('SIGTERM');
        await agent.done;
      }
    });
  } finally {
    if (agent && agent.child.exitCode === null) agent.child.kill('SIGKILL');
    await registry.stop();
  }
}

/** Pushes a busybox image; images for different `platforms` differ in content (and so in ID). */
async function pushWithSkopeo(
  w: World,
  repo: string,
  tag: string,
  platforms: string[] = ['linux/amd64'],
): Promise<TestImage> {
  const dir = join(
    w.dir,
    `layout-${repo.replace(/\W/g, '-')}-${tag}-${platforms.join('+').replace(/\W/g, '-')}`,
  );
  const image = await writeBusyboxLayout(dir, tag, platforms);
  await w.registry.skopeo(
    'copy',
    '--all',
    '--dest-tls-verify=false',
    `oci:${image.layout}:${tag}`,
    `docker://${w.host}/${repo}:${tag}`,
  );
  return image;
}

interface Streamed {
  messages: ProgressMessage__Output[];
  error?: ApiCallError | Error;
}

async function drain(stream: grpc.ClientReadableStream<ProgressMessage__Output>): Promise<Streamed> {
  const messages: ProgressMessage__Output[] = [];
  try {
    for await (const m of stream) messages.push(m as ProgressMessage__Output);
    return { messages };
  } catch (err) {
    return { messages, error: callError('test', err) };
  }
}

function statusesOf(messages: readonly ProgressMessage__Output[], id: string): string[] {
  return messages.filter((m) => m.id === id).map((m) => m.status);
}

/** The per-layer sequence with repeated "Downloading" lines folded into one. */
function folded(statuses: readonly string[]): string[] {
  return statuses.filter((s, i) => !(s === 'Downloading' && statuses[i - 1] === 'Downloading'));
}

function codeOf(err: unknown): grpc.status | undefined {
  return err instanceof ApiCallError ? err.code : undefined;
}

function blobsIn(dataDir: string): string[] {
  const dir = join(dataDir, 'content', 'blobs', 'sha256');
  return existsSync(dir) ? readdirSync(dir).map((h) => `sha256:${h}`) : [];
}

async function configOf(w: World, ref: string): Promise<{ rootfs: { diff_ids: string[] } }> {
  return JSON.parse(await w.registry.skopeo('inspect', '--config', '--tls-verify=false', `docker://${ref}`));
}

test('pull by tag and by digest: Docker progress, layers unpacked into committed snapshots, inspect agrees with skopeo', async (t) => {
  await withWorld(async (w) => {
    const image = await pushWithSkopeo(w, 'test/busybox', 'v1');
    const name = `${w.host}/test/busybox:v1`;
    const pulled = await drain(w.client.pull({ reference: name }));
    t.is(pulled.error, undefined, pulled.error?.message);
    const layers = image.manifests[0]!.layers;
    for (const layer of layers) {
      const id = layer.slice(7, 19);
      t.deepEqual(
        folded(statusesOf(pulled.messages, id)),
        ['Pulling fs layer', 'Downloading', 'Download complete', 'Extracting', 'Pull complete'],
        `layer ${id}`,
      );
      const last = pulled.messages.filter((m) => m.id === id && m.status === 'Downloading').at(-1);
      t.true(last !== undefined && last.current === last.total && last.total > 0);
    }
    t.deepEqual(
      pulled.messages.filter((m) => m.id === '').map((m) => m.status),
      [`Digest: ${image.digest}`, `Status: Downloaded newer image for ${name}`],
    );

    // The oracle: skopeo's view of the same image.
    const raw = JSON.parse(
      await w.registry.skopeo('inspect', '--raw', '--tls-verify=false', `docker://${name}`),
    ) as { config: { digest: string } };
    const config = await configOf(w, name);
    const inspect = await w.client.inspectImage(name);
    t.like(inspect, {
      Id: raw.config.digest,
      RepoTags: [name],
      RepoDigests: [`${w.host}/test/busybox@${image.digest}`],
      Architecture: 'amd64',
      Os: 'linux',
      Config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'], Entrypoint: null, WorkingDir: '' },
      RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    });
    t.is(typeof inspect['Size'], 'number');
    t.deepEqual(
      await w.client.inspectImage(raw.config.digest.slice(7, 19)),
      inspect,
      'by a unique ID prefix',
    );
    t.deepEqual(
      await w.client.inspectImage(`${w.host}/test/busybox@${image.digest}`),
      inspect,
      'by name@digest',
    );

    // The layer chain is committed: a container can start from its top.
    const snapshots = await OverlaySnapshotter.open(join(w.dataDir, 'snapshots'));
    for (const chain of chainIds(config.rootfs.diff_ids))
      t.is((await snapshots.stat(chain))?.kind, 'committed');
    t.false(
      (await snapshots.list()).some((s) => s.kind !== 'committed'),
      'no extraction left behind',
    );

    const again = await drain(w.client.pull({ reference: name }));
    t.is(again.error, undefined);
    for (const layer of layers)
      t.deepEqual(statusesOf(again.messages, layer.slice(7, 19)), ['Already exists']);
    t.is(again.messages.at(-1)?.status, `Status: Image is up to date for ${name}`);

    const history = await w.client.history(name);
    t.is(history.entries.length, layers.length);
    t.is(history.entries[0]?.id, raw.config.digest);
    t.deepEqual(history.entries[0]?.tags, [name]);
    t.true(history.entries.slice(1).every((e) => e.id === '<missing>'));

    // By digest: a RepoDigest, no tag.
    const other = await pushWithSkopeo(w, 'test/other', 'v1', ['linux/amd64/v2']);
    const byDigest = `${w.host}/test/other@${other.digest}`;
    const pulledByDigest = await drain(w.client.pull({ reference: byDigest }));
    t.is(pulledByDigest.error, undefined, pulledByDigest.error?.message);
    t.is(pulledByDigest.messages.at(-1)?.status, `Status: Downloaded newer image for ${byDigest}`);
    t.like(await w.client.inspectImage(byDigest), { RepoTags: [], RepoDigests: [byDigest] });

    const info = await w.client.info();
    t.is(info.images, 2);
    t.is(info.storageDriver, 'overlay');
    t.true(
      w.events.some(
        (e) => e.action === 'pull' && e.id === name && e.attributes['name'] === `${w.host}/test/busybox`,
      ),
    );
  });
});

test('tag, list filters, rmi (untag, conflicts, in use, force) and prune reclaim names, blobs and snapshots', async (t) => {
  await withWorld(async (w) => {
    const first = await pushWithSkopeo(w, 'test/busybox', 'v1');
    const name = `${w.host}/test/busybox:v1`;
    t.is((await drain(w.client.pull({ reference: name }))).error, undefined);
    const id = (await w.client.inspectImage(name))['Id'] as string;

    await w.client.tag(name, 'local/copy:mine');
    t.deepEqual(
      ((await w.client.inspectImage(id))['RepoTags'] as string[]).sort(),
      ['local/copy:mine', name].sort(),
    );
    t.true(
      w.events.some((e) => e.action === 'tag' && e.id === id && e.attributes['name'] === 'local/copy:mine'),
    );
    const listed = await w.client.images({ filters: ['reference=local/*'] });
    t.deepEqual(
      listed.images.map((i) => i.repoTags),
      [['local/copy:mine']],
    );
    t.is((await w.client.images({ filters: ['dangling=true'] })).images.length, 0);
    await t.throwsAsync(w.client.images({ filters: ['colour=blue'] }), { message: /invalid filter/ });

    // An ID naming two repositories is refused without force; an image in use is refused without force.
    const conflict = await t.throwsAsync(w.client.removeImage({ image: id.slice(7, 19) }));
    t.is(codeOf(conflict), grpc.status.FAILED_PRECONDITION);
    t.regex(conflict?.message ?? '', /referenced in multiple repositories/);
    t.deepEqual(await w.client.removeImage({ image: 'local/copy:mine' }), {
      untagged: ['local/copy:mine'],
      deleted: [],
    });

    writeFileSync(w.inUseFile, JSON.stringify({ [id]: ['c0ffee0123456789'] }));
    const inUse = await t.throwsAsync(w.client.removeImage({ image: name }));
    t.is(codeOf(inUse), grpc.status.FAILED_PRECONDITION);
    t.regex(inUse?.message ?? '', /container c0ffee012345 is using/);
    t.is((await w.client.images({})).images[0]?.containers, 1);
    writeFileSync(w.inUseFile, '{}');

    // The last tag takes the digest name and the image with it: no blob, no snapshot left.
    const removed = await w.client.removeImage({ image: name });
    t.deepEqual(removed.untagged.sort(), [name, `${w.host}/test/busybox@${first.digest}`].sort());
    t.true(removed.deleted.includes(id));
    t.deepEqual(blobsIn(w.dataDir), []);
    const snapshots = await OverlaySnapshotter.open(join(w.dataDir, 'snapshots'));
    t.deepEqual(await snapshots.list(), []);
    t.true(w.events.some((e) => e.action === 'delete' && e.id === id));
    t.is(codeOf(await t.throwsAsync(w.client.inspectImage(name))), grpc.status.NOT_FOUND);

    // A tag moved by a newer push leaves the old image dangling (its digest name only); prune removes it.
    t.is((await drain(w.client.pull({ reference: name }))).error, undefined);
    const newer = await pushWithSkopeo(w, 'test/busybox', 'v1', ['linux/amd64/v2']);
    t.is((await drain(w.client.pull({ reference: name }))).error, undefined);
    const dangling = await w.client.images({ filters: ['dangling=true'] });
    t.is(dangling.images.length, 1);
    t.deepEqual(dangling.images[0]?.repoTags, []);
    t.is(dangling.images[0]?.id, id);
    const pruned = await w.client.pruneImages({});
    t.true(pruned.deleted.includes(id));
    t.true(pruned.spaceReclaimed > 0);
    t.deepEqual(
      (await w.client.images({})).images.map((i) => i.repoDigests),
      [[`${w.host}/test/busybox@${newer.digest}`]],
    );
    const kept = new Set(blobsIn(w.dataDir));
    for (const l of newer.manifests[0]!.layers) t.true(kept.has(l));
    t.is(kept.size, 4, 'the remaining image only: manifest, config, two layers');
    // In use, by ID with force: every name goes, and the image with them.
    const newerId = (await w.client.images({})).images[0]!.id;
    writeFileSync(w.inUseFile, JSON.stringify({ [newerId]: ['c0ffee0123456789'] }));
    t.deepEqual((await w.client.pruneImages({ all: true })).deleted, [], 'prune skips an image in use');
    t.is(
      codeOf(await t.throwsAsync(w.client.removeImage({ image: newerId }))),
      grpc.status.FAILED_PRECONDITION,
    );
    const forced = await w.client.removeImage({ image: newerId, force: true });
    t.deepEqual(forced.untagged.sort(), [name, `${w.host}/test/busybox@${newer.digest}`].sort());
    t.true(forced.deleted.includes(newerId));
    t.deepEqual(blobsIn(w.dataDir), []);
  });
});

test('push to another repository: Docker progress, blobs mounted, and skopeo sees the same image', async (t) => {
  await withWorld(async (w) => {
    const image = await pushWithSkopeo(w, 'test/busybox', 'v1');
    const name = `${w.host}/test/busybox:v1`;
    t.is((await drain(w.client.pull({ reference: name }))).error, undefined);
    const target = `${w.host}/pushed/copy:v2`;
    await w.client.tag(name, target);
    const pushed = await drain(w.client.push({ reference: target }));
    t.is(pushed.error, undefined, pushed.error?.message);
    t.is(pushed.messages[0]?.status, `The push refers to repository [${w.host}/pushed/copy]`);
    for (const layer of image.manifests[0]!.layers) {
      const statuses = statusesOf(pushed.messages, layer.slice(7, 19));
      t.is(statuses[0], 'Preparing');
      t.is(statuses.at(-1), 'Mounted from test/busybox');
    }
    const raw = await w.registry.skopeo('inspect', '--raw', '--tls-verify=false', `docker://${target}`);
    const digest = JSON.parse(await w.registry.skopeo('inspect', '--tls-verify=false', `docker://${target}`))
      .Digest as string;
    t.is(pushed.messages.at(-1)?.status, `v2: digest: ${digest} size: ${Buffer.byteLength(raw)}`);
    t.is(digest, image.digest, 'the manifest went up byte for byte');
    t.true(w.events.some((e) => e.action === 'push' && e.id === target));

    const again = await drain(w.client.push({ reference: target }));
    for (const layer of image.manifests[0]!.layers)
      t.is(statusesOf(again.messages, layer.slice(7, 19)).at(-1), 'Layer already exists');
    const missing = await drain(w.client.push({ reference: `${w.host}/nothing/here:v1` }));
    t.is(codeOf(missing.error), grpc.status.NOT_FOUND);
  });
});

test('concurrent pulls of one image both succeed and unpack once; a rmi during a pull waits for it, then removes all', async (t) => {
  await withWorld(async (w) => {
    const image = await pushWithSkopeo(w, 'test/busybox', 'v1');
    const name = `${w.host}/test/busybox:v1`;
    const [a, b] = await Promise.all([
      drain(w.client.pull({ reference: name })),
      drain(w.client.pull({ reference: name })),
    ]);
    t.is(a.error, undefined, a.error?.message);
    t.is(b.error, undefined, b.error?.message);
    const config = await configOf(w, name);
    const snapshots = await OverlaySnapshotter.open(join(w.dataDir, 'snapshots'));
    const listed = await snapshots.list();
    t.deepEqual(
      listed.map((s) => s.key).sort(),
      chainIds(config.rootfs.diff_ids).sort(),
      'one snapshot per layer',
    );
    t.is((await w.client.images({})).images.length, 1);

    // rmi while a pull of the same image runs: the removal waits for the pull (it holds the catalog shared), so
    // the pull completes and the removal then takes everything: no name, no blob, no snapshot.
    const other = `${w.host}/test/busybox-two:v1`;
    await pushWithSkopeo(w, 'test/busybox-two', 'v1', ['linux/amd64/v3']);
    const stream = w.client.pull({ reference: other });
    const messages: ProgressMessage__Output[] = [];
    const first = new Promise<void>((resolve) => stream.once('data', () => resolve()));
    stream.on('data', (m: ProgressMessage__Output) => messages.push(m));
    const ended = new Promise<Error | undefined>((resolve) => {
      stream.on('end', () => resolve(undefined));
      stream.on('error', (err) => resolve(err));
    });
    await first;
    const removal = w.client.removeImage({ image: other });
    t.is(await ended, undefined);
    t.is(messages.at(-1)?.status, `Status: Downloaded newer image for ${other}`);
    const removed = await removal;
    t.true(removed.untagged.includes(other));
    await w.client.removeImage({ image: name });
    t.deepEqual((await w.client.images({})).images, []);
    t.deepEqual(blobsIn(w.dataDir), []);
    t.deepEqual(await snapshots.list(), []);
    t.truthy(image);
  });
});

test('bad references, unknown tags and repositories, a missing platform: the right status, nothing stored', async (t) => {
  await withWorld(async (w) => {
    await pushWithSkopeo(w, 'test/busybox', 'v1');
    await pushWithSkopeo(w, 'test/multi', 'v1', ['linux/amd64', 'linux/arm64']);
    const cases: [string, string, grpc.status, RegExp][] = [
      ['Upper/Case:v1', '', grpc.status.INVALID_ARGUMENT, /invalid image reference/],
      [`${w.host}/test/busybox:v9`, '', grpc.status.NOT_FOUND, /manifest unknown/],
      [`${w.host}/no/such:v1`, '', grpc.status.NOT_FOUND, /pull access denied|manifest unknown/],
      [`${w.host}/test/multi:v1`, 'linux/s390x', grpc.status.NOT_FOUND, /no image for platform linux\/s390x/],
      [`${w.host}/test/busybox:v1`, 'not a/platform', grpc.status.INVALID_ARGUMENT, /invalid platform/],
      // Nothing listens there: the agent's own UNAVAILABLE, which the client does not take for "agent down".
      [
        '127.0.0.1:5999/test/busybox:v1',
        '',
        grpc.status.UNAVAILABLE,
        /cannot reach http:\/\/127\.0\.0\.1:5999/,
      ],
    ];
    for (const [reference, platform, code, message] of cases) {
      const result = await drain(w.client.pull({ reference, platform }));
      t.is(codeOf(result.error), code, `${reference} ${platform}: ${result.error?.message}`);
      t.regex(result.error?.message ?? '', message);
      t.is(result.messages.at(-1)?.error, result.error?.message, 'the last message carries the error');
      t.false((result.error?.message ?? '').includes('\n'), 'one line');
    }
    t.is(codeOf(await t.throwsAsync(w.client.inspectImage('nothing:here'))), grpc.status.NOT_FOUND);
    t.is(codeOf(await t.throwsAsync(w.client.tag('nothing:here', 'x:y'))), grpc.status.NOT_FOUND);
    t.is(codeOf(await t.throwsAsync(w.client.removeImage({ image: 'nothing:here' }))), grpc.status.NOT_FOUND);
    t.deepEqual((await w.client.images({})).images, []);
    const snapshots = await OverlaySnapshotter.open(join(w.dataDir, 'snapshots'));
    t.deepEqual(await snapshots.list(), []);
    t.false(w.events.some((e) => e.action === 'pull'));
  });
});

const TOKEN_SERVER = join(import.meta.dirname, '..', 'registry', 'fixtures', 'token-server.ts');
const TOKEN_PORT = 5001;

test('login checks the credentials against a token-auth registry, stores them for pulls; logout forgets them', async (t) => {
  const keys = mkdtempSync(join(tmpdir(), 'tsnet-test-token-'));
  try {
    const { keyFile, certFile } = makeTokenSigner(keys, 'tsnet images test');
    const issuer = 'tsnet-images-test';
    await withWorld(
      async (w) => {
        const tokens = runInRegistryNetns(w.registry.netnsPath, TOKEN_SERVER, {
          port: TOKEN_PORT,
          keyFile,
          certFile,
          issuer,
          username: 'alice',
          password: 's3cret',
        });
        try {
          await tokens.waitFor((l) => (l as { listening?: number }).listening === TOKEN_PORT);
          const image = await writeBusyboxLayout(join(w.dir, 'secure'), 'v1', ['linux/amd64']);
          await w.registry.skopeo(
            'copy',
            '--dest-tls-verify=false',
            '--dest-creds=alice:s3cret',
            `oci:${image.layout}:v1`,
            `docker://${w.host}/secure/app:v1`,
          );
          const name = `${w.host}/secure/app:v1`;
          const anonymous = await drain(w.client.pull({ reference: name }));
          t.is(codeOf(anonymous.error), grpc.status.NOT_FOUND);
          t.regex(anonymous.error?.message ?? '', /pull access denied/);

          const wrong = await t.throwsAsync(
            w.client.login({ server: w.host, username: 'alice', password: 'nope' }),
          );
          t.is(codeOf(wrong), grpc.status.UNAUTHENTICATED);
          t.regex(wrong?.message ?? '', /refused user alice/);
          t.false(existsSync(join(w.dataDir, 'auth.json')), 'refused credentials are not stored');

          t.deepEqual(
            await w.client.login({ server: `http://${w.host}/`, username: 'alice', password: 's3cret' }),
            {
              status: 'Login Succeeded',
            },
          );
          const stored = JSON.parse(readFileSync(join(w.dataDir, 'auth.json'), 'utf8')) as {
            auths: Record<string, { auth: string }>;
          };
          t.is(Buffer.from(stored.auths[w.host]?.auth ?? '', 'base64').toString(), 'alice:s3cret');

          const pulled = await drain(w.client.pull({ reference: name }));
          t.is(pulled.error, undefined, pulled.error?.message);

          await w.client.logout(w.host);
          const after = JSON.parse(readFileSync(join(w.dataDir, 'auth.json'), 'utf8')) as { auths: object };
          t.deepEqual(after.auths, {});
          await w.client.removeImage({ image: name });
          t.is(codeOf((await drain(w.client.pull({ reference: name }))).error), grpc.status.NOT_FOUND);
        } finally {
          tokens.child.kill('SIGKILL');
          await tokens.done.catch(() => undefined);
        }
      },
      {
        tokenAuth: { realm: `http://127.0.0.1:${TOKEN_PORT}/token`, service: 'tsnet-test', issuer, certFile },
      },
    );
  } finally {
    rmSync(keys, { recursive: true, force: true });
  }
});

/** Rewrites a one-platform layout's config so its first DiffID is wrong (the layer no longer matches it). */
function corruptDiffId(image: TestImage): void {
  const blob = (d: string) => join(image.layout, 'blobs', 'sha256', d.slice(7));
  const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const m = image.manifests[0]!;
  const config = JSON.parse(readFileSync(blob(m.config), 'utf8'));
  config.rootfs.diff_ids[0] = `sha256:${'0'.repeat(64)}`;
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest = JSON.parse(readFileSync(blob(m.digest), 'utf8'));
  manifest.config = { ...manifest.config, digest: digestOf(configBytes), size: configBytes.length };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  writeFileSync(blob(digestOf(configBytes)), configBytes);
  writeFileSync(blob(digestOf(manifestBytes)), manifestBytes);
  const index = JSON.parse(readFileSync(join(image.layout, 'index.json'), 'utf8'));
  index.manifests[0] = { ...index.manifests[0], digest: digestOf(manifestBytes), size: manifestBytes.length };
  writeFileSync(join(image.layout, 'index.json'), JSON.stringify(index));
}

test('a layer that does not match its DiffID fails the pull: no name, no snapshot; prune collects its blobs', async (t) => {
  await withWorld(async (w) => {
    const image = await writeBusyboxLayout(join(w.dir, 'bad'), 'v1', ['linux/amd64']);
    corruptDiffId(image);
    await w.registry.skopeo(
      'copy',
      '--dest-tls-verify=false',
      `oci:${image.layout}:v1`,
      `docker://${w.host}/test/bad:v1`,
    );
    const result = await drain(w.client.pull({ reference: `${w.host}/test/bad:v1` }));
    t.is(codeOf(result.error), grpc.status.INTERNAL);
    t.regex(result.error?.message ?? '', /DiffID/);
    t.deepEqual((await w.client.images({})).images, []);
    const snapshots = await OverlaySnapshotter.open(join(w.dataDir, 'snapshots'));
    t.deepEqual(await snapshots.list(), [], 'the failed extraction left no snapshot');
    t.true(blobsIn(w.dataDir).length > 0, 'verified blobs stay for a later pull');
    await w.client.pruneImages({});
    t.deepEqual(blobsIn(w.dataDir), [], 'prune collects blobs no name leads to');
  });
});
