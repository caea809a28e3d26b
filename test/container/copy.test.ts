// docker cp both ways and docker export: over a stopped container's rootfs (a directory here), and over a real
// running busybox container under conmon+runc, reached through /proc/PID/root so its bind mounts and tmpfs
// are seen. Symlinks are resolved inside the root; tars are checked before anything is written. Oracles: the
// host files, and `nsenter` into the container's mount namespace.

import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'ava';
import {
  ContainerPathNotFoundError,
  CopyError,
  copyFromContainer,
  copyToContainer,
  exportContainer,
  resolveInRoot,
} from '../../pkg/container/copy.ts';
import type { ContainerHandle } from '../../pkg/container/handle.ts';
import { type FixtureContainer, runFixtureContainer, whyContainersCannotRun } from '../helpers/container.ts';
import { fixtureHandle, stoppedHandle, tarStream } from '../helpers/handle.ts';
import { makeTar, readTar } from '../helpers/tar.ts';
import { withTempDir } from '../helpers/tmp.ts';

/** A small rootfs: /etc/hostname, /data/a.txt, /data/sub/b.txt, symlinks in and out of it. */
function layRootfs(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  mkdirSync(join(rootfs, 'data', 'sub'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'hostname'), 'inside\n');
  writeFileSync(join(rootfs, 'data', 'a.txt'), 'a');
  writeFileSync(join(rootfs, 'data', 'sub', 'b.txt'), 'b');
  symlinkSync('/../../etc', join(rootfs, 'escape'));
  symlinkSync('../../../../etc/hostname', join(rootfs, 'data', 'hostname-link'));
  symlinkSync('/data', join(rootfs, 'datalink'));
  return rootfs;
}

test('resolveInRoot keeps absolute and .. symlinks inside the root', async (t) => {
  await withTempDir(async (dir) => {
    const rootfs = layRootfs(dir);
    t.is(await resolveInRoot(rootfs, '/escape/hostname'), join(rootfs, 'etc', 'hostname'));
    t.is(await resolveInRoot(rootfs, '/data/hostname-link'), join(rootfs, 'etc', 'hostname'));
    t.is(await resolveInRoot(rootfs, '/../../../etc/hostname'), join(rootfs, 'etc', 'hostname'));
    t.is(await resolveInRoot(rootfs, '/..'), `${rootfs}/`);
    t.is(await resolveInRoot(rootfs, '/datalink/sub/b.txt'), join(rootfs, 'data', 'sub', 'b.txt'));
    t.is(await resolveInRoot(rootfs, '/escape', false), join(rootfs, 'escape'));
    symlinkSync('loop', join(rootfs, 'loop'));
    await t.throwsAsync(resolveInRoot(rootfs, '/loop/x'), {
      instanceOf: CopyError,
      message: /symbolic links/,
    });
  });
});

test('cp out of a stopped container: a directory under its base name, a file, a symlink kept or followed', async (t) => {
  await withTempDir(async (dir) => {
    const rootfs = layRootfs(dir);
    const handle = stoppedHandle(rootfs);
    const data = await readTar(await copyFromContainer(handle, '/data'));
    t.deepEqual([...data.keys()].sort(), [
      'data/',
      'data/a.txt',
      'data/hostname-link',
      'data/sub/',
      'data/sub/b.txt',
    ]);
    t.is(data.get('data/sub/b.txt')?.content, 'b');
    t.is(data.get('data/hostname-link')?.header.type, 'symlink');

    const contents = await readTar(await copyFromContainer(handle, '/datalink/.'));
    t.true(contents.has('a.txt') && contents.has('sub/b.txt'));

    // The symlink to /../../etc is read inside the root: the container's /etc, never the host's.
    const escaped = await readTar(await copyFromContainer(handle, '/escape/hostname'));
    t.is(escaped.get('hostname')?.content, 'inside\n');
    const link = await readTar(await copyFromContainer(handle, '/escape'));
    t.is(link.get('escape')?.header.linkname, '/../../etc');
    const followed = await readTar(await copyFromContainer(handle, '/escape/'));
    t.deepEqual([...followed.keys()], ['escape/', 'escape/hostname']);

    await t.throwsAsync(copyFromContainer(handle, '/nope'), {
      instanceOf: ContainerPathNotFoundError,
      message: 'Could not find the file /nope in container fixture',
    });
  });
});

