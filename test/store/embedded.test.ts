import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { EmbeddedStore } from '../../pkg/store/embedded.ts';
import { nextEvents, storeContract, waitFor } from './contract.ts';

const dirs: string[] = [];
test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsnt-store-'));
  dirs.push(d);
  return d;
}

storeContract(test, 'embedded', () => ({
  open: () => EmbeddedStore.open({ dataDir: freshDir(), tickMs: 100 }),
  shortTtl: 1,
}));

test.serial('embedded: two handles on one file (two processes) see each other, under the lock', async (t) => {
  const dataDir = freshDir();
  const a = await EmbeddedStore.open({ dataDir, tickMs: 50 });
  const b = await EmbeddedStore.open({ dataDir, tickMs: 50 });
  try {
    const listed = await a.list('/n/');
    const watch = a.watch('/n/', { fromRevision: listed.revision + 1 });
    const wins = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).createIfAbsent('/n/k', `w${i}`)),
    );
    t.is(wins.filter(Boolean).length, 1, 'one winner across handles');
    await b.put('/n/other', 'from b');
    const events = await nextEvents(watch, 2);
    watch.close();
    t.deepEqual(
      events.map((e) => (e.type === 'put' ? e.key : e.type)),
      ['/n/k', '/n/other'],
    );
    t.is((await a.get('/n/other'))?.value, 'from b');
  } finally {
    await a.close();
    await b.close();
  }
});

test.serial('embedded: a lease expires even when only another handle is open', async (t) => {
  const dataDir = freshDir();
  const a = await EmbeddedStore.open({ dataDir, tickMs: 50 });
  const b = await EmbeddedStore.open({ dataDir, tickMs: 50 });
  try {
    const lease = await a.grantLease(1);
    await a.put('/e/k', 'v', { lease: lease.id });
    await a.close();
    const listed = await b.list('/e/');
    t.is(listed.items.length, 1);
    const watch = b.watch('/e/', { fromRevision: listed.revision + 1 });
    const events = await nextEvents(watch, 1);
    t.is(events[0]?.type, 'delete');
  } finally {
    await a.close();
    await b.close();
  }
});

test.serial('embedded: a file replaced underneath makes watches resync', async (t) => {
  const dataDir = freshDir();
  const s = await EmbeddedStore.open({ dataDir, tickMs: 50 });
  try {
    await s.put('/f/a', '1');
    const listed = await s.list('/f/');
    const watch = s.watch('/f/', { fromRevision: listed.revision + 1 });
    await waitFor('the watch to start', async () => {
      await s.get('/f/a');
      return true;
    });
    writeFileSync(
      join(dataDir, 'store.json'),
      JSON.stringify({
        id: 'other',
        revision: 1,
        compactRevision: 0,
        nextLease: 1,
        keys: {},
        leases: {},
        history: [],
      }),
    );
    const events = await nextEvents(watch, 2);
    t.is(events.length, 1);
    t.is(events[0]?.type, 'resync');
  } finally {
    await s.close();
  }
});

test.serial('embedded: a corrupt file is a clear error', async (t) => {
  const dataDir = freshDir();
  writeFileSync(join(dataDir, 'store.json'), '{not json');
  const err = await t.throwsAsync(EmbeddedStore.open({ dataDir }));
  t.regex(String(err?.message), /corrupt store file .*store\.json/);
});
