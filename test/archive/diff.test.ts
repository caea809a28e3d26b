import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import test from 'ava';
import tar from 'tar-stream';
import { lgetxattr, llistxattr, lsetxattr, mknod, S_IFCHR } from '../../native/libc.ts';
import { applyLayer } from '../../pkg/archive/apply.ts';
import { DiffError, diffUpperDir, writeLayer } from '../../pkg/archive/diff.ts';
import { mountAll, unmount } from '../../pkg/snapshot/mount.ts';
import { withTempDir } from '../helpers/tmp.ts';

/** Every entry below `root`: type, mode, owner, content digest or link target, user xattrs (not times). */
function snapshotTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const host = join(root, path);
      const st = lstatSync(host);
      const xattrs = llistxattr(host)
        .filter((n) => n.startsWith('user.'))
        .sort()
        .map((n) => `${n}=${lgetxattr(host, n)?.toString()}`)
        .join(',');
      let what = '';
      if (st.isDirectory()) what = 'dir';
      else if (st.isSymbolicLink()) what = `symlink:${readlinkSync(host)}`;
      else if (st.isFile())
        what = `file:${createHash('sha256').update(readFileSync(host)).digest('hex').slice(0, 12)}:links=${st.nlink}`;
      else if (st.isCharacterDevice()) what = `chr:${st.rdev}`;
      else if (st.isFIFO()) what = 'fifo';
      out[path] = `${what} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${xattrs}`;
      if (st.isDirectory()) visit(path);
    }
  };
  visit('');
  return out;
}

async function tarEntries(
  stream: Readable,
): Promise<{ name: string; type: string; pax?: Record<string, string> }[]> {
  const extract = tar.extract();
  const entries: { name: string; type: string; pax?: Record<string, string> }[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const { name, type, pax } = entry.header;
      entries.push({ name, type: type ?? 'file', ...(pax ? { pax: pax as Record<string, string> } : {}) });
      entry.resume();
    }
  })();
  stream.pipe(extract);
  await done;
  return entries;
}

function makeLower(lower: string) {
  mkdirSync(join(lower, 'a'), { recursive: true });
  writeFileSync(join(lower, 'a/keep'), 'keep\n');
  writeFileSync(join(lower, 'a/gone'), 'gone\n');
  mkdirSync(join(lower, 'b/deep'), { recursive: true });
  writeFileSync(join(lower, 'b/old'), 'old\n');
  writeFileSync(join(lower, 'b/deep/older'), 'older\n');
  mkdirSync(join(lower, 'gonedir/sub'), { recursive: true });
  writeFileSync(join(lower, 'gonedir/sub/f'), 'f\n');
  writeFileSync(join(lower, 'changed'), 'v1\n');
}

/** The changes a RUN step would make, through the merged view (so overlayfs writes the upper dir itself). */
function changeThroughMerged(merged: string) {
  rmSync(join(merged, 'a/gone'));
  rmSync(join(merged, 'gonedir'), { recursive: true });
  rmSync(join(merged, 'b'), { recursive: true });
  mkdirSync(join(merged, 'b')); // a directory made where one was removed: overlayfs marks it opaque
  writeFileSync(join(merged, 'b/new'), 'new\n');
  writeFileSync(join(merged, 'changed'), 'v2, longer\n');
  chmodSync(join(merged, 'a/keep'), 0o600); // metadata-only change: a copy-up
  mkdirSync(join(merged, 'srv/app'), { recursive: true, mode: 0o750 });
  writeFileSync(join(merged, 'srv/app/run.sh'), '#!/bin/sh\n', { mode: 0o4755 });
  chmodSync(join(merged, 'srv/app/run.sh'), 0o4755);
  chownSync(join(merged, 'srv/app'), 1000, 1001);
  symlinkSync('app/run.sh', join(merged, 'srv/run'));
  linkSync(join(merged, 'srv/app/run.sh'), join(merged, 'srv/hard'));
  lsetxattr(join(merged, 'srv/app/run.sh'), 'user.origin', Buffer.from('build'));
  mknod(join(merged, 'srv/pipe'), 0o010000 | 0o600);
}

