// Push to a real registry (docker-registry in a test namespace); skopeo inspects and copies back what tsnet
// pushed, as the independent oracle.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { digestOf, parseDigest } from '../../pkg/content/digest.ts';
import { LocalContentStore } from '../../pkg/content/local.ts';
import { writeBlob } from '../../pkg/content/store.ts';
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

interface PushLine {
  result?: { digest: string; blobs: Record<string, string> };
  error?: { name: string; message: string };
  proxyLog?: { method: string; path: string }[];
  progress?: { digest: string; current: number; total: number };
  /** Every progress line of the run, gathered by `push`. */
  progressLines?: { digest: string; current: number; total: number }[];
}

/** Puts a test image from an OCI layout straight into tsnet's stores, named `name` (no registry involved). */
async function importLayout(root: string, image: TestImage, name: string): Promise<void> {
  const content = new LocalContentStore(join(root, 'content'));
  const m = image.manifests[0]!;
  for (const digest of [m.config, ...m.layers, m.digest]) {
    const bytes = readFileSync(join(image.layout, 'blobs', 'sha256', digest.slice(7)));
    await writeBlob(content, { ref: digest, expected: parseDigest(digest) }, bytes);
  }
  const manifest = {
    mediaType: image.mediaType,
    digest: parseDigest(m.digest),
    size: readFileSync(join(image.layout, 'blobs', 'sha256', m.digest.slice(7))).length,
  };
  await new LocalImageStore(join(root, 'images')).put({
    name,
    target: manifest,
    manifest,
    platform: { os: 'linux', architecture: 'amd64' },
  });
}

async function push(
  registry: TestRegistry,
  root: string,
  source: string,
  ref: string,
  chunkSize?: number,
): Promise<PushLine> {
  const lines = (await runInRegistryNetns(registry.netnsPath, CLIENT, {
    registry: registry.host,
    op: 'push',
    root,
    source,
    ref,
    // Through a recording proxy when chunked, to see the PATCH requests.
    ...(chunkSize !== undefined && { chunkSize, proxy: { mode: 'record', afterBytes: 0, times: 0 } }),
  }).done) as PushLine[];
  return { ...lines.at(-1)!, progressLines: lines.flatMap((l) => (l.progress ? [l.progress] : [])) };
}

/** skopeo copies `ref` back into an OCI layout; returns the manifest digest and the blobs it holds. */
async function copyBack(
  registry: TestRegistry,
  dir: string,
  ref: string,
): Promise<{ manifest: string; blobs: string[] }> {
  const out = join(dir, `back-${ref.replace(/\W/g, '-')}`);
  await registry.skopeo(
    'copy',
    '--src-tls-verify=false',
    `docker://${registry.host}/${ref}`,
    `oci:${out}:back`,
  );
  const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  const blobs = readdirSync(join(out, 'blobs', 'sha256')).map((hex) => `sha256:${hex}`);
  for (const blob of blobs) {
    if (digestOf(readFileSync(join(out, 'blobs', 'sha256', blob.slice(7)))) !== blob) {
      throw new Error(`skopeo's copy of ${blob} has another digest`);
    }
  }
  return { manifest: index.manifests[0]!.digest, blobs: blobs.sort() };
}

test('an image pushed by tsnet (monolithic, chunked, mounted, already there) is inspected and copied back by skopeo intact', async (t) => {
  const registry = await startRegistry();
  try {
    await withTempDir(async (dir) => {
      const root = join(dir, 'tsnet');
      const image = await writeBusyboxLayout(join(dir, 'layout'), 'v1', ['linux/amd64']);
      const m = image.manifests[0]!;
      const expectedBlobs = [m.config, ...m.layers, m.digest].sort();
      const name = `${registry.host}/local/app:v1`;
      await importLayout(root, image, name);

      const first = await push(registry, root, name, 'local/app:v1');
      t.is(first.error, undefined, first.error?.message);
      t.is(first.result?.digest, m.digest);
      t.deepEqual(Object.values(first.result!.blobs), ['uploaded', 'uploaded', 'uploaded']);
      const layerProgress = first.progressLines!.filter((p) => p.digest === m.layers[0]);
      t.true(
        layerProgress.some((p) => p.current > 0 && p.current < p.total),
        'bytes reported while uploading',
      );
      t.is(layerProgress.at(-1)?.current, layerProgress.at(-1)?.total);
      const raw = await registry.skopeo(
        'inspect',
        '--raw',
        '--tls-verify=false',
        `docker://${registry.host}/local/app:v1`,
      );
      t.is(digestOf(raw) as string, m.digest, 'skopeo sees the manifest bytes tsnet pushed');
      const back = await copyBack(registry, dir, 'local/app:v1');
      t.is(back.manifest, m.digest);
      t.deepEqual(back.blobs, expectedBlobs);

      const again = await push(registry, root, name, 'local/app:v1');
      t.deepEqual(
        Object.values(again.result!.blobs),
        ['exists', 'exists', 'exists'],
        'HEAD finds every blob',
      );

      const mounted = await push(registry, root, name, 'mounted/app:v1');
      t.deepEqual(
        Object.values(mounted.result!.blobs),
        ['mounted', 'mounted', 'mounted'],
        'cross-repository mount',
      );
      t.deepEqual((await copyBack(registry, dir, 'mounted/app:v1')).blobs, expectedBlobs);

      const other = await writeBusyboxLayout(join(dir, 'layout2'), 'v1', ['linux/arm64']);
      const otherName = `${registry.host}/chunked/app:v1`;
      await importLayout(join(dir, 'tsnet2'), other, otherName);
      const chunked = await push(registry, join(dir, 'tsnet2'), otherName, 'chunked/app:v1', 256 * 1024);
      t.is(chunked.error, undefined, chunked.error?.message);
      t.deepEqual(Object.values(chunked.result!.blobs), ['uploaded', 'uploaded', 'uploaded']);
      const patches = chunked.proxyLog!.filter((r) => r.method === 'PATCH').length;
      t.true(patches >= 4, `the 1 MB busybox layer went up in 256 KiB chunks (${patches} PATCH requests)`);
      const o = other.manifests[0]!;
      const chunkedBack = await copyBack(registry, dir, 'chunked/app:v1');
      t.is(chunkedBack.manifest, o.digest);
      t.deepEqual(chunkedBack.blobs, [o.config, ...o.layers, o.digest].sort());
    });
  } finally {
    await registry.stop();
  }
});

test('pushing a name the image store does not have is a clear error', async (t) => {
  const registry = await startRegistry();
  try {
    await withTempDir(async (dir) => {
      const out = await push(registry, join(dir, 'tsnet'), `${registry.host}/nothing:v1`, 'nothing:v1');
      t.is(out.error?.name, 'ManifestError');
      t.regex(out.error?.message ?? '', /no local image 127\.0\.0\.1:5000\/nothing:v1/);
    });
  } finally {
    await registry.stop();
  }
});
