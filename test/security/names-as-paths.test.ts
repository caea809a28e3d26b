// Every place where a name or an ID from a request becomes a file name, fed adversarial names (traversal,
// separators, NUL, control characters, over-long, empty): each either refuses the name with its module's typed
// error, or yields a path that is a direct child of its directory. The stores run on a temp dir beside a
// directory an escape would reach (by `../outside`), which must stay exactly as it was.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { validateContainerId, validateInterfaceName, validateNetworkName } from '../../pkg/cni/env.ts';
import { CniError } from '../../pkg/cni/errors.ts';
import { ContainerStore, RecordError } from '../../pkg/container/store.ts';
import { type Digest, DigestError } from '../../pkg/content/digest.ts';
import { LocalContentStore } from '../../pkg/content/local.ts';
import { validateNetnsName } from '../../pkg/netns/index.ts';
import { CniExecutor } from '../../pkg/network/cni-exec.ts';
import { InvalidNetworkError, NetworkStore } from '../../pkg/network/store.ts';
import { validateContainerId as validateRuncId } from '../../pkg/runtime/runc.ts';
import { OverlaySnapshotter, SnapshotError } from '../../pkg/snapshot/overlay.ts';
import { VolumeNotFoundError, VolumeRequestError, VolumeStore } from '../../pkg/volume/store.ts';
import { withTempDir } from '../helpers/tmp.ts';

/** Names that try to leave their directory, or are not file names at all; and some plain ones. */
const hostileName = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '..',
      '.',
      '../outside',
      '../../outside/secret',
      'a/../../outside',
      '/etc/passwd',
      'a/b',
      '',
      ' ',
      '-rf',
      'a\0b',
      'a\nb',
      '..\\outside',
      'x'.repeat(300),
      'é',
      'sha256:../../outside',
      `sha256:${'../'.repeat(21)}a`,
      'ok-name',
      'ok.name_1',
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.constantFrom('..', '.', 'a', '', 'outside', 'secret'), { minLength: 1, maxLength: 4 })
      .map((p) => p.join('/')),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

/** `dir/name` once `validate` accepted the name (the way the callers of a validator build their paths). */
function joinedAfter(validate: (name: string) => unknown, dir: string, name: string): () => string {
  return () => {
    validate(name);
    return join(dir, name);
  };
}

/** A path made from `name` must be `dir/<one component>` (a component with no '/', not '.' or '..'). */
function assertDirectChild(dir: string, path: string, name: string): void {
  const base = basename(path);
  if (dirname(path) !== dir || base === '..' || base === '.' || base === '')
    throw new Error(`${JSON.stringify(name)} became ${path}, not a file directly in ${dir}`);
}

/** Runs `make`, which either throws one of `refusals` or returns a path that must be a child of `dir`. */
function refusedOrChild(
  dir: string,
  name: string,
  make: () => string,
  ...refusals: (abstract new (
    ...args: never[]
  ) => Error)[]
): void {
  let path: string;
  try {
    path = make();
  } catch (err) {
    if (refusals.some((r) => err instanceof r)) return;
    throw err;
  }
  assertDirectChild(dir, path, name);
}

/** Every path under `dir` with its content (files) or '/' (directories). */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((p) => {
      const full = join(dir, p);
      return statSync(full).isDirectory() ? `${p}/` : `${p}=${readFileSync(full, 'utf8')}`;
    });
}

/**
 * root/store is where a store lives; root/outside holds what an escape would reach: a secret, and the files
 * a store keeps for a volume or a blob (`users/<owner>`, `volume.json`), as if `outside` were one of its own.
 */
async function withStoreRoot(fn: (store: string) => Promise<void>): Promise<void> {
  await withTempDir(async (root) => {
    const outside = join(root, 'outside');
    mkdirSync(join(outside, 'users'), { recursive: true });
    mkdirSync(join(outside, '_data'));
    writeFileSync(join(outside, 'secret'), 'keep');
    writeFileSync(join(outside, 'users', OWNER), '');
    writeFileSync(join(outside, 'volume.json'), '{"Name":"outside","Labels":{}}');
    const before = listing(root);
    const store = join(root, 'store');
    mkdirSync(store);
    await fn(store);
    if (readdirSync(root).sort().join() !== 'outside,store')
      throw new Error(`written beside the store: ${readdirSync(root).join(', ')}`);
    const after = listing(root).filter((p) => !p.startsWith('store'));
    if (JSON.stringify(after) !== JSON.stringify(before))
      throw new Error(`the directory beside the store changed: ${JSON.stringify(after)}`);
  });
}

const OWNER = 'c'.repeat(64);