test('diff round trip: the upper dir of a real overlay, applied onto the lower copy, gives the merged view', async (t) => {
  await withTempDir(async (dir) => {
    const [lower, upper, work, merged, copy] = ['lower', 'upper', 'work', 'merged', 'copy'].map((n) =>
      join(dir, n),
    ) as [string, string, string, string, string];
    for (const d of [lower, upper, work, merged]) mkdirSync(d);
    makeLower(lower);
    let expected: Record<string, string>;
    mountAll(
      [
        {
          type: 'overlay',
          source: 'overlay',
          options: [`lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${work}`],
        },
      ],
      merged,
    );
    try {
      changeThroughMerged(merged);
      expected = snapshotTree(merged);
    } finally {
      unmount(merged);
    }
    // The upper dir holds what the test relies on: a whiteout device and an opaque directory.
    t.true(lstatSync(join(upper, 'a/gone')).isCharacterDevice());
    t.is(lgetxattr(join(upper, 'b'), 'trusted.overlay.opaque')?.toString(), 'y');

    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        chunks.push(chunk);
        cb();
      },
    });
    const layer = await writeLayer(upper, sink);
    const blob = Buffer.concat(chunks);
    t.is(layer.size, blob.length);
    t.is(layer.digest, `sha256:${createHash('sha256').update(blob).digest('hex')}`);
    t.is(layer.diffId, `sha256:${createHash('sha256').update(gunzipSync(blob)).digest('hex')}`);
    t.is(layer.uncompressedSize, gunzipSync(blob).length);
    t.deepEqual(layer.warnings, []);

    const entries = await tarEntries(Readable.from(gunzipSync(blob)));
    const names = entries.map((e) => e.name);
    t.true(names.includes('a/.wh.gone'));
    t.true(names.includes('.wh.gonedir'));
    t.true(names.includes('b/.wh..wh..opq'));
    t.false(
      names.some((n) => n.startsWith('gonedir/')),
      'nothing below a removed directory',
    );
    t.deepEqual(entries.find((e) => e.name === 'srv/hard')?.type, 'link');
    t.is(entries.find((e) => e.name === 'srv/app/run.sh')?.pax?.['SCHILY.xattr.user.origin'], 'build');
    t.false(
      entries.some((e) => Object.keys(e.pax ?? {}).some((k) => k.includes('trusted.overlay'))),
      'overlayfs bookkeeping stays out of the layer',
    );

    // apply.ts writes a layer in overlayfs form (whiteouts as devices, opaque dirs as xattrs), as the snapshotter
    // keeps layers: the applied layer over the lower dir, mounted, must show what the original merged view did.
    mkdirSync(copy);
    const applied = await applyLayer(Readable.from(blob), copy);
    t.is(applied.diffId, layer.diffId);
    mountAll([{ type: 'overlay', source: 'overlay', options: [`lowerdir=${copy}:${lower}`] }], merged);
    try {
      t.deepEqual(snapshotTree(merged), expected);
    } finally {
      unmount(merged);
    }
  });
});

test('diff is deterministic: the same upper dir gives the same DiffID', async (t) => {
  await withTempDir(async (dir) => {
    mkdirSync(join(dir, 'd/e'), { recursive: true });
    writeFileSync(join(dir, 'd/e/f'), 'x');
    writeFileSync(join(dir, 'Z'), 'z');
    writeFileSync(join(dir, 'a'), 'a');
    mknod(join(dir, 'd/wh'), S_IFCHR, 0, 0);
    const digest = async () => {
      const hash = createHash('sha256');
      for await (const chunk of diffUpperDir(dir)) hash.update(chunk as Buffer);
      return hash.digest('hex');
    };
    t.is(await digest(), await digest());
    const names = (await tarEntries(diffUpperDir(dir))).map((e) => e.name);
    // In byte order of the upper dir's names, as containerd walks it: `wh` after `e`, whatever its tar name.
    t.deepEqual(names, ['Z', 'a', 'd/', 'd/e/', 'd/e/f', 'd/.wh.wh']);
  });
});

test('an empty upper dir is an empty layer (the builder can skip it)', async (t) => {
  await withTempDir(async (dir) => {
    const layer = await writeLayer(dir, new PassThrough().resume());
    t.is(layer.entries, 0);
  });
});

/** Whether this kernel mounts an overlay with redirect_dir=on (probed once, in a temp dir, unmounted at once). */
function redirectDirSupported(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-redirect-'));
  try {
    for (const d of ['l', 'u', 'w', 'm']) mkdirSync(join(dir, d));
    const options = ['l', 'u', 'w'].map(
      (d, i) => `${['lowerdir', 'upperdir', 'workdir'][i]}=${join(dir, d)}`,
    );
    mountAll(
      [{ type: 'overlay', source: 'overlay', options: [...options, 'redirect_dir=on'] }],
      join(dir, 'm'),
    );
    unmount(join(dir, 'm'));
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Skipped, with the reason in its title, where the kernel has no redirect_dir.
(redirectDirSupported() ? test : test.skip)(
  'an upper dir that needs its lower dirs (redirect_dir) is refused, not turned into a wrong layer',
  async (t) => {
    await withTempDir(async (dir) => {
      const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((n) => join(dir, n)) as [
        string,
        string,
        string,
        string,
      ];
      for (const d of [lower, upper, work, merged]) mkdirSync(d);
      mkdirSync(join(lower, 'dir'));
      writeFileSync(join(lower, 'dir/f'), 'x');
      const options = [`lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${work}`, 'redirect_dir=on'];
      mountAll([{ type: 'overlay', source: 'overlay', options }], merged);
      try {
        renameSync(join(merged, 'dir'), join(merged, 'moved'));
      } finally {
        unmount(merged);
      }
      await t.throwsAsync(writeLayer(upper, new PassThrough().resume()), {
        instanceOf: DiffError,
        message: /^moved: has trusted.overlay.redirect/,
      });
    });
  },
);
