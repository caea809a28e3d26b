import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import test from 'ava';
import tar from 'tar-stream';
import { chainIds, type LayerSource, unpackLayers } from '../../pkg/snapshot/chain.ts';
import { mountAll, unmount } from '../../pkg/snapshot/mount.ts';
import { OverlaySnapshotter, SnapshotError } from '../../pkg/snapshot/overlay.ts';
import { withTempDir } from '../helpers/tmp.ts';

async function layer(entries: { name: string; content?: string; type?: 'directory' }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { content, ...header } of entries) pack.entry(header, content ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

function source(archive: Buffer): LayerSource {
  return {
    diffId: `sha256:${createHash('sha256').update(archive).digest('hex')}`,
    open: async () => Readable.from(gzipSync(archive)),
  };
}

/** Mounts, runs `fn`, and always unmounts. */
async function withMounted(
  snapshotter: OverlaySnapshotter,
  key: string,
  target: string,
  fn: () => Promise<void>,
) {
  mkdirSync(target, { recursive: true });
  mountAll(await snapshotter.mounts(key), target);
  try {
    await fn();
  } finally {
    unmount(target);
  }
}

test('prepare, commit, view, remove: the rules of the chain', async (t) => {
  await withTempDir(async (dir) => {
    const s = await OverlaySnapshotter.open(dir);
    const base = await s.prepare('base-active');
    t.is(base[0]?.type, 'bind', 'a snapshot without parent is a plain directory');
    await s.commit('base', 'base-active');
    t.is((await s.stat('base'))?.kind, 'committed');
    t.is(await s.stat('base-active'), undefined);
    const top = await s.prepare('ctr', 'base');
    t.is(top[0]?.type, 'overlay');
    t.deepEqual(top[0]?.options.slice(0, 1), [`lowerdir=${(await s.stat('base'))?.id}/fs`]);
    const view = await s.view('look', 'base');
    t.deepEqual(view[0]?.options, ['rbind', 'ro']);

    const kind = async (p: Promise<unknown>) =>
      ((await t.throwsAsync(p, { instanceOf: SnapshotError })) as SnapshotError).kind;
    t.is(await kind(s.prepare('ctr', 'base')), 'exists');
    t.is(await kind(s.prepare('x', 'nope')), 'not-found');
    t.is(await kind(s.prepare('y', 'ctr')), 'invalid', 'an active snapshot cannot be a parent');
    t.is(await kind((s.view as (key: string) => Promise<unknown>)('v')), 'invalid');
    t.is(await kind(s.remove('base')), 'in-use');
    t.is(await kind(s.commit('base', 'look')), 'invalid');
    t.is(await kind(s.prepare('bad key', 'base')), 'invalid');

    await s.remove('ctr');
    await s.remove('look');
    await s.remove('base');
    t.deepEqual(await s.list(), []);
    t.deepEqual(readdirSync(join(dir, 'snapshots')), []);
  });
});

test('layers with a whiteout and an opaque dir merge as overlayfs says; writes land in the upper dir', async (t) => {
  await withTempDir(async (dir) => {
    const s = await OverlaySnapshotter.open(join(dir, 'sn'));
    const lower = source(
      await layer([
        { name: 'etc/passwd', content: 'root:x:0:0' },
        { name: 'etc/group', content: 'root:x:0:' },
        { name: 'usr/share/a', content: 'a' },
        { name: 'usr/share/b', content: 'b' },
      ]),
    );
    const upper = source(
      await layer([
        { name: 'etc/.wh.passwd' },
        { name: 'usr/share/.wh..wh..opq' },
        { name: 'usr/share/c', content: 'c' },
      ]),
    );
    const seen: string[] = [];
    const top = await unpackLayers(s, [lower, upper], (p) => seen.push(`${p.layer}:${p.state}`));
    t.is(top, chainIds([lower.diffId, upper.diffId])[1]);
    t.deepEqual(seen, ['0:unpacked', '1:unpacked']);
    t.deepEqual(
      (await s.list()).map((i) => i.key).sort(),
      chainIds([lower.diffId, upper.diffId]).sort(),
      'only the committed layers remain',
    );

    await s.prepare('ctr', top);
    const rootfs = join(dir, 'rootfs');
    await withMounted(s, 'ctr', rootfs, async () => {
      t.false(existsSync(join(rootfs, 'etc/passwd')), 'whiteout hides the lower file');
      t.is(readFileSync(join(rootfs, 'etc/group'), 'utf8'), 'root:x:0:');
      t.deepEqual(readdirSync(join(rootfs, 'usr/share')), ['c'], 'opaque dir hides the lower entries');
      writeFileSync(join(rootfs, 'etc/new'), 'written');
    });
    t.is(readFileSync(join(await s.directory('ctr'), 'etc/new'), 'utf8'), 'written');

    const again = await unpackLayers(s, [lower, upper], (p) => seen.push(`${p.layer}:${p.state}`));
    t.is(again, top);
    t.deepEqual(seen.slice(2), ['0:present', '1:present'], 'a chain is unpacked once');
    await s.remove('ctr');
  });
});

test('40 layers under a long root mount: lower dirs are short relative names', async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, 'a-rather-long-directory-name-for-the-snapshotter-root', 'x'.repeat(60));
    const s = await OverlaySnapshotter.open(root);
    const layers: LayerSource[] = [];
    const count = 40;
    t.true(
      count * (root.length + '/snapshots/NN/fs:'.length) > 4096,
      'absolute lower dirs would not fit a page',
    );
    for (let i = 0; i < count; i++) layers.push(source(await layer([{ name: `l${i}`, content: String(i) }])));
    const top = await unpackLayers(s, layers);
    await s.prepare('ctr', top);
    const rootfs = join(dir, 'rootfs');
    await withMounted(s, 'ctr', rootfs, async () => {
      t.is(readdirSync(rootfs).length, count);
      t.is(readFileSync(join(rootfs, 'l0'), 'utf8'), '0');
      t.is(readFileSync(join(rootfs, `l${count - 1}`), 'utf8'), String(count - 1));
    });
  });
});