test('cp into a stopped container: files land in the directory, through symlinks kept inside the root', async (t) => {
  await withTempDir(async (dir) => {
    const rootfs = layRootfs(dir);
    const handle = stoppedHandle(rootfs);
    const mtime = new Date('2024-01-02T03:04:05Z');
    const archive = await makeTar([
      { name: 'new/', type: 'directory', mode: 0o750, mtime },
      { name: 'new/file.txt', content: 'hello', mode: 0o640, uid: 1234, gid: 1234, mtime },
      { name: 'new/link', type: 'symlink', linkname: '/etc/hostname' },
      { name: 'new/hard', type: 'link', linkname: 'new/file.txt' },
      // through the tar's own symlink out of the root: it stays in the root
      { name: 'new/link-dir', type: 'symlink', linkname: '/../../../tmp' },
      { name: 'new/link-dir/x.txt', content: 'x' },
    ]);
    const { entries } = await copyToContainer(handle, '/datalink', tarStream(archive), { scratchDir: dir });
    t.is(entries, 6);
    const out = join(rootfs, 'data', 'new');
    t.is(readFileSync(join(out, 'file.txt'), 'utf8'), 'hello');
    t.is(lstatSync(join(out, 'file.txt')).mode & 0o7777, 0o640);
    t.is(lstatSync(join(out, 'file.txt')).uid, 0, 'owned by the container root, as docker cp without -a');
    t.is(lstatSync(join(out, 'file.txt')).mtime.getTime(), mtime.getTime());
    t.is(lstatSync(out).mode & 0o7777, 0o750);
    t.is(readlinkSync(join(out, 'link')), '/etc/hostname');
    t.is(lstatSync(join(out, 'hard')).ino, lstatSync(join(out, 'file.txt')).ino);
    t.is(readFileSync(join(rootfs, 'tmp', 'x.txt'), 'utf8'), 'x');
    // through the rootfs's own /../../etc symlink, into its root
    const viaEscape = await makeTar([{ name: 'escape/written.txt', content: 'via escape' }]);
    await copyToContainer(handle, '/', tarStream(viaEscape), { scratchDir: dir });
    t.is(readFileSync(join(rootfs, 'etc', 'written.txt'), 'utf8'), 'via escape');
    t.false(existsSync('/etc/written.txt'));
  });
});

test('cp into a container refuses a tar with ../x and writes nothing', async (t) => {
  await withTempDir(async (dir) => {
    const rootfs = layRootfs(dir);
    const handle = stoppedHandle(rootfs);
    const before = readdirSync(join(rootfs, 'data')).sort();
    for (const bad of ['../x', 'ok/../../x', '/abs/x']) {
      const archive = await makeTar([
        { name: 'first.txt', content: 'written first?' },
        { name: bad, content: 'escaped' },
      ]);
      await t.throwsAsync(copyToContainer(handle, '/data', tarStream(archive), { scratchDir: dir }), {
        instanceOf: CopyError,
        message: /absolute path|'\.\.' would leave/,
      });
      t.deepEqual(readdirSync(join(rootfs, 'data')).sort(), before, `${bad}: nothing written`);
      t.false(existsSync(join(rootfs, 'x')));
      t.false(existsSync(join(dir, 'x')));
    }
    const hardOut = await makeTar([{ name: 'h', type: 'link', linkname: '../../etc/passwd' }]);
    await t.throwsAsync(copyToContainer(handle, '/data', tarStream(hardOut), { scratchDir: dir }), {
      instanceOf: CopyError,
    });
    t.deepEqual(readdirSync(dir).sort(), ['rootfs'], 'the spooled upload is removed');
  });
});

test('cp into a container: a missing or non-directory destination, a read-only rootfs', async (t) => {
  await withTempDir(async (dir) => {
    const rootfs = layRootfs(dir);
    const archive = await makeTar([{ name: 'f', content: 'f' }]);
    const handle = stoppedHandle(rootfs);
    await t.throwsAsync(copyToContainer(handle, '/missing', tarStream(archive)), {
      instanceOf: ContainerPathNotFoundError,
    });
    await t.throwsAsync(copyToContainer(handle, '/data/a.txt', tarStream(archive)), {
      message: /not a directory/,
    });
    const readOnly = stoppedHandle(rootfs, {
      spec: { Image: 'busybox', HostConfig: { ReadonlyRootfs: true } },
    });
    await t.throwsAsync(copyToContainer(readOnly, '/data', tarStream(archive)), { message: /read-only/ });
    t.false(existsSync(join(rootfs, 'data', 'f')));
  });
});

test('export writes the whole rootfs, symlinks as symlinks', async (t) => {
  await withTempDir(async (dir) => {
    const rootfs = layRootfs(dir);
    const exported = await readTar(await exportContainer(stoppedHandle(rootfs)));
    t.deepEqual([...exported.keys()].sort(), [
      'data/',
      'data/a.txt',
      'data/hostname-link',
      'data/sub/',
      'data/sub/b.txt',
      'datalink',
      'escape',
      'etc/',
      'etc/hostname',
    ]);
    t.is(exported.get('etc/hostname')?.content, 'inside\n');
    await t.throwsAsync(exportContainer(stoppedHandle(join(dir, 'gone'))), { instanceOf: CopyError });
  });
});

