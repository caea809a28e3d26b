// The volume store: Docker's create/ls/inspect/rm/prune semantics and messages, reference counts that
// survive a new store instance (an agent restart), and the local driver's tmpfs option mounted while used.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { isMountPoint } from '../../pkg/volume/local-options.ts';
import {
  ANONYMOUS_LABEL,
  VolumeInUseError,
  VolumeNotFoundError,
  VolumeRequestError,
  VolumeStore,
} from '../../pkg/volume/store.ts';
import { withTempDir } from '../helpers/tmp.ts';

const CID_A = 'a'.repeat(64);
const CID_B = 'b'.repeat(64);

test('create writes Docker inspect shape under D/volumes/<name> and is idempotent', async (t) => {
  await withTempDir(async (dir) => {
    const events: string[] = [];
    const store = await VolumeStore.open(join(dir, 'volumes'), {
      onEvent: (action, name) => events.push(`${action} ${name}`),
    });
    const { volume, created } = await store.create('data-1', { labels: { app: 'web' } });
    t.true(created);
    t.deepEqual(Object.keys(volume).sort(), [
      'CreatedAt',
      'Driver',
      'Labels',
      'Mountpoint',
      'Name',
      'Options',
      'Scope',
    ]);
    t.like(volume, {
      Name: 'data-1',
      Driver: 'local',
      Scope: 'local',
      Mountpoint: join(dir, 'volumes', 'data-1', '_data'),
      Labels: { app: 'web' },
      Options: {},
    });
    t.regex(volume.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    t.true(statSync(volume.Mountpoint).isDirectory());
    const onDisk = JSON.parse(readFileSync(join(dir, 'volumes', 'data-1', 'volume.json'), 'utf8'));
    t.is(onDisk.Name, 'data-1');
    // nothing but the volume itself in the store's directory (no temporaries left)
    t.deepEqual(readdirSync(join(dir, 'volumes')), ['data-1']);

    const again = await store.create('data-1', { labels: { other: 'x' } });
    t.false(again.created);
    t.deepEqual(again.volume.Labels, { app: 'web' });
    t.deepEqual(events, ['create data-1']);
    t.deepEqual(await store.inspect('data-1'), volume);
  });
});

test('bad names, drivers and options are refused with Docker messages, leaving nothing', async (t) => {
  await withTempDir(async (dir) => {
    const store = await VolumeStore.open(join(dir, 'volumes'));
    for (const bad of ['a', '-x', '.hidden', 'a/b', 'x y', '../up', 'é1']) {
      const err = await t.throwsAsync(store.create(bad), { instanceOf: VolumeRequestError });
      t.is(
        err?.message,
        `create ${bad}: "${bad}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    }
    await t.throwsAsync(store.create('v1', { driver: 'nfs' }), {
      instanceOf: VolumeRequestError,
      message: 'create v1: error looking up volume plugin nfs: plugin "nfs" not found',
    });
    await t.throwsAsync(store.create('v1', { options: { foo: 'bar' } }), {
      instanceOf: VolumeRequestError,
      message: 'create v1: invalid option key: "foo"',
    });
    await t.throwsAsync(store.create('v1', { options: { type: 'tmpfs' } }), {
      message: 'create v1: missing required option: "device"',
    });
    t.deepEqual(readdirSync(join(dir, 'volumes')), []);
    await t.throwsAsync(store.inspect('nope'), {
      instanceOf: VolumeNotFoundError,
      message: 'get nope: no such volume',
    });
  });
});

test('anonymous volumes get 64-hex names and the anonymous label; list filters', async (t) => {
  await withTempDir(async (dir) => {
    const store = await VolumeStore.open(join(dir, 'volumes'));
    const anon = (await store.create('')).volume;
    t.regex(anon.Name, /^[0-9a-f]{64}$/);
    t.deepEqual(anon.Labels, { [ANONYMOUS_LABEL]: '' });
    t.is(anon.Options, null);
    await store.create('web-data', { labels: { app: 'web', tier: 'front' } });
    await store.create('db-data', { labels: { app: 'db' } });
    await store.acquire('db-data', CID_A);

    const names = async (filters: string[]) => (await store.list(filters)).map((v) => v.Name);
    t.deepEqual(await names([]), [anon.Name, 'db-data', 'web-data'].sort());
    t.deepEqual(await names(['name=data']), ['db-data', 'web-data']);
    // 'db-', not 'db': an anonymous volume's random hex name may contain "db"
    t.deepEqual(await names(['name=web', 'name=db-']), ['db-data', 'web-data']);
    // a regular expression, as Docker's
    t.deepEqual(await names(['name=^w.b-']), ['web-data']);
    t.deepEqual(await names(['label=app']), ['db-data', 'web-data']);
    t.deepEqual(await names(['label=app=web']), ['web-data']);
    t.deepEqual(await names(['label=app', 'label=tier=front']), ['web-data']);
    t.deepEqual(await names(['dangling=false']), ['db-data']);
    t.deepEqual(await names(['dangling=true', 'name=data']), ['web-data']);
    t.deepEqual(await names(['driver=local', 'name=db-']), ['db-data']);
    t.deepEqual(await names(['driver=nfs']), []);
    await t.throwsAsync(store.list(['colour=red']), {
      instanceOf: VolumeRequestError,
      message: "invalid filter 'colour=red'",
    });
    await t.throwsAsync(store.list(['dangling=maybe']), { instanceOf: VolumeRequestError });
  });
});

test('rm refuses a volume in use with Docker message; -f only forgives a missing one', async (t) => {
  await withTempDir(async (dir) => {
    const store = await VolumeStore.open(join(dir, 'volumes'));
    await store.create('shared');
    await store.acquire('shared', CID_A);
    await store.acquire('shared', CID_B);
    await store.acquire('shared', CID_A); // twice is once
    t.deepEqual(await store.users('shared'), [CID_A, CID_B]);
    const err = await t.throwsAsync(store.remove('shared'), { instanceOf: VolumeInUseError });
    t.is(err?.message, `remove shared: volume is in use - [${CID_A}, ${CID_B}]`);
    await t.throwsAsync(store.remove('shared', { force: true }), { instanceOf: VolumeInUseError });
    t.true(existsSync(join(dir, 'volumes', 'shared', '_data')));

    await store.release('shared', CID_A);
    await store.release('shared', CID_A); // releasing again is harmless
    await t.throwsAsync(store.remove('shared'), { instanceOf: VolumeInUseError });
    await store.release('shared', CID_B);
    await store.remove('shared');
    t.false(existsSync(join(dir, 'volumes', 'shared')));
    t.deepEqual(readdirSync(join(dir, 'volumes')), []);

    await t.throwsAsync(store.remove('shared'), {
      instanceOf: VolumeNotFoundError,
      message: 'get shared: no such volume',
    });
    await t.notThrowsAsync(store.remove('shared', { force: true }));
    await t.throwsAsync(store.acquire('shared', CID_A), { instanceOf: VolumeNotFoundError });
    await store.create('other');
    await t.throwsAsync(store.acquire('other', '../escape'), { instanceOf: VolumeRequestError });
  });
});

test('uses survive a new store instance (an agent restart); orphaned temporaries are cleared', async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, 'volumes');
    const first = await VolumeStore.open(root);
    await first.create('keep', { labels: { a: 'b' } });
    await first.acquire('keep', CID_A);
    writeFileSync(join(root, 'keep', '_data', 'file'), 'content');
    // what a create killed mid-way leaves (its writer process is gone: pid 2^22+1 does not exist)
    execFileSync('mkdir', ['-p', join(root, '.half.tmp-4194305-0badc0de', '_data')]);

    const second = await VolumeStore.open(root);
    t.deepEqual(readdirSync(root), ['keep']);
    t.like(await second.inspect('keep'), { Name: 'keep', Labels: { a: 'b' } });
    t.deepEqual(await second.users('keep'), [CID_A]);
    t.deepEqual(await second.usedBy(CID_A), ['keep']);
    await t.throwsAsync(second.remove('keep'), { instanceOf: VolumeInUseError });
    t.deepEqual((await second.list(['dangling=true'])).length, 0);
    t.is(readFileSync(join(root, 'keep', '_data', 'file'), 'utf8'), 'content');
  });
});

test('prune removes unused anonymous volumes only, named ones too with all; label filters', async (t) => {
  await withTempDir(async (dir) => {
    const events: string[] = [];
    const store = await VolumeStore.open(join(dir, 'volumes'), {
      onEvent: (action, name) => events.push(`${action} ${name}`),
    });
    const unusedAnon = (await store.create('')).volume;
    const usedAnon = (await store.create('')).volume;
    await store.acquire(usedAnon.Name, CID_A);
    await store.create('named', { labels: { keep: 'no' } });
    await store.create('labelled', { labels: { keep: 'yes' } });
    writeFileSync(join(unusedAnon.Mountpoint, 'blob'), Buffer.alloc(1000));

    const first = await store.prune();
    t.deepEqual(first.deleted, [unusedAnon.Name]);
    t.is(first.spaceReclaimed, 1000);
    t.true(events.includes(`destroy ${unusedAnon.Name}`));

    const filtered = await store.prune({ all: true, filters: ['label!=keep=yes'] });
    t.deepEqual(filtered.deleted, ['named']);
    const rest = await store.prune({ all: true });
    t.deepEqual(rest.deleted, ['labelled']);
    t.deepEqual(
      (await store.all()).map((v) => v.Name),
      [usedAnon.Name],
    );
    await t.throwsAsync(store.prune({ filters: ['dangling=true'] }), { instanceOf: VolumeRequestError });
  });
});

test('a tmpfs volume (local driver options) is mounted while used and unmounted with its last user', async (t) => {
  await withTempDir(async (dir) => {
    const store = await VolumeStore.open(join(dir, 'volumes'));
    const { volume } = await store.create('scratch', {
      options: { type: 'tmpfs', device: 'tmpfs', o: 'size=4m,uid=1000,nodev' },
    });
    t.deepEqual(volume.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=4m,uid=1000,nodev' });
    t.false(isMountPoint(volume.Mountpoint));
    try {
      await store.acquire('scratch', CID_A);
      await store.acquire('scratch', CID_B);
      // findmnt as the independent oracle
      const seen = JSON.parse(
        execFileSync('findmnt', ['-J', '-o', 'FSTYPE,OPTIONS', '--mountpoint', volume.Mountpoint], {
          encoding: 'utf8',
        }),
      ) as { filesystems: { fstype: string; options: string }[] };
      t.is(seen.filesystems.length, 1);
      t.is(seen.filesystems[0]?.fstype, 'tmpfs');
      t.regex(seen.filesystems[0]?.options ?? '', /size=4096k/);
      t.regex(seen.filesystems[0]?.options ?? '', /nodev/);
      t.regex(seen.filesystems[0]?.options ?? '', /uid=1000/);
      await store.release('scratch', CID_A);
      t.true(isMountPoint(volume.Mountpoint));
      await store.release('scratch', CID_B);
      t.false(isMountPoint(volume.Mountpoint));
      await store.remove('scratch');
    } finally {
      if (isMountPoint(volume.Mountpoint)) execFileSync('umount', ['-l', volume.Mountpoint]);
    }
  });
});
