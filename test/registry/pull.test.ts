// Pull from a real registry (docker-registry in a test namespace), with skopeo as the independent oracle.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { digestOf, parseDigest } from '../../pkg/content/digest.ts';
import { LocalContentStore } from '../../pkg/content/local.ts';
import { LocalImageStore } from '../../pkg/image/store.ts';
import {
  runInRegistryNetns,
  startRegistry,
  type TestImage,
  type TestRegistry,
  writeBusyboxLayout,
} from '../helpers/registry.ts';
import { withTempDir } from '../helpers/tmp.ts';

const CLIENT = join(import.meta.dirname, 'fixtures', 'client.ts');

interface ClientLine {
  progress?: { digest: string; current: number; total: number };
  result?: {
    record: { name: string; target: { digest: string }; manifest: { digest: string } };
    config: { digest: string };
    layers: { digest: string }[];
  };
  error?: { name: string; message: string; code?: string };
  proxyLog?: { path: string; range: string | null }[];
}

async function withRegistry(fn: (registry: TestRegistry, dir: string) => Promise<void>): Promise<void> {
  const registry = await startRegistry();
  try {
    await withTempDir((dir) => fn(registry, dir));
  } finally {
    await registry.stop();
  }
}

async function pushWithSkopeo(
  registry: TestRegistry,
  dir: string,
  repo: string,
  platforms: string[],
): Promise<TestImage> {
  const image = await writeBusyboxLayout(join(dir, `layout-${repo.replace(/\W/g, '-')}`), 'v1', platforms);
  await registry.skopeo(
    'copy',
    '--all',
    '--dest-tls-verify=false',
    `oci:${image.layout}:${image.tag}`,
    `docker://${registry.host}/${repo}:v1`,
  );
  return image;
}

async function client(registry: TestRegistry, input: Record<string, unknown>): Promise<ClientLine[]> {
  const run = runInRegistryNetns(registry.netnsPath, CLIENT, { registry: registry.host, ...input });
  const lines = (await run.done) as ClientLine[];
  const last = lines[lines.length - 1];
  if (last?.result === undefined && last?.error === undefined) {
    throw new Error(
      `the pull client ended without a result or error line; its output: ${run.output() || '(none)'}`,
    );
  }
  return lines;
}

function final(lines: ClientLine[]): ClientLine {
  return lines[lines.length - 1]!;
}

