import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { digestOf } from '../../pkg/content/digest.ts';
import { LocalImageStore } from '../../pkg/image/store.ts';
import { withTempDir } from '../helpers/tmp.ts';

const platform = { os: 'linux', architecture: 'amd64' };
const descriptor = (s: string) => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: digestOf(s),
  size: s.length,
});

test('names are canonical references; put moves a name, delete removes it', async (t) => {
  await withTempDir(async (root) => {
    const images = new LocalImageStore(root);
    const first = await images.put({
      name: 'busybox',
      target: descriptor('a'),
      manifest: descriptor('a'),
      platform,
    });
    t.is(first.name, 'docker.io/library/busybox:latest');
    t.is((await images.get('docker.io/library/busybox'))?.target.digest, digestOf('a'));
    const moved = await images.put({
      name: 'busybox:latest',
      target: descriptor('b'),
      manifest: descriptor('b'),
      platform,
    });
    t.is(moved.createdAt, first.createdAt);
    t.is((await images.get('busybox'))?.target.digest, digestOf('b'));
    t.true(await images.delete('busybox'));
    t.false(await images.delete('busybox'));
    t.deepEqual(await images.list(), []);
    await t.throwsAsync(
      images.put({ name: 'Bad Name', target: descriptor('a'), manifest: descriptor('a'), platform }),
      {
        name: 'ImageReferenceError',
      },
    );
    t.deepEqual(
      readdirSync(root).filter((f) => f.endsWith('.tmp')),
      [],
      'no temp files left',
    );
  });
});

test('concurrent puts from this process and from other processes lose no name', async (t) => {
  await withTempDir(async (root) => {
    const images = new LocalImageStore(root);
    const script = `
      import { LocalImageStore } from ${JSON.stringify(join(import.meta.dirname, '../../pkg/image/store.ts'))};
      import { digestOf } from ${JSON.stringify(join(import.meta.dirname, '../../pkg/content/digest.ts'))};
      const s = new LocalImageStore(process.argv[1]);
      const d = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(process.argv[2]), size: 1 };
      await Promise.all(Array.from({ length: 10 }, (_, i) =>
        s.put({ name: 'proc' + process.argv[2] + '/img:' + i, target: d, manifest: d, platform: { os: 'linux', architecture: 'amd64' } })));
    `;
    const children = [1, 2].map((n) =>
      spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', script, root, String(n)], {
        stdio: 'inherit',
      }),
    );
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        images.put({ name: `local/img:${i}`, target: descriptor('x'), manifest: descriptor('x'), platform }),
      ),
    );
    const codes = await Promise.all(children.map(async (c) => (await once(c, 'exit'))[0]));
    t.deepEqual(codes, [0, 0]);
    t.is((await images.list()).length, 30);
  });
});
