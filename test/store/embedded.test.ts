import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { EmbeddedStore, type StateSource } from '../../pkg/store/embedded.ts';
import { isStoreError, openStore } from '../../pkg/store/index.ts';
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

/** Counts how the periodic tick got the state (operations are not counted). */
function tickCounter(): {
  counts: Record<StateSource, number>;
  onLoad: (s: StateSource, op: string) => void;
} {
  const counts: Record<StateSource, number> = { unchanged: 0, journal: 0, read: 0, created: 0 };
  return {
    counts,
    onLoad: (source, op) => {
      if (op === 'tick') counts[source] += 1;
    },
  };
}

const total = (c: Record<StateSource, number>): number => c.unchanged + c.journal + c.read + c.created;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes through a real second process (its own flock, its own temp file and rename). */
async function putFromAnotherProcess(dataDir: string, entries: [string, string][]): Promise<void> {
  const module = new URL('../../pkg/store/embedded.ts', import.meta.url).href;
  const script = `
    const { EmbeddedStore } = await import(${JSON.stringify(module)});
    const s = await EmbeddedStore.open({ dataDir: ${JSON.stringify(dataDir)} });
    try {
      for (const [k, v] of ${JSON.stringify(entries)}) await s.put(k, v);
    } finally {
      await s.close();
    }`;
  await promisify(execFile)(process.execPath, ['--import=tsx', '--input-type=module', '-e', script]);
}

test.serial(
  'embedded: the tick does not re-read an unchanged file, and still sees another process write',
  async (t) => {
    const dataDir = freshDir();
    const ticks = tickCounter();
    const tickMs = 20;
    const s = await EmbeddedStore.open({ dataDir, tickMs, onLoad: ticks.onLoad });
    try {
      await s.put('/p/k', '1');
      await sleep(20 * tickMs);
      t.is(total(ticks.counts), 0, 'no watch and no lease: the tick does nothing at all');

      const listed = await s.list('/p/');
      const watch = s.watch('/p/', { fromRevision: listed.revision + 1 });
      await waitFor('ticks while a watch is open', async () => ticks.counts.unchanged >= 5);
      t.is(ticks.counts.read + ticks.counts.journal, 0, 'an unchanged store is not read again');

      // A real second process: its own flock, its own file handles, appending to the same journal.
      await putFromAnotherProcess(dataDir, [
        ['/p/k', '2'],
        ['/p/new', 'x'],
      ]);
      const events = await nextEvents(watch, 2);
      t.deepEqual(
        events.map((e) => [e.type, 'key' in e ? e.key : '', e.type === 'put' ? e.value : '']),
        [
          ['put', '/p/k', '2'],
          ['put', '/p/new', 'x'],
        ],
      );
      t.true(ticks.counts.journal >= 1, 'the other process appended records: they were read');
      t.is(ticks.counts.read, 0, 'only the journal records since, never the whole store');
      t.is((await s.get('/p/k'))?.value, '2');

      const readsAfter = ticks.counts.journal;
      const unchangedAfter = ticks.counts.unchanged;
      await waitFor('more ticks', async () => ticks.counts.unchanged >= unchangedAfter + 5);
      t.is(ticks.counts.journal, readsAfter, 'once read, the journal is not read again until it grows');
      t.is(ticks.counts.read, 0);

      watch.close();
      await s.get('/p/k'); // let a tick in flight finish
      const before = total(ticks.counts);
      await sleep(20 * tickMs);
      t.is(total(ticks.counts), before, 'the last watch closed: the tick does nothing again');
    } finally {
      await s.close();
    }
  },
);

test.serial('embedded: a lease alone keeps the tick running until it expired', async (t) => {
  const dataDir = freshDir();
  const ticks = tickCounter();
  const tickMs = 20;
  const s = await EmbeddedStore.open({ dataDir, tickMs, onLoad: ticks.onLoad });
  try {
    const lease = await s.grantLease(1);
    await s.put('/l/k', 'v', { lease: lease.id });
    // No operation from here on: only the tick can expire the lease and write that down. The observer's clock
    // stands still, so it never expires a lease itself: it only reads what is on disk.
    const observer = await EmbeddedStore.open({ dataDir, now: () => 0 });
    try {
      await waitFor(
        'the tick to expire the lease on disk',
        async () => (await observer.get('/l/k')) === undefined,
      );
    } finally {
      await observer.close();
    }
    t.true(ticks.counts.unchanged > 0);
    t.is(ticks.counts.read + ticks.counts.journal, 0, 'only this handle wrote the store: never read back');
    await sleep(2 * tickMs); // a tick in flight may still finish
    const before = total(ticks.counts);
    await sleep(20 * tickMs);
    t.is(total(ticks.counts), before, 'no lease left: the tick does nothing');
  } finally {
    await s.close();
  }
});