test('an image pushed by skopeo is pulled with the same manifest and layer digests', async (t) => {
  await withRegistry(async (registry, dir) => {
    const image = await pushWithSkopeo(registry, dir, 'test/busybox', ['linux/amd64']);
    const raw = await registry.skopeo(
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${registry.host}/test/busybox:v1`,
    );
    const manifest = JSON.parse(raw) as { layers: { digest: string }[]; config: { digest: string } };
    const lines = await client(registry, {
      op: 'pull',
      root: join(dir, 'tsnet'),
      ref: 'test/busybox:v1',
      platform: 'linux/amd64',
    });
    const out = final(lines);
    t.is(out.error, undefined, out.error?.message);
    const result = out.result!;
    t.is(result.record.name, `${registry.host}/test/busybox:v1`);
    t.is(result.record.target.digest, image.digest);
    t.is(result.config.digest, manifest.config.digest);
    t.deepEqual(
      result.layers.map((l) => l.digest),
      manifest.layers.map((l) => l.digest),
    );
    const content = new LocalContentStore(join(dir, 'tsnet', 'content'));
    t.deepEqual(
      (await content.readBytes(parseDigest(image.digest))).toString(),
      raw,
      'the manifest bytes are kept as served',
    );
    for (const layer of manifest.layers) t.truthy(await content.info(parseDigest(layer.digest)));
    const images = new LocalImageStore(join(dir, 'tsnet', 'images'));
    t.is(
      (await images.get(`${registry.host}/test/busybox:v1`))?.manifest.digest as string | undefined,
      image.digest,
    );
    const progress = lines.filter((l) => l.progress).map((l) => l.progress!);
    for (const layer of manifest.layers) {
      const last = progress.filter((p) => p.digest === layer.digest).at(-1);
      t.truthy(last, `progress reported for ${layer.digest}`);
      t.is(last?.current, last?.total);
    }
  });
});

function committedBlobs(root: string): string[] {
  const dir = join(root, 'content', 'blobs', 'sha256');
  return existsSync(dir) ? readdirSync(dir).map((hex) => `sha256:${hex}`) : [];
}

test('an index is resolved to the requested platform; an index without it is a clear error', async (t) => {
  await withRegistry(async (registry, dir) => {
    const image = await pushWithSkopeo(registry, dir, 'multi', [
      'linux/amd64',
      'linux/arm64/v8',
      'linux/arm/v7',
    ]);
    const root = join(dir, 'tsnet');
    const out = final(await client(registry, { op: 'pull', root, ref: 'multi:v1', platform: 'linux/arm64' }));
    t.is(out.error, undefined, out.error?.message);
    const arm64 = image.manifests.find((m) => m.platform === 'linux/arm64/v8')!;
    t.is(out.result?.record.target.digest, image.digest, 'the name points at the index');
    t.is(out.result?.record.manifest.digest, arm64.digest, 'the arm64 manifest was chosen (v8 normalised)');
    t.deepEqual(
      out.result?.layers.map((l) => l.digest),
      arm64.layers,
    );
    const amd64 = image.manifests.find((m) => m.platform === 'linux/amd64')!;
    // The busybox layer is the same on every platform in these test images; the second layer differs.
    t.false(committedBlobs(root).includes(amd64.layers[1]!), 'other platforms are not downloaded');
    t.false(committedBlobs(root).includes(amd64.config));

    await pushWithSkopeo(registry, dir, 'other', ['linux/s390x', 'windows/amd64']);
    const other = final(
      await client(registry, { op: 'pull', root, ref: 'other:v1', platform: 'linux/amd64' }),
    );
    t.is(other.error?.name, 'PlatformError');
    t.regex(
      other.error?.message ?? '',
      /has no image for platform linux\/amd64 \(it has: linux\/s390x, windows\/amd64\)/,
    );
    const images = new LocalImageStore(join(root, 'images'));
    t.deepEqual(
      (await images.list()).map((r) => r.name),
      [`${registry.host}/multi:v1`],
      'the failed pull named nothing',
    );
  });
});

test('a registry that disconnects mid-blob: the pull resumes with Range and ends complete', async (t) => {
  await withRegistry(async (registry, dir) => {
    const image = await pushWithSkopeo(registry, dir, 'flaky', ['linux/amd64']);
    const root = join(dir, 'tsnet');
    const out = final(
      await client(registry, {
        op: 'pull',
        root,
        ref: 'flaky:v1',
        platform: 'linux/amd64',
        proxy: { mode: 'cut', afterBytes: 200_000, times: 2 },
      }),
    );
    t.is(out.error, undefined, out.error?.message);
    const bigLayer = image.manifests[0]!.layers[0]!;
    const requests = out.proxyLog!.filter((r) => r.path.endsWith(bigLayer));
    t.true(requests.length >= 2, 'the cut layer was requested again');
    t.is(requests[0]!.range, null);
    t.regex(requests.at(-1)!.range ?? '', /^bytes=[1-9]\d*-$/, 'and resumed from where it broke off');
    for (const digest of [...image.manifests[0]!.layers, image.manifests[0]!.config]) {
      t.true(committedBlobs(root).includes(digest));
    }
    t.deepEqual(await new LocalContentStore(join(root, 'content')).ingests(), []);
  });
});

test('a registry that stops sending mid-blob: the idle transfer is cut and resumed', async (t) => {
  await withRegistry(async (registry, dir) => {
    const image = await pushWithSkopeo(registry, dir, 'stalled', ['linux/amd64']);
    const root = join(dir, 'tsnet');
    const out = final(
      await client(registry, {
        op: 'pull',
        root,
        ref: 'stalled:v1',
        platform: 'linux/amd64',
        idleTimeoutMs: 1000,
        proxy: { mode: 'stall', afterBytes: 100_000, times: 1 },
      }),
    );
    t.is(out.error, undefined, out.error?.message);
    const bigLayer = image.manifests[0]!.layers[0]!;
    const requests = out.proxyLog!.filter((r) => r.path.endsWith(bigLayer));
    t.is(requests.length, 2);
    t.regex(requests[1]!.range ?? '', /^bytes=[1-9]\d*-$/);
    t.true(committedBlobs(root).includes(bigLayer));
  });
});

test('a pull killed mid-blob leaves a partial ingest that the next pull resumes', async (t) => {
  await withRegistry(async (registry, dir) => {
    const image = await pushWithSkopeo(registry, dir, 'killed', ['linux/amd64']);
    const root = join(dir, 'tsnet');
    const bigLayer = image.manifests[0]!.layers[0]!;
    const first = runInRegistryNetns(registry.netnsPath, CLIENT, {
      registry: registry.host,
      op: 'pull',
      root,
      ref: 'killed:v1',
      platform: 'linux/amd64',
      proxy: { mode: 'stall', afterBytes: 300_000, times: 10 },
    });
    try {
      await first.waitFor((l) => {
        const p = (l as ClientLine).progress;
        return p?.digest === bigLayer && p.current >= 300_000;
      });
    } finally {
      first.child.kill('SIGKILL');
      await first.done;
    }
    t.false(committedBlobs(root).includes(bigLayer), 'no half blob under its digest');
    const partial = (await new LocalContentStore(join(root, 'content')).ingests()).find(
      (i) => i.expected === bigLayer,
    );
    t.true((partial?.offset ?? 0) >= 300_000);

    const out = final(
      await client(registry, {
        op: 'pull',
        root,
        ref: 'killed:v1',
        platform: 'linux/amd64',
        proxy: { mode: 'record', afterBytes: 0, times: 0 },
      }),
    );
    t.is(out.error, undefined, out.error?.message);
    const request = out.proxyLog!.find((r) => r.path.endsWith(bigLayer));
    t.is(request?.range, `bytes=${partial!.offset}-`, 'the second pull asked only for the missing bytes');
    t.true(committedBlobs(root).includes(bigLayer));
  });
});

test('a corrupted blob is a digest error and a blob that keeps breaking off a clear error; neither is stored', async (t) => {
  await withRegistry(async (registry, dir) => {
    const image = await pushWithSkopeo(registry, dir, 'bad', ['linux/amd64']);
    const root = join(dir, 'tsnet');
    const corrupt = final(
      await client(registry, {
        op: 'pull',
        root,
        ref: 'bad:v1',
        platform: 'linux/amd64',
        proxy: { mode: 'corrupt', afterBytes: 1000, times: 100 },
      }),
    );
    t.is(corrupt.error?.code, 'digest-mismatch');
    t.regex(corrupt.error?.message ?? '', /has digest sha256:[0-9a-f]{64}, expected sha256:/);
    const truncated = final(
      await client(registry, {
        op: 'pull',
        root: join(dir, 'tsnet2'),
        ref: 'bad:v1',
        platform: 'linux/amd64',
        retries: 1,
        proxy: { mode: 'cut', afterBytes: 5000, times: 100 },
      }),
    );
    t.regex(truncated.error?.message ?? '', /cannot download blob sha256:[0-9a-f]{64} .* after 2 attempts/);
    for (const r of [root, join(dir, 'tsnet2')]) {
      // The small layer and the config pass the proxy untouched and stay: verified blobs are kept for reuse.
      t.false(committedBlobs(r).includes(image.manifests[0]!.layers[0]!), 'the bad layer is not stored');
      t.deepEqual(await new LocalImageStore(join(r, 'images')).list(), [], 'no image named');
    }
  });
});

test('two concurrent pulls of one Docker schema 2 image into one store both succeed and share the blobs', async (t) => {
  await withRegistry(async (registry, dir) => {
    const image = await writeBusyboxLayout(join(dir, 'layout'), 'v1', ['linux/amd64']);
    await registry.skopeo(
      'copy',
      '--format=v2s2',
      '--dest-tls-verify=false',
      `oci:${image.layout}:v1`,
      `docker://${registry.host}/docker/app:v1`,
    );
    const raw = await registry.skopeo(
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${registry.host}/docker/app:v1`,
    );
    const manifest = JSON.parse(raw) as { mediaType: string; layers: { digest: string }[] };
    t.is(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    const root = join(dir, 'tsnet');
    const both = await Promise.all(
      [1, 2].map(() => client(registry, { op: 'pull', root, ref: 'docker/app:v1', platform: 'linux/amd64' })),
    );
    for (const lines of both) {
      const out = final(lines);
      t.is(out.error, undefined, out.error?.message);
      t.is(out.result?.record.target.digest, digestOf(raw));
      t.deepEqual(
        out.result?.layers.map((l) => l.digest),
        manifest.layers.map((l) => l.digest),
      );
    }
    const images = await new LocalImageStore(join(root, 'images')).list();
    t.deepEqual(
      images.map((i) => i.name),
      [`${registry.host}/docker/app:v1`],
    );
    t.deepEqual(await new LocalContentStore(join(root, 'content')).ingests(), [], 'no ingest left behind');
  });
});
