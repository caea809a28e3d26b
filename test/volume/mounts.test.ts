// An empty volume gets the image's content (modes, owners, times, symlinks, hard links, devices, xattrs;
// the image's own symlinks resolved inside the image), and ContainerVolumes turns a create spec into OCI
// mounts plus Docker's inspect Mounts, taking and giving back volume uses, undoing everything on failure.
// stat(1), readlink(1) and python's os.getxattr are the independent oracles.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { LocalContainerVolumes } from '../../pkg/volume/mounts.ts';
import { populateVolume, resolveInRoot } from '../../pkg/volume/populate.ts';
import { VolumeStore } from '../../pkg/volume/store.ts';
import { withTempDir } from '../helpers/tmp.ts';

const CID = 'c'.repeat(64);
const CID2 = 'd'.repeat(64);

function sh(script: string, ...args: string[]): string {
  return execFileSync('sh', ['-c', script, 'sh', ...args], { encoding: 'utf8' });
}

/** `stat` of every entry under `dir`: type, mode, owner, size, mtime (seconds), link target. */
function statTree(dir: string): string {
  return sh(
    'cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do stat -c "%n %F %a %u:%g %s %Y %t:%T" "$p"; done',
    dir,
  );
}

function getXattr(path: string, name: string): string {
  return execFileSync(
    'python3',
    [
      '-c',
      'import os,sys; print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())',
      path,
      name,
    ],
    {
      encoding: 'utf8',
    },
  ).trim();
}

/** An image-like tree: what a container image could hold under /srv/app, plus a symlinked /data. */
function makeImage(root: string): void {
  sh(
    `set -e; cd "$1"
    mkdir -p srv/app/conf srv/app/empty etc
    echo hello > srv/app/greeting
    echo secret > srv/app/conf/key
    printf '#!/bin/sh\\n' > srv/app/run.sh
    chmod 4755 srv/app/run.sh; chown 1000:1000 srv/app/run.sh
    chmod 0600 srv/app/conf/key; chown 33:33 srv/app/conf/key
    chmod 0750 srv/app/conf; chown 33:0 srv/app/conf
    chown 1000:1000 srv/app; chmod 0711 srv/app
    ln -s greeting srv/app/hello-link
    ln -s /etc/passwd srv/app/abs-link
    ln srv/app/greeting srv/app/hardlink
    mknod srv/app/null c 1 3
    mkfifo srv/app/fifo
    touch -h -d '2001-02-03 04:05:06' srv/app/greeting srv/app/hello-link srv/app/conf
    ln -s /srv/app data
    echo image-passwd > etc/passwd
    ln -s ../../../../../../etc etcup`,
    root,
  );
  execFileSync('python3', [
    '-c',
    "import os,sys; os.setxattr(sys.argv[1], 'user.origin', b'image')",
    join(root, 'srv/app/greeting'),
  ]);
}

test('resolveInRoot follows the image symlinks inside the image, never out of it', async (t) => {
  await withTempDir(async (dir) => {
    makeImage(dir);
    t.is(await resolveInRoot(dir, '/data'), join(dir, 'srv/app'));
    t.is(await resolveInRoot(dir, '/data/conf/../greeting'), join(dir, 'srv/app/greeting'));
    t.is(await resolveInRoot(dir, '/etcup/passwd'), join(dir, 'etc/passwd'));
    t.is(await resolveInRoot(dir, '/../../etc'), join(dir, 'etc'));
    t.is(await resolveInRoot(dir, '/srv/app/abs-link'), join(dir, 'etc/passwd'));
    t.is(await resolveInRoot(dir, '/nope/deeper'), undefined);
  });
});

