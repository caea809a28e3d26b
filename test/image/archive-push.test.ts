// An image loaded from a docker-archive (uncompressed layers under a synthesised Docker schema 2 manifest) is
// pushed by tsnet to a real registry, which takes the manifest; skopeo inspects it with the same diffIDs and
// copies it back intact, and tsnet pulls it again with the same manifest digest.
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { loadArchive } from '../../pkg/image/archive-load.ts';
import { formatPlatform, hostPlatform } from '../../pkg/image/platform.ts';
import { runInRegistryNetns, startRegistry, writeBusyboxLayout } from '../helpers/registry.ts';
import { withTempDir } from '../helpers/tmp.ts';
import { storedImage, storesIn } from './archive-fixtures.ts';

const run = promisify(execFile);
const CLIENT = join(import.meta.dirname, '..', 'registry', 'fixtures', 'client.ts');

interface ClientLine {
  result?: { digest?: string; record?: { manifest: { digest: string } } };
  error?: { message: string };
}

test('a docker-archive image pushes to a registry; skopeo and a pull read it back intact', async (t) => {
  const registry = await startRegistry();
  try {
    await withTempDir(async (dir) => {
      await writeBusyboxLayout(join(dir, 'layout'), 'v1', [formatPlatform(hostPlatform())]);
      const file = join(dir, 'docker.tar');
      await run('skopeo', ['copy', `oci:${join(dir, 'layout')}:v1`, `docker-archive:${file}:busybox:v1`]);
      const root = join(dir, 'tsnet');
      const deps = storesIn(root);
      const [loaded] = await loadArchive(createReadStream(file), deps);
      const { manifest, config } = await storedImage(deps, 'busybox:v1');

      const pushed = (
        (await runInRegistryNetns(registry.netnsPath, CLIENT, {
          op: 'push',
          root,
          registry: registry.host,
          source: 'docker.io/library/busybox:v1',
          ref: 'loaded/busybox:v1',
        }).done) as ClientLine[]
      ).at(-1)!;
      t.is(pushed.error, undefined, pushed.error?.message);
      t.is(pushed.result?.digest, loaded!.manifest.digest);

      const inspected = JSON.parse(
        await registry.skopeo('inspect', '--tls-verify=false', `docker://${registry.host}/loaded/busybox:v1`),
      ) as { Layers: string[]; Digest: string };
      t.is(inspected.Digest, loaded!.manifest.digest);
      t.deepEqual(inspected.Layers, config.rootfs.diff_ids);
      t.deepEqual(
        inspected.Layers,
        manifest.layers.map((l) => l.digest),
      );
      await registry.skopeo(
        'copy',
        '--src-tls-verify=false',
        `docker://${registry.host}/loaded/busybox:v1`,
        `oci:${join(dir, 'back')}:back`,
      );

      const pulled = (
        (await runInRegistryNetns(registry.netnsPath, CLIENT, {
          op: 'pull',
          root: join(dir, 'again'),
          registry: registry.host,
          ref: 'loaded/busybox:v1',
        }).done) as ClientLine[]
      ).at(-1)!;
      t.is(pulled.error, undefined, pulled.error?.message);
      t.is(pulled.result?.record?.manifest.digest, loaded!.manifest.digest);
    });
  } finally {
    await registry.stop();
  }
});
