// The node's name in its subnet lease: written by acquire (and kept by a re-acquire), read back; leases
// written before names were recorded (or by flannel) still read, without one; a bad name is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { EmbeddedStore } from '../../pkg/store/embedded.ts';
import { StoreError } from '../../pkg/store/index.ts';
import { saveNetworkConfig } from '../../pkg/subnet/config.ts';
import { LeaseFormatError, leaseFromKeyValue, sameAttrs, subnetKey } from '../../pkg/subnet/lease.ts';
import { SubnetManager } from '../../pkg/subnet/manager.ts';

const PREFIX = '/tsnet.io/network';
const key = subnetKey(PREFIX, '10.244.3.0/24');
const kv = (value: unknown) => ({ key, value: JSON.stringify(value), createRevision: 7, modRevision: 7 });
const OLD = { PublicIP: '198.18.0.1', BackendType: 'vxlan', BackendData: { VtepMAC: '0E:00:00:00:00:01' } };

test('an old lease (no NodeName) reads as before; a new one carries its name', (t) => {
  const old = leaseFromKeyValue(PREFIX, kv(OLD));
  t.deepEqual(old.attrs, { ...OLD, BackendData: { VtepMAC: '0e:00:00:00:00:01' } });
  t.false('NodeName' in old.attrs);
  const named = leaseFromKeyValue(PREFIX, kv({ ...OLD, NodeName: 'node-a.example' }));
  t.is(named.attrs.NodeName, 'node-a.example');
  t.false(sameAttrs(old.attrs, named.attrs), 'a renamed node is a changed lease');
});

test('a NodeName that is not a node name is a malformed lease', (t) => {
  for (const bad of [42, '', '-x', 'a/b', 'x'.repeat(300)]) {
    const err = t.throws(() => leaseFromKeyValue(PREFIX, kv({ ...OLD, NodeName: bad })), {
      instanceOf: LeaseFormatError,
    });
    t.regex(err?.message ?? '', /NodeName/);
  }
});

test("acquire records the node name in the stored lease; the node's next acquire keeps subnet and name", async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tsnt-lease-name-'));
  const store = await EmbeddedStore.open({ dataDir, tickMs: 100 });
  try {
    await saveNetworkConfig(store, { Network: '10.244.0.0/16' }, PREFIX);
    const manager = new SubnetManager({ store, prefix: PREFIX, leaseTtlSeconds: 1, renewIntervalMs: 200 });
    const acquired = await manager.acquire(
      '198.18.0.9',
      { VtepMAC: '0e:00:00:00:00:09' },
      { nodeName: 'n9' },
    );
    t.is(acquired.attrs.NodeName, 'n9');
    const raw = await store.get(acquired.key);
    t.is((JSON.parse(raw?.value ?? '{}') as { NodeName?: string }).NodeName, 'n9', 'in the stored value');
    // the same node again (a restart): same subnet, same name
    const again = await manager.acquire('198.18.0.9', { VtepMAC: '0e:00:00:00:00:09' }, { nodeName: 'n9' });
    t.is(again.subnet, acquired.subnet);
    const { leases } = await manager.listLeases();
    t.deepEqual(
      leases.map((l) => [l.subnet, l.attrs.NodeName]),
      [[acquired.subnet, 'n9']],
    );
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a store out of reach for longer than the TTL is waited out: the lease is not reported lost, subnet.env stays', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tsnt-lease-outage-'));
  const store = await EmbeddedStore.open({ dataDir, tickMs: 100 });
  let unreachable = false;
  const refuse = (op: string) => {
    throw new StoreError('unreachable', op, 'store unreachable (test)');
  };
  // The store as the keeper sees it: every call fails while `unreachable` is set, as with etcd down.
  const flaky = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (unreachable) refuse(String(prop));
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (prop !== 'leaseFromId') return result;
        const lease = result as { keepAliveOnce(): Promise<number> };
        return new Proxy(lease, {
          get(l, p, r) {
            const v = Reflect.get(l, p, r) as unknown;
            if (p !== 'keepAliveOnce' || typeof v !== 'function') return v;
            return () =>
              unreachable
                ? Promise.reject(new StoreError('unreachable', 'keepAlive', 'down'))
                : (v as () => Promise<number>).call(l);
          },
        });
      };
    },
  });
  try {
    await saveNetworkConfig(store, { Network: '10.244.0.0/16' }, PREFIX);
    const manager = new SubnetManager({
      store: flaky,
      prefix: PREFIX,
      leaseTtlSeconds: 1,
      renewIntervalMs: 100,
    });
    const acquired = await manager.acquire('198.18.0.9', { VtepMAC: '0e:00:00:00:00:09' });
    const events: string[] = [];
    const keeper = manager.keepAlive(acquired, (e) => events.push(e.type));
    try {
      unreachable = true;
      const failedAt = events.length;
      // three TTLs without a renewal
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const during = events.slice(failedAt);
      t.true(during.includes('store-error'), 'the keeper saw the store fail');
      t.false(during.includes('lost'), 'an unreachable store is no loss of the lease');
      unreachable = false;
      // back: renewed, or (the embedded store let the lease expire meanwhile) lost, then taken back
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const after = events.slice(failedAt + during.length);
      t.true(after.includes('renewed') || after.includes('reacquired'), after.join(','));
      t.is(keeper.current().subnet, acquired.subnet);
    } finally {
      await keeper.stop();
    }
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
