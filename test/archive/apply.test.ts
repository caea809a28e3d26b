import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import test from 'ava';
import { lgetxattr } from '../../native/libc.ts';
import { applyLayer, LayerError, layerPath } from '../../pkg/archive/apply.ts';
import { type TarEntry as Entry, makeTar } from '../helpers/tar.ts';
import { withTempDir } from '../helpers/tmp.ts';

const MTIME = new Date('2024-05-06T07:08:09Z');

const sample: Entry[] = [
  { name: 'etc/', type: 'directory', mode: 0o755, mtime: MTIME },
  { name: 'etc/hostname', content: 'layer\n', mode: 0o644, uid: 1000, gid: 1001, mtime: MTIME },
  { name: 'bin/', type: 'directory', mode: 0o755 },
  { name: 'bin/busybox', content: '#!busybox', mode: 0o4755, uid: 0, gid: 0, mtime: MTIME },
  { name: 'bin/sh', type: 'symlink', linkname: 'busybox', mtime: MTIME },
  { name: 'bin/ls', type: 'link', linkname: 'bin/busybox' },
  { name: 'dev/', type: 'directory', mode: 0o755 },
  { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
  { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660 },
  { name: 'run/fifo', type: 'fifo', mode: 0o600 },
  { name: 'opt/tagged', content: 'x', pax: { 'SCHILY.xattr.user.tsnet': 'kept' } },
  { name: 'var/lib/', type: 'directory', mode: 0o700, uid: 5, gid: 6, mtime: MTIME },
];

test('a layer keeps contents, owners, modes, times, links, devices, FIFOs and xattrs', async (t) => {
  await withTempDir(async (dir) => {
    const result = await applyLayer(Readable.from(await makeTar(sample)), dir);
    t.is(result.compression, 'none');
    t.is(result.entries, sample.length);
    t.deepEqual(result.warnings, []);
    t.is(readFileSync(join(dir, 'etc/hostname'), 'utf8'), 'layer\n');
    const hostname = statSync(join(dir, 'etc/hostname'));
    t.is(hostname.uid, 1000);
    t.is(hostname.gid, 1001);
    t.is(hostname.mode & 0o7777, 0o644);
    t.is(hostname.mtimeMs, MTIME.getTime());
    t.is(statSync(join(dir, 'bin/busybox')).mode & 0o7777, 0o4755, 'set-uid survives the chown');
    t.is(readlinkSync(join(dir, 'bin/sh')), 'busybox');
    t.is(lstatSync(join(dir, 'bin/sh')).mtimeMs, MTIME.getTime());
    t.is(statSync(join(dir, 'bin/ls')).ino, statSync(join(dir, 'bin/busybox')).ino, 'hard link');
    const devNull = statSync(join(dir, 'dev/null'));
    t.true(devNull.isCharacterDevice());
    t.is(devNull.rdev, (1 << 8) | 3);
    t.true(statSync(join(dir, 'dev/loop0')).isBlockDevice());
    t.true(statSync(join(dir, 'run/fifo')).isFIFO());
    t.is(statSync(join(dir, 'run')).mode & 0o7777, 0o755, 'a parent the tar omits is made 0755');
    t.is(lgetxattr(join(dir, 'opt/tagged'), 'user.tsnet')?.toString(), 'kept');
    const varLib = statSync(join(dir, 'var/lib'));
    t.is(varLib.mode & 0o7777, 0o700);
    t.is(varLib.uid, 5);
    t.is(statSync(join(dir, 'etc')).mtimeMs, MTIME.getTime(), 'directory times are set after their entries');
  });
});

test('GNU tar as an oracle: the same tree, owners and modes as tar -xp', async (t) => {
  await withTempDir(async (dir) => {
    const archive = await makeTar(sample.filter((e) => !e.pax));
    const ours = join(dir, 'ours');
    const theirs = join(dir, 'theirs');
    mkdirSync(ours);
    mkdirSync(theirs);
    await applyLayer(Readable.from(gzipSync(archive)), ours);
    execFileSync('tar', ['-xpf', '-', '--numeric-owner', '-C', theirs], { input: archive });
    const listing = (root: string) =>
      execFileSync('find', ['.', '-printf', '%p %y %m %U:%G %s %l\\n'], { cwd: root, encoding: 'utf8' })
        .split('\n')
        .filter((line) => line && !line.startsWith('. '))
        .map((line) => (line.includes(' d ') ? line.replace(/ \d+ $/, ' ') : line))
        .sort();
    t.deepEqual(listing(ours), listing(theirs));
  });
});

test('whiteouts become overlay whiteouts; an opaque marker sets trusted.overlay.opaque', async (t) => {
  await withTempDir(async (dir) => {
    await applyLayer(
      Readable.from(
        await makeTar([
          { name: 'etc/.wh.passwd', content: '' },
          { name: 'usr/share/.wh..wh..opq', content: '' },
          { name: 'usr/share/kept', content: 'new' },
          { name: 'tmp/.wh..wh.plnk', content: '' },
        ]),
      ),
      dir,
    );
    const whiteout = lstatSync(join(dir, 'etc/passwd'));
    t.true(whiteout.isCharacterDevice());
    t.is(whiteout.rdev, 0);
    t.false(existsSync(join(dir, 'etc/.wh.passwd')));
    t.is(lgetxattr(join(dir, 'usr/share'), 'trusted.overlay.opaque')?.toString(), 'y');
    t.deepEqual(readdirSync(join(dir, 'usr/share')), ['kept']);
    t.deepEqual(readdirSync(join(dir, 'tmp')), [], 'aufs bookkeeping is dropped');
  });
});

test('a later entry replaces an earlier one of another type; a directory keeps its contents', async (t) => {
  await withTempDir(async (dir) => {
    await applyLayer(
      Readable.from(
        await makeTar([
          { name: 'a', type: 'symlink', linkname: '/etc/shadow' },
          { name: 'a', content: 'file now' },
          { name: 'd/x', content: '1' },
          { name: 'd/', type: 'directory', mode: 0o711 },
        ]),
      ),
      dir,
    );
    t.true(lstatSync(join(dir, 'a')).isFile(), 'the symlink is replaced, not followed');
    t.is(readFileSync(join(dir, 'a'), 'utf8'), 'file now');
    t.is(readFileSync(join(dir, 'd/x'), 'utf8'), '1');
    t.is(statSync(join(dir, 'd')).mode & 0o7777, 0o711);
  });
});

const escapes: [string, Entry[], RegExp][] = [
  ['a ../ name', [{ name: '../evil', content: 'x' }], /'\.\.' would leave the layer/],
  ['a ../ in the middle', [{ name: 'a/../../evil', content: 'x' }], /'\.\.' would leave the layer/],
  ['an absolute name', [{ name: '/etc/evil', content: 'x' }], /absolute path/],
  [
    'a write through a symlink to the host',
    [
      { name: 'escape', type: 'symlink', linkname: '/tmp' },
      { name: 'escape/evil', content: 'x' },
    ],
    /goes through the symlink "escape"/,
  ],
  [
    'a write through a relative symlink',
    [
      { name: 'up', type: 'symlink', linkname: '../..' },
      { name: 'up/evil', content: 'x' },
    ],
    /goes through the symlink "up"/,
  ],
  ['a hard link out of the layer', [{ name: 'h', type: 'link', linkname: '../../etc/passwd' }], /'\.\.'/],
  [
    'a hard link to an absolute path',
    [{ name: 'h', type: 'link', linkname: '/etc/passwd' }],
    /absolute path/,
  ],
  [
    'a hard link through a symlink',
    [
      { name: 's', type: 'symlink', linkname: '/etc' },
      { name: 'h', type: 'link', linkname: 's/passwd' },
    ],
    /goes through the symlink "s"/,
  ],
  ['a hard link to nothing', [{ name: 'h', type: 'link', linkname: 'missing' }], /not in the layer/],
];

for (const [what, entries, message] of escapes) {
  test(`refused: ${what}`, async (t) => {
    await withTempDir(async (dir) => {
      const layer = join(dir, 'layer');
      mkdirSync(layer);
      const err = await t.throwsAsync(applyLayer(Readable.from(await makeTar(entries)), layer), {
        instanceOf: LayerError,
      });
      t.regex(err?.message ?? '', message);
      t.deepEqual(readdirSync(dir), ['layer'], 'nothing written beside the layer');
      t.false(existsSync('/tmp/evil'));
    });
  });
}

test('layerPath normalises the writers habits and refuses the rest', (t) => {
  t.deepEqual(layerPath('./usr/bin/'), ['usr', 'bin']);
  t.deepEqual(layerPath('usr//bin/./sh'), ['usr', 'bin', 'sh']);
  t.deepEqual(layerPath('./'), []);
  t.throws(() => layerPath('a\0b'), { instanceOf: LayerError });
});

test('not a tar, and zstd: clear errors', async (t) => {
  await withTempDir(async (dir) => {
    await t.throwsAsync(applyLayer(Readable.from(Buffer.alloc(700, 7)), dir), {
      instanceOf: LayerError,
      message: /not a valid tar/,
    });
    await t.throwsAsync(applyLayer(Readable.from(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0])), dir), {
      instanceOf: LayerError,
      message: /zstd/,
    });
    const truncated = gzipSync(await makeTar(sample)).subarray(0, 200);
    await t.throwsAsync(applyLayer(Readable.from(truncated), dir), { instanceOf: LayerError });
  });
});

test('the result carries the DiffID: sha256 of the uncompressed tar, gzip or not', async (t) => {
  await withTempDir(async (dir) => {
    const archive = await makeTar(sample.slice(0, 4));
    const expected = `sha256:${createHash('sha256').update(archive).digest('hex')}`;
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const plain = await applyLayer(Readable.from(archive), join(dir, 'a'));
    const gz = await applyLayer(Readable.from(gzipSync(archive)), join(dir, 'b'));
    t.is(plain.diffId, expected);
    t.is(gz.diffId, expected);
    t.is(gz.compression, 'gzip');
  });
});