test('an empty volume gets the image content with modes, owners, times, links, devices and xattrs', async (t) => {
  await withTempDir(async (dir) => {
    const image = join(dir, 'image');
    const volume = join(dir, 'volume');
    mkdirSync(image);
    mkdirSync(volume);
    makeImage(image);
    // through the image's /data symlink: the copy comes from the image's /srv/app
    t.true(await populateVolume(image, '/data', volume));
    t.is(statTree(volume), statTree(join(image, 'srv/app')));
    t.is(sh('stat -c "%a %u:%g" "$1"', volume), sh('stat -c "%a %u:%g" "$1"', join(image, 'srv/app')));
    t.is(sh('readlink "$1"', join(volume, 'abs-link')).trim(), '/etc/passwd');
    t.is(sh('stat -c %i "$1"', join(volume, 'greeting')), sh('stat -c %i "$1"', join(volume, 'hardlink')));
    t.is(getXattr(join(volume, 'greeting'), 'user.origin'), 'image');
    t.is(readFileSync(join(volume, 'conf/key'), 'utf8'), 'secret\n');

    // not empty any more: a second use copies nothing
    writeFileSync(join(image, 'srv/app/new'), 'x');
    t.false(await populateVolume(image, '/data', volume));
    t.false(existsSync(join(volume, 'new')));
    // nothing at that path in the image, or not a directory: nothing to copy
    const other = join(dir, 'other');
    mkdirSync(other);
    t.false(await populateVolume(image, '/missing', other));
    t.false(await populateVolume(image, '/srv/app/greeting', other));
    t.deepEqual(readdirSync(other), []);
    // a volume inside the tree it would copy is refused, not copied into itself
    const inside = join(image, 'srv/app/empty');
    await t.throwsAsync(populateVolume(image, '/srv/app', inside), { message: /the volume lies inside it/ });
    t.deepEqual(readdirSync(inside), []);
  });
});

test('resolveMounts: binds, named, anonymous and image volumes, tmpfs → OCI mounts and Docker Mounts', async (t) => {
  await withTempDir(async (dir) => {
    const image = join(dir, 'image');
    const host = join(dir, 'host');
    mkdirSync(image);
    mkdirSync(host);
    makeImage(image);
    mkdirSync(join(image, 'var/lib/db'), { recursive: true });
    writeFileSync(join(image, 'var/lib/db/seed'), 'seed');
    const store = await VolumeStore.open(join(dir, 'volumes'));
    const volumes = new LocalContainerVolumes(store);
    const resolved = await volumes.resolveMounts(
      {
        Image: 'img',
        HostConfig: {
          Binds: [`${host}:/etc/app:ro`, 'appdata:/srv/app', '/scratch'],
          Mounts: [
            {
              Type: 'volume',
              Source: 'blank',
              Target: '/data',
              VolumeOptions: { NoCopy: true, Labels: { l: 'v' } },
            },
            { Type: 'tmpfs', Target: '/cache', TmpfsOptions: { SizeBytes: 1 << 20 } },
          ],
          Tmpfs: { '/run': 'size=64m,mode=1777' },
        },
      },
      image,
      { containerId: CID, imageVolumes: ['/var/lib/db', '/srv/app'] },
    );
    const [scratch, dbVolume] = resolved.anonymous;
    t.is(resolved.anonymous.length, 2);
    const mp = (name: string) => join(dir, 'volumes', name, '_data');
    t.deepEqual(resolved.mounts, [
      { type: 'bind', source: host, target: '/etc/app', readonly: true, propagation: 'rprivate' },
      { type: 'volume', source: mp('appdata'), target: '/srv/app', readonly: false },
      { type: 'volume', source: mp(scratch!), target: '/scratch', readonly: false },
      { type: 'volume', source: mp('blank'), target: '/data', readonly: false },
      { type: 'tmpfs', target: '/cache', readonly: false, sizeBytes: 1 << 20 },
      { type: 'tmpfs', target: '/run', readonly: false, sizeBytes: 64 << 20, mode: 0o1777 },
      { type: 'volume', source: mp(dbVolume!), target: '/var/lib/db', readonly: false },
    ]);
    t.deepEqual(resolved.inspect, [
      { Type: 'bind', Source: host, Destination: '/etc/app', Mode: 'ro', RW: false, Propagation: 'rprivate' },
      {
        Type: 'volume',
        Name: 'appdata',
        Source: mp('appdata'),
        Destination: '/srv/app',
        Driver: 'local',
        Mode: 'z',
        RW: true,
        Propagation: '',
      },
      {
        Type: 'volume',
        Name: scratch,
        Source: mp(scratch!),
        Destination: '/scratch',
        Driver: 'local',
        Mode: 'z',
        RW: true,
        Propagation: '',
      },
      {
        Type: 'volume',
        Name: 'blank',
        Source: mp('blank'),
        Destination: '/data',
        Driver: 'local',
        Mode: 'z',
        RW: true,
        Propagation: '',
      },
      { Type: 'tmpfs', Source: '', Destination: '/cache', Mode: '', RW: true, Propagation: '' },
      {
        Type: 'volume',
        Name: dbVolume,
        Source: mp(dbVolume!),
        Destination: '/var/lib/db',
        Driver: 'local',
        Mode: '',
        RW: true,
        Propagation: '',
      },
    ]);
    // populated from the image where asked; nocopy left empty; --mount's labels on the new volume
    t.is(readFileSync(join(mp('appdata'), 'greeting'), 'utf8'), 'hello\n');
    t.is(readFileSync(join(mp(dbVolume!), 'seed'), 'utf8'), 'seed');
    t.deepEqual(readdirSync(mp('blank')), []);
    t.deepEqual((await store.inspect('blank')).Labels, { l: 'v' });
    t.deepEqual(await store.usedBy(CID), ['appdata', 'blank', dbVolume, scratch].sort());

    // a second container shares appdata; removing the first with -v drops its anonymous volumes only
    await volumes.resolveMounts({ Image: 'img', HostConfig: { Binds: ['appdata:/x'] } }, image, {
      containerId: CID2,
    });
    await volumes.release(CID, resolved.anonymous, true);
    t.deepEqual(await store.usedBy(CID), []);
    t.deepEqual(
      (await store.all()).map((v) => v.Name),
      ['appdata', 'blank'],
    );
    t.deepEqual(await store.users('appdata'), [CID2]);
    await volumes.release(CID2, [], true);
    t.deepEqual(await store.users('appdata'), []);
  });
});