test('a layer whose content is not its DiffID is refused and leaves nothing', async (t) => {
  await withTempDir(async (dir) => {
    const s = await OverlaySnapshotter.open(dir);
    const good = source(await layer([{ name: 'a', content: 'a' }]));
    const lying = {
      ...source(await layer([{ name: 'b', content: 'b' }])),
      diffId: `sha256:${'0'.repeat(64)}`,
    };
    await t.throwsAsync(unpackLayers(s, [good, lying]), {
      message: /has DiffID sha256:[0-9a-f]{64}, but the image config says/,
    });
    t.deepEqual(
      (await s.list()).map((i) => i.key),
      [good.diffId],
    );
    t.is(readdirSync(join(dir, 'snapshots')).length, 1);
  });
});

test('concurrent unpacks of one chain commit it once; a directory no snapshot owns goes at open', async (t) => {
  await withTempDir(async (dir) => {
    const layers = [
      source(await layer([{ name: 'a', content: 'a' }])),
      source(await layer([{ name: 'b', content: 'b' }])),
    ];
    const [one, two] = await Promise.all([
      OverlaySnapshotter.open(dir).then((s) => unpackLayers(s, layers)),
      OverlaySnapshotter.open(dir).then((s) => unpackLayers(s, layers)),
    ]);
    t.is(one, two);
    const s = await OverlaySnapshotter.open(dir);
    t.is((await s.list()).length, 2);
    t.is(readdirSync(join(dir, 'snapshots')).length, 2);
    mkdirSync(join(dir, 'snapshots', '999', 'fs'), { recursive: true });
    await OverlaySnapshotter.open(dir);
    t.false(existsSync(join(dir, 'snapshots', '999')));
  });
});
