// Container discovery through the embedded store (the single-node default; etcd has the same interface):
// what one node publishes, every view sees, and converges back after a restart, a lost lease, an outage and
// a SIGKILL between writes. The store is also read directly (the oracle) to check for stale keys.
import test from 'ava';
import {
  type ContainerEntry,
  DiscoveryEntryError,
  decodeEntry,
  encodeEntry,
  entryKey,
  nodeContainersPrefix,
} from '../../pkg/discovery/entry.ts';
import { DiscoveryPublisher } from '../../pkg/discovery/publisher.ts';
import { ClusterView } from '../../pkg/discovery/view.ts';
import { EmbeddedStore } from '../../pkg/store/embedded.ts';
import { type Store, StoreError } from '../../pkg/store/index.ts';
import { withTempDir } from '../helpers/tmp.ts';

const PREFIX = '/tsnet.io';

function entry(id: string, node: string, name: string, ipv4 = '10.1.0.2'): ContainerEntry {
  return {
    id: id.repeat(64).slice(0, 64),
    name,
    node,
    image: 'busybox',
    state: 'running',
    labels: { app: name },
    endpoints: [
      { network: 'tsnet', networkId: 'n'.repeat(64), ipv4, aliases: [`${name}-alias`], scope: 'cluster' },
    ],
    ports: [{ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
  };
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function keysOf(store: Store, node: string): Promise<string[]> {
  return (await store.list(nodeContainersPrefix(PREFIX, node))).items.map((kv) => kv.key).sort();
}

test('entries round-trip and a value naming another container or node is refused', (t) => {
  const e = entry('a', 'node-1', 'web');
  const key = entryKey(PREFIX, 'node-1', e.id);
  t.deepEqual(decodeEntry(PREFIX, key, encodeEntry(e)), e);
  t.throws(() => decodeEntry(PREFIX, entryKey(PREFIX, 'node-2', e.id), encodeEntry(e)), {
    instanceOf: DiscoveryEntryError,
    message: /names node-1\/a+, the key node-2/,
  });
  t.throws(() => decodeEntry(PREFIX, key, '{"id":'), { message: /not JSON/ });
  t.throws(() => decodeEntry(PREFIX, key, JSON.stringify({ ...e, endpoints: 'x' })), {
    message: /endpoints/,
  });
  const withSandbox = { ...e, sandbox: '/run/netns/web' };
  t.deepEqual(decodeEntry(PREFIX, key, encodeEntry(withSandbox)), withSandbox, 'the sandbox round-trips');
  t.throws(() => decodeEntry(PREFIX, key, JSON.stringify({ ...e, sandbox: 'run/netns/web' })), {
    message: /sandbox "run\/netns\/web" is not an absolute path/,
  });
  t.throws(() => entryKey(PREFIX, 'node/../x', e.id), { message: /invalid node name/ });
  t.throws(() => entryKey(PREFIX, 'node-1', '../../etc'), { message: /invalid container ID/ });
});

test('what a node publishes every view sees; a removal and a replaceAll delete; a malformed key is skipped', async (t) => {
  await withTempDir(async (dir) => {
    const storeA = await EmbeddedStore.open({ dataDir: dir, tickMs: 50 });
    const storeB = await EmbeddedStore.open({ dataDir: dir, tickMs: 50 });
    const publisher = new DiscoveryPublisher({
      store: storeA,
      prefix: PREFIX,
      node: 'node-1',
      ttlSeconds: 5,
    });
    const view = new ClusterView({ store: storeB, prefix: PREFIX });
    try {
      await storeA.put(`${PREFIX}/containers/node-9/${'f'.repeat(64)}`, 'not json');
      publisher.start();
      view.start();
      await view.ready();
      const web = entry('a', 'node-1', 'web');
      const db = entry('b', 'node-1', 'db', '10.1.0.3');
      publisher.set(web);
      publisher.set(db);
      await until('both entries in the view', () => view.entries().length === 2);
      t.deepEqual(view.get(web.id), web);
      t.is(view.stats().malformed, 1);

      publisher.set({ ...web, state: 'paused' });
      await until('the state change', () => view.get(web.id)?.state === 'paused');
      publisher.remove(db.id);
      await until('the removal', () => view.get(db.id) === undefined);

      // the runtime's list at agent start: an entry it no longer has is deleted from the store
      publisher.replaceAll([db]);
      await publisher.idle();
      t.deepEqual(await keysOf(storeB, 'node-1'), [entryKey(PREFIX, 'node-1', db.id)]);
      await until('the view follows', () => view.get(web.id) === undefined && view.get(db.id) !== undefined);
    } finally {
      await publisher.stop();
      await view.stop();
      await storeA.close();
      await storeB.close();
    }
  });
});

test('a restarted agent takes its lease over: no duplicate, and a stale key of the dead run is deleted', async (t) => {
  await withTempDir(async (dir) => {
    const leaseStateFile = `${dir}/discovery-lease.json`;
    const store = await EmbeddedStore.open({ dataDir: dir, tickMs: 50 });
    try {
      const first = new DiscoveryPublisher({
        store,
        prefix: PREFIX,
        node: 'node-1',
        ttlSeconds: 10,
        leaseStateFile,
      });
      first.start();
      first.set(entry('a', 'node-1', 'web'));
      first.set(entry('b', 'node-1', 'gone'));
      await first.idle();
      const leaseId = first.stats().leaseId;
      await first.stop(); // as after SIGKILL: nothing revoked, the keys stay under the lease

      const second = new DiscoveryPublisher({
        store,
        prefix: PREFIX,
        node: 'node-1',
        ttlSeconds: 10,
        leaseStateFile,
      });
      second.replaceAll([entry('a', 'node-1', 'web')]);
      second.start();
      await second.idle();
      t.is(second.stats().leaseId, leaseId, 'the same lease, not a second one');
      t.deepEqual(await keysOf(store, 'node-1'), [entryKey(PREFIX, 'node-1', 'a'.repeat(64))]);
      const kv = await store.get(entryKey(PREFIX, 'node-1', 'a'.repeat(64)));
      t.is(kv?.lease, leaseId);
      await second.stop({ revoke: true });
      t.deepEqual(await keysOf(store, 'node-1'), [], 'revoking the lease (--leave) deletes the entries');
    } finally {
      await store.close();
    }
  });
});

test("a dead node's containers vanish from the view when its lease expires", async (t) => {
  await withTempDir(async (dir) => {
    let now = Date.now();
    const clock = () => now;
    const store = await EmbeddedStore.open({ dataDir: dir, tickMs: 50, now: clock });
    const watcher = await EmbeddedStore.open({ dataDir: dir, tickMs: 50, now: clock });
    const view = new ClusterView({ store: watcher, prefix: PREFIX });
    const dead = new DiscoveryPublisher({ store, prefix: PREFIX, node: 'node-2', ttlSeconds: 2 });
    try {
      view.start();
      dead.start();
      dead.set(entry('c', 'node-2', 'web2'));
      await until('the entry', () => view.entries().length === 1);
      await dead.stop(); // the node dies: nobody renews
      now += 3_000;
      await until('the expiry', () => view.entries().length === 0);
      t.is(view.entries().length, 0);
    } finally {
      await view.stop();
      await store.close();
      await watcher.close();
    }
  });
});

/** A store that fails every call while `down` is set, as etcd going away. */
function flaky(store: Store): { store: Store; setDown(down: boolean): void; failures(): number } {
  let down = false;
  let failures = 0;
  const guard =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      if (down) {
        failures++;
        throw new StoreError('unreachable', 'test', 'the store is down');
      }
      return fn(...a);
    };
  const wrapped: Store = Object.assign(Object.create(store) as Store, {
    put: guard(store.put.bind(store)),
    delete: guard(store.delete.bind(store)),
    list: guard(store.list.bind(store)),
    grantLease: guard(store.grantLease.bind(store)),
  });
  return { store: wrapped, setDown: (d) => (down = d), failures: () => failures };
}

test('changes made while the store is down are published once it answers again', async (t) => {
  await withTempDir(async (dir) => {
    const real = await EmbeddedStore.open({ dataDir: dir, tickMs: 50 });
    const f = flaky(real);
    const publisher = new DiscoveryPublisher({
      store: f.store,
      prefix: PREFIX,
      node: 'node-1',
      ttlSeconds: 10,
    });
    try {
      publisher.start();
      publisher.set(entry('a', 'node-1', 'web'));
      await publisher.idle();
      f.setDown(true);
      publisher.remove('a'.repeat(64));
      publisher.set(entry('d', 'node-1', 'new'));
      await until('a failed attempt', () => f.failures() > 0);
      f.setDown(false);
      await until('convergence', async () => {
        const keys = await keysOf(real, 'node-1');
        return keys.length === 1 && keys[0] === entryKey(PREFIX, 'node-1', 'd'.repeat(64));
      });
      t.true(publisher.stats().errors > 0);
    } finally {
      await publisher.stop();
      await real.close();
    }
  });
});