test('containers made at once fill a new volume once', async (t) => {
  await withTempDir(async (dir) => {
    const image = join(dir, 'image');
    mkdirSync(image);
    makeImage(image);
    const store = await VolumeStore.open(join(dir, 'volumes'));
    const volumes = new LocalContainerVolumes(store);
    const spec = { Image: 'img', HostConfig: { Binds: ['together:/srv/app'] } };
    const ids = [...'0123456789'].map((d) => d.repeat(64));
    await Promise.all(ids.map((containerId) => volumes.resolveMounts(spec, image, { containerId })));
    t.is(statTree(join(dir, 'volumes', 'together', '_data')), statTree(join(image, 'srv/app')));
    t.deepEqual(await store.users('together'), ids);
  });
});

test('resolveMounts undoes its volumes and uses when a later mount fails; bad specs create nothing', async (t) => {
  await withTempDir(async (dir) => {
    const image = join(dir, 'image');
    mkdirSync(image);
    const store = await VolumeStore.open(join(dir, 'volumes'));
    const volumes = new LocalContainerVolumes(store);
    await store.create('existing');
    // a volume whose filesystem cannot be mounted fails at its first use
    await store.create('unmountable', { options: { type: 'no-such-fs', device: 'nothing' } });
    const err = await t.throwsAsync(
      volumes.resolveMounts(
        { Image: 'img', HostConfig: { Binds: ['/anon', 'fresh:/fresh', 'existing:/e', 'unmountable:/u'] } },
        image,
        { containerId: CID },
      ),
    );
    t.regex(err?.message ?? '', /error while mounting volume/);
    t.deepEqual(
      (await store.all()).map((v) => v.Name),
      ['existing', 'unmountable'],
    );
    t.deepEqual(await store.usedBy(CID), []);

    await t.throwsAsync(
      volumes.resolveMounts({ Image: 'img', HostConfig: { Binds: ['new1:/a', '/nope-src-x:/b'] } }, image, {
        containerId: CID,
      }),
      { message: /bind source path does not exist: \/nope-src-x/ },
    );
    t.false(existsSync(join(dir, 'volumes', 'new1')));
  });
});