// ------------------------------------------------------------------------------------- a running container

const skipReason = whyContainersCannotRun({ conmon: true });
const containerTest = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`cp: ${skipReason}`, () => undefined);

async function withRunningContainer(
  fn: (c: FixtureContainer, handle: ContainerHandle, volume: string, rootfs: string) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const volume = join(dir, 'volume');
    mkdirSync(volume);
    writeFileSync(join(volume, 'v.txt'), 'from the volume');
    const c = await runFixtureContainer({
      args: ['sleep', '100000'],
      mounts: [
        { type: 'bind', source: volume, target: '/vol' },
        { type: 'tmpfs', target: '/scratch' },
      ],
      start: false,
    });
    try {
      const rootfs = join(c.bundleDir, 'rootfs');
      mkdirSync(join(rootfs, 'vol'), { recursive: true });
      mkdirSync(join(rootfs, 'scratch'), { recursive: true });
      symlinkSync('/../../etc', join(rootfs, 'escape'));
      await c.runc.start(c.id);
      await fn(c, fixtureHandle(c), volume, rootfs);
    } finally {
      await c.cleanup();
    }
  });
}

/** A file as the container sees it, read by its own busybox in its mount namespace. */
function catInContainer(c: FixtureContainer, path: string): string {
  return execFileSync('nsenter', ['-t', String(c.monitor.pid), '-m', '-r', '/bin/cat', path], {
    encoding: 'utf8',
  });
}

containerTest(
  'cp out of a running container: its mounts seen, symlinks kept inside, runtime mounts skipped',
  async (t) => {
    await withRunningContainer(async (c, handle) => {
      const fromVolume = await readTar(await copyFromContainer(handle, '/vol/v.txt'));
      t.is(fromVolume.get('v.txt')?.content, 'from the volume');
      const passwd = await readTar(await copyFromContainer(handle, '/escape/passwd'));
      t.is(passwd.get('passwd')?.content, catInContainer(c, '/etc/passwd'));
      t.regex(passwd.get('passwd')?.content ?? '', /^app:x:1000/m, "the container's passwd, not the host's");

      const all = await readTar(await copyFromContainer(handle, '/'));
      t.true(all.has('bin/busybox') && all.has('vol/v.txt') && all.has('etc/passwd'));
      t.true(all.has('proc/') && all.has('dev/'));
      t.false(
        [...all.keys()].some((name) => /^(proc|sys|dev)\/./.test(name)),
        'the runtime mounts (/proc, /sys, /dev) are not copied',
      );
      await t.throwsAsync(copyFromContainer(handle, '/proc/self/status'), {
        instanceOf: ContainerPathNotFoundError,
      });
    });
  },
);

containerTest(
  'cp into a running container: a bind mount and a tmpfs as the container sees them',
  async (t) => {
    await withRunningContainer(async (c, handle, volume, rootfs) => {
      await copyToContainer(
        handle,
        '/vol',
        tarStream(await makeTar([{ name: 'in.txt', content: 'to volume' }])),
      );
      t.is(readFileSync(join(volume, 'in.txt'), 'utf8'), 'to volume');
      await copyToContainer(
        handle,
        '/scratch',
        tarStream(await makeTar([{ name: 't.txt', content: 'tmpfs' }])),
      );
      t.is(catInContainer(c, '/scratch/t.txt'), 'tmpfs');
      t.false(existsSync(join(rootfs, 'scratch', 't.txt')), 'written to the tmpfs, not under it');
      // through the container's /escape -> /../../etc: its own /etc
      await copyToContainer(handle, '/escape', tarStream(await makeTar([{ name: 'e.txt', content: 'etc' }])));
      t.is(readFileSync(join(rootfs, 'etc', 'e.txt'), 'utf8'), 'etc');

      const bad = await makeTar([
        { name: 'good.txt', content: 'first' },
        { name: '../x', content: 'escape' },
      ]);
      await t.throwsAsync(copyToContainer(handle, '/vol', tarStream(bad)), { instanceOf: CopyError });
      t.false(existsSync(join(volume, 'good.txt')), 'nothing written');
      t.false(existsSync(join(dirname(volume), 'x')));
    });
  },
);

containerTest('export of a running container: the rootfs, without its mounts', async (t) => {
  await withRunningContainer(async (_c, handle) => {
    const exported = await readTar(await exportContainer(handle));
    t.true(exported.has('bin/busybox') && exported.has('etc/passwd') && exported.has('escape'));
    t.is(exported.get('bin/sh')?.header.type, 'symlink');
    t.true(exported.has('vol/'), 'the mount point is there');
    t.false(exported.has('vol/v.txt'), 'the bind mount is not exported');
  });
});
