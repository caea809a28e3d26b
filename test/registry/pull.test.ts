// Pull from a real registry (docker-registry in a test namespace), with skopeo as the independent oracle.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { parseDigest } from '../../pkg/content/digest.ts';
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
  return (await runInRegistryNetns(registry.netnsPath, CLIENT, { registry: registry.host, ...input })
    .done) as ClientLine[];
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