test.serial('embedded: a store file written before the journal is read, then carried on', async (t) => {
  const dataDir = freshDir();
  // What tsnet wrote before the journal: the whole state in one file, keys and leases as object members.
  const legacy = {
    id: 'legacy',
    generation: 7,
    revision: 3,
    compactRevision: 0,
    nextLease: 1,
    keys: {
      '/o/k': { value: 'a', createRevision: 2, modRevision: 2 },
      '/o/m': { value: 'b', createRevision: 3, modRevision: 3 },
    },
    leases: {},
    history: [
      { type: 'put', key: '/o/k', value: 'a', modRevision: 2, createRevision: 2 },
      { type: 'put', key: '/o/m', value: 'b', modRevision: 3, createRevision: 3 },
    ],
  };
  writeFileSync(join(dataDir, 'store.json'), JSON.stringify(legacy));
  const s = await EmbeddedStore.open({ dataDir });
  try {
    t.is((await s.get('/o/k'))?.value, 'a');
    t.is((await s.get('/o/m'))?.modRevision, 3);
    t.is(await s.put('/o/n', 'c'), 4);
  } finally {
    await s.close();
  }
  const again = await EmbeddedStore.open({ dataDir });
  try {
    t.deepEqual(
      (await again.list('/o/')).items.map((i) => [i.key, i.value, i.modRevision]),
      [
        ['/o/k', 'a', 2],
        ['/o/m', 'b', 3],
        ['/o/n', 'c', 4],
      ],
    );
  } finally {
    await again.close();
  }
});

function snapshotGeneration(dataDir: string): number {
  return (JSON.parse(readFileSync(join(dataDir, 'store.json'), 'utf8')) as { generation: number }).generation;
}

// Names that live on Object.prototype: as plain-object keys they found inherited members or set the prototype.
const PROTOTYPE_NAMES = ['constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf'];

test.serial(
  'embedded: keys named like Object.prototype members are ordinary keys, also after reopen',
  async (t) => {
    const dataDir = freshDir();
    // A small journal limit: the later writes fold the journal into snapshots, so both paths are read back.
    const open = () => EmbeddedStore.open({ dataDir, tickMs: 50, compactJournalBytes: 1 });
    const s = await open();
    try {
      for (const name of PROTOTYPE_NAMES) {
        t.is(await s.get(name), undefined, `get ${name} on an empty store`);
        t.false(await s.delete(name), `delete ${name} on an empty store`);
        t.false(await s.compareAndDelete(name, 1), `compareAndDelete ${name} on an empty store`);
      }
      const listed = await s.list('');
      const watch = s.watch('', { fromRevision: listed.revision + 1 });
      for (const name of PROTOTYPE_NAMES) t.true(await s.createIfAbsent(name, `v-${name}`), name);
      for (const name of PROTOTYPE_NAMES) t.is((await s.get(name))?.value, `v-${name}`, name);
      t.deepEqual(
        (await s.list('')).items.map((i) => i.key),
        [...PROTOTYPE_NAMES].sort(),
      );
      const lease = await s.grantLease(60);
      await s.put('__proto__', 'leased', { lease: lease.id });
      t.true(await s.delete('toString'));
      const events = await nextEvents(watch, PROTOTYPE_NAMES.length + 2);
      watch.close();
      t.deepEqual(
        events.map((e) => [e.type, 'key' in e ? e.key : '']),
        [...PROTOTYPE_NAMES.map((n) => ['put', n]), ['put', '__proto__'], ['delete', 'toString']],
      );
    } finally {
      await s.close();
    }
    const expected = [
      ['__proto__', 'leased'],
      ['constructor', 'v-constructor'],
      ['hasOwnProperty', 'v-hasOwnProperty'],
      ['valueOf', 'v-valueOf'],
    ];
    const reopened = await open();
    try {
      t.deepEqual(
        (await reopened.list('')).items.map((i) => [i.key, i.value]),
        expected,
      );
      t.truthy((await reopened.get('__proto__'))?.lease, 'the lease binding survives too');
      // Enough writes for the journal to be folded into a snapshot, then read the snapshot back.
      const before = snapshotGeneration(dataDir);
      for (let i = 0; i < 20; i++) await reopened.put('/filler', String(i));
      t.true(snapshotGeneration(dataDir) > before, 'the journal was folded into a new snapshot');
    } finally {
      await reopened.close();
    }
    const fromSnapshot = await open();
    try {
      const items = (await fromSnapshot.list('')).items.filter((i) => i.key !== '/filler');
      t.deepEqual(
        items.map((i) => [i.key, i.value]),
        expected,
      );
      const leaseId = (await fromSnapshot.get('__proto__'))?.lease;
      t.truthy(leaseId);
      await fromSnapshot.leaseFromId(leaseId ?? '', 60).revoke();
      t.is(await fromSnapshot.get('__proto__'), undefined, 'revoking the lease deletes __proto__');
    } finally {
      await fromSnapshot.close();
    }
  },
);

test.serial(
  'embedded: create false opens an existing store, and creates nothing when there is none',
  async (t) => {
    const parent = freshDir();
    const missingDir = join(parent, 'mistyped');
    for (const dataDir of [missingDir, parent]) {
      for (const opening of [
        () => EmbeddedStore.open({ dataDir, create: false }),
        () => openStore({ embedded: { dataDir, create: false } }),
      ]) {
        const err = await t.throwsAsync(opening());
        t.true(isStoreError(err, 'not-found'), String(err));
        t.true(err?.message.includes(join(dataDir, 'store.json')), err?.message);
      }
    }
    t.deepEqual(readdirSync(parent), [], 'no data dir, no store, no lock file');

    const created = await EmbeddedStore.open({ dataDir: parent });
    await created.put('/ro/k', 'v');
    await created.close();
    const existing = await openStore({ embedded: { dataDir: parent, create: false } });
    try {
      t.is((await existing.get('/ro/k'))?.value, 'v');
    } finally {
      await existing.close();
    }
  },
);
