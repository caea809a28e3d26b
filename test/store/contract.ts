// The Store contract: one test body, run against every implementation (see *.test.ts next to this file).
import type { TestFn } from 'ava';
import { isStoreError, type Store, type StoreWatch, type WatchEvent } from '../../pkg/store/index.ts';

export interface ContractContext {
  /** A store for one test; keys are isolated from other tests by the factory. */
  open(): Promise<Store>;
  /** Shortest lease TTL the implementation accepts reliably, in seconds. */
  shortTtl: number;
}

export async function nextEvents(watch: StoreWatch, count: number, timeoutMs = 15000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const it = watch[Symbol.asyncIterator]();
  const deadline = setTimeout(() => watch.close(), timeoutMs);
  try {
    while (out.length < count) {
      const r = await it.next();
      if (r.done) break;
      out.push(r.value);
    }
  } finally {
    clearTimeout(deadline);
  }
  return out;
}

export async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function storeContract(test: TestFn<unknown>, name: string, ctx: () => ContractContext): void {
  const withStore = async (body: (s: Store) => Promise<void>): Promise<void> => {
    const s = await ctx().open();
    try {
      await body(s);
    } finally {
      await s.close();
    }
  };

  test.serial(`${name}: put, get, list with revisions`, async (t) => {
    await withStore(async (s) => {
      t.is(await s.get('/a/x'), undefined);
      const r1 = await s.put('/a/x', 'one');
      const r2 = await s.put('/a/y', 'two');
      await s.put('/b/z', 'other');
      t.true(r2 > r1);
      const x = await s.get('/a/x');
      t.is(x?.value, 'one');
      t.is(x?.modRevision, r1);
      t.is(x?.createRevision, r1);
      const r3 = await s.put('/a/x', 'uno');
      const x2 = await s.get('/a/x');
      t.is(x2?.modRevision, r3);
      t.is(x2?.createRevision, r1);
      const l = await s.list('/a/');
      t.deepEqual(
        l.items.map((i) => [i.key, i.value]),
        [
          ['/a/x', 'uno'],
          ['/a/y', 'two'],
        ],
      );
      t.true(l.revision >= r3);
      t.true(await s.delete('/a/y'));
      t.false(await s.delete('/a/y'));
    });
  });

  test.serial(`${name}: createIfAbsent and compare-and-swap/delete on modRevision`, async (t) => {
    await withStore(async (s) => {
      t.true(await s.createIfAbsent('/c/k', 'first'));
      t.false(await s.createIfAbsent('/c/k', 'second'));
      const k = await s.get('/c/k');
      t.is(k?.value, 'first');
      if (!k) return;
      t.true(await s.compareAndSwap('/c/k', k.modRevision, 'swapped'));
      t.false(await s.compareAndSwap('/c/k', k.modRevision, 'stale'), 'a stale modRevision must lose');
      const k2 = await s.get('/c/k');
      t.is(k2?.value, 'swapped');
      if (!k2) return;
      t.false(await s.compareAndDelete('/c/k', k.modRevision));
      t.true(await s.compareAndDelete('/c/k', k2.modRevision));
      t.is(await s.get('/c/k'), undefined);
      t.false(await s.compareAndSwap('/c/k', k2.modRevision, 'gone'), 'CAS on a deleted key fails');
    });
  });

  test.serial(`${name}: concurrent createIfAbsent has exactly one winner`, async (t) => {
    await withStore(async (s) => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => s.createIfAbsent('/race/k', `w${i}`)),
      );
      t.is(results.filter(Boolean).length, 1);
    });
  });

  test.serial(`${name}: leases keep keys alive while renewed, then expire`, async (t) => {
    await withStore(async (s) => {
      const ttl = ctx().shortTtl;
      const lease = await s.grantLease(ttl);
      await s.put('/l/kept', 'v', { lease: lease.id });
      t.is((await s.get('/l/kept'))?.lease, lease.id);
      // Renew for longer than one TTL: the key must survive.
      const until = Date.now() + ttl * 1500;
      while (Date.now() < until) {
        t.true((await lease.keepAliveOnce()) > 0);
        t.truthy(await s.get('/l/kept'), 'a renewed lease must keep its key');
        await new Promise((r) => setTimeout(r, (ttl * 1000) / 4));
      }
      await waitFor(
        'the key of an unrenewed lease to go',
        async () => (await s.get('/l/kept')) === undefined,
      );
      const err = await t.throwsAsync(lease.keepAliveOnce());
      t.true(isStoreError(err, 'lease-not-found'), String(err));
      const put = await t.throwsAsync(s.put('/l/late', 'v', { lease: lease.id }));
      t.true(isStoreError(put, 'lease-not-found'), String(put));
    });
  });

  test.serial(
    `${name}: leaseTimeLeft tells the seconds a lease has left, undefined once it is gone`,
    async (t) => {
      await withStore(async (s) => {
        const lease = await s.grantLease(60);
        const left = await s.leaseTimeLeft(lease.id);
        t.true(left !== undefined && left > 0 && left <= 60, `left ${left}`);
        await lease.revoke();
        t.is(await s.leaseTimeLeft(lease.id), undefined, 'revoked');
        t.is(await s.leaseTimeLeft('4242424242'), undefined, 'never granted');
      });
    },
  );

  test.serial(`${name}: revoke deletes the lease's keys`, async (t) => {
    await withStore(async (s) => {
      const lease = await s.grantLease(60);
      await s.put('/r/a', '1', { lease: lease.id });
      await s.put('/r/b', '2', { lease: lease.id });
      await s.put('/r/c', '3');
      await lease.revoke();
      t.deepEqual(
        (await s.list('/r/')).items.map((i) => i.key),
        ['/r/c'],
      );
      await lease.revoke(); // twice is fine
    });
  });

  test.serial(
    `${name}: watch from a revision sees every event in order, before and after it starts`,
    async (t) => {
      await withStore(async (s) => {
        await s.put('/w/old', 'before the listing');
        const listed = await s.list('/w/');
        const before1 = await s.put('/w/a', '1');
        await s.put('/elsewhere', 'ignored');
        const before2 = await s.put('/w/b', '2');
        const watch = s.watch('/w/', { fromRevision: listed.revision + 1 });
        const a = await s.get('/w/a');
        t.true(await s.compareAndSwap('/w/a', a?.modRevision ?? 0, '1b'));
        t.true(await s.delete('/w/b'));
        const lease = await s.grantLease(60);
        t.true(await s.createIfAbsent('/w/c', '3', { lease: lease.id }));
        await lease.revoke();
        const events = await nextEvents(watch, 6);
        watch.close();
        t.deepEqual(
          events.map((e) => [e.type, 'key' in e ? e.key : '', e.type === 'put' ? e.value : '']),
          [
            ['put', '/w/a', '1'],
            ['put', '/w/b', '2'],
            ['put', '/w/a', '1b'],
            ['delete', '/w/b', ''],
            ['put', '/w/c', '3'],
            ['delete', '/w/c', ''],
          ],
        );
        const revs = events.map((e) => ('modRevision' in e ? e.modRevision : 0));
        t.is(revs[0], before1);
        t.is(revs[1], before2);
        t.deepEqual(
          revs,
          [...revs].sort((x, y) => x - y),
        );
        const created = events[4];
        t.is(created?.type === 'put' ? created.lease : undefined, lease.id);
      });
    },
  );

  test.serial(`${name}: a watch from a compacted revision reports resync and ends`, async (t) => {
    await withStore(async (s) => {
      const first = await s.put('/k/a', '1');
      await s.put('/k/a', '2');
      const last = await s.put('/k/a', '3');
      await s.compact(last);
      const watch = s.watch('/k/', { fromRevision: first });
      const events = await nextEvents(watch, 5);
      t.is(events.length, 1, JSON.stringify(events));
      t.is(events[0]?.type, 'resync');
      // After a relist, watching from the listing's revision works again.
      const listed = await s.list('/k/');
      const again = s.watch('/k/', { fromRevision: listed.revision + 1 });
      await s.put('/k/a', '4');
      const next = await nextEvents(again, 1);
      again.close();
      t.is(next[0]?.type, 'put');
    });
  });

  test.serial(`${name}: close ends running watches`, async (t) => {
    const s = await ctx().open();
    const watch = s.watch('/z/');
    await s.close();
    const events = await nextEvents(watch, 1, 5000);
    t.true(events.length === 0 || events[0]?.type === 'resync');
    const err = await t.throwsAsync(s.get('/z/a'));
    t.true(isStoreError(err, 'closed'), String(err));
  });
}