test('CNI: container IDs, network names and interface names are refused with a CniError or are file names', (t) => {
  fc.assert(
    fc.property(hostileName, (name) => {
      refusedOrChild('/d', name, joinedAfter(validateContainerId, '/d', name), CniError);
      refusedOrChild('/d', name, joinedAfter(validateNetworkName, '/d', name), CniError);
      refusedOrChild('/d', name, joinedAfter(validateInterfaceName, '/d', name), CniError);
    }),
    { numRuns: 500 },
  );
  t.throws(() => validateContainerId('../x'), { instanceOf: CniError });
});

test('the libcni result cache: network, container ID and ifname never leave results/', (t) => {
  const executor = new CniExecutor({ cacheDir: '/c', pluginDirs: ['/p'] });
  fc.assert(
    fc.property(hostileName, hostileName, hostileName, (network, id, ifname) => {
      refusedOrChild(
        executor.resultsDir,
        `${network}|${id}|${ifname}`,
        () => executor.cacheFile(network, id, ifname),
        CniError,
      );
    }),
    { numRuns: 500 },
  );
  t.throws(() => executor.cacheFile('net', '../x', 'eth0'), { instanceOf: CniError });
});

test('network, netns, runc and container record names: refused or a file directly in their directory', (t) => {
  const networks = new NetworkStore({
    confDir: '/n',
    pluginDirs: { ipamDataDir: '/i', vxlanDataDir: '/v', subnetFile: '/s' },
  });
  const records = new ContainerStore('/r');
  fc.assert(
    fc.property(hostileName, (name) => {
      refusedOrChild('/n', name, () => networks.fileOf(name), InvalidNetworkError);
      refusedOrChild('/r', name, () => records.dirOf(name), RecordError);
      refusedOrChild('/run/netns', name, joinedAfter(validateNetnsName, '/run/netns', name), Error);
      refusedOrChild('/run/runc', name, () => join('/run/runc', validateRuncId(name)), Error);
    }),
    { numRuns: 500 },
  );
  t.throws(() => records.dirOf('..'), { instanceOf: RecordError });
});

test('volumes: create, inspect, acquire, release and remove of hostile names touch nothing outside the store', async (t) => {
  await withStoreRoot(async (dir) => {
    const volumes = await VolumeStore.open(dir);
    await fc.assert(
      fc.asyncProperty(hostileName, async (name) => {
        const refused = (err: unknown) => {
          if (!(err instanceof VolumeRequestError || err instanceof VolumeNotFoundError)) throw err;
        };
        const created = await volumes.create(name).then((r) => r.volume.Name, refused);
        if (created !== undefined) assertDirectChild(dir, dirname(volumes.mountpointOf(created)), name);
        await volumes.inspect(name).catch(refused);
        await volumes.acquire(name, OWNER).catch(refused);
        await volumes.release(name, OWNER).catch(refused);
        await volumes.remove(name).catch(refused);
      }),
      { numRuns: 150 },
    );
    await t.throwsAsync(volumes.release('../outside', OWNER), { instanceOf: VolumeRequestError });
  });
});

test('content: a hostile digest is a DigestError, never a read or delete outside blobs/', async (t) => {
  await withStoreRoot(async (dir) => {
    const content = new LocalContentStore(dir);
    const digest = fc.oneof(
      hostileName,
      hostileName.map((n) => `sha256:${n}`),
    );
    await fc.assert(
      fc.asyncProperty(digest, async (d) => {
        const refused = (err: unknown) => {
          if (!(err instanceof DigestError)) throw err;
        };
        const info = await content.info(d as Digest).catch(refused);
        if (info) throw new Error(`${JSON.stringify(d)} found a blob in an empty store`);
        await content.reader(d as Digest).then((r) => {
          r.destroy();
          throw new Error(`${JSON.stringify(d)} opened a blob in an empty store`);
        }, refused);
        await content.delete(d as Digest).catch(refused);
      }),
      { numRuns: 200 },
    );
    await t.throwsAsync(content.delete('sha256:../../outside' as Digest), { instanceOf: DigestError });
  });
});

test('snapshots: hostile keys and parents are a SnapshotError or a snapshot in the store', async (t) => {
  await withStoreRoot(async (dir) => {
    const snapshots = await OverlaySnapshotter.open(dir);
    await fc.assert(
      fc.asyncProperty(hostileName, fc.option(hostileName, { nil: undefined }), async (key, parent) => {
        const refused = (err: unknown) => {
          if (!(err instanceof SnapshotError)) throw err;
        };
        const made = await snapshots.prepare(key, parent).then(() => true, refused);
        if (made) {
          assertDirectChild(join(dir, 'snapshots'), dirname(await snapshots.directory(key)), key);
          await snapshots.remove(key);
        }
        await snapshots.stat(key).catch(refused);
        await snapshots.remove(key).catch(refused);
      }),
      { numRuns: 150 },
    );
    t.deepEqual(readdirSync(join(dir, 'snapshots')), [], 'every snapshot made was removed');
  });
});
