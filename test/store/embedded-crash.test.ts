// The embedded store's journal and snapshot under crashes: a writer SIGKILLed mid-append or mid-compaction
// (test fault points in pkg/store/journal.ts, hit exactly, in a child process) loses at most the operation it
// had not committed, never the store.
import { execFile } from 'node:child_process';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { EmbeddedStore } from '../../pkg/store/embedded.ts';
import { nextEvents } from './contract.ts';

const dirs: string[] = [];
test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsnt-store-crash-'));
  dirs.push(d);
  return d;
}

const MODULE = new URL('../../pkg/store/embedded.ts', import.meta.url).href;

interface ChildRun {
  /** Keys whose put returned in the child before it died. */
  acknowledged: string[];
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

/**
 * Puts `/c/0`, `/c/1`, … from a child process, printing each key once its put returned; the fault point is
 * armed after `armAfter` puts and kills the child where it is hit (else all `count` puts are done).
 */
async function putsInChild(
  dataDir: string,
  fault: string,
  count: number,
  armAfter: number,
  compactJournalBytes?: number,
): Promise<ChildRun> {
  const options = { dataDir, ...(compactJournalBytes !== undefined ? { compactJournalBytes } : {}) };
  const script = `
    const { EmbeddedStore } = await import(${JSON.stringify(MODULE)});
    const s = await EmbeddedStore.open(${JSON.stringify(options)});
    for (let i = 0; i < ${count}; i++) {
      if (i === ${armAfter}) process.env.TSNET_TEST_FAULT = ${JSON.stringify(fault)};
      await s.put('/c/' + i, 'value ' + i);
      process.stdout.write('/c/' + i + '\\n');
    }
    await s.close();`;
  try {
    const { stdout } = await run(process.execPath, ['--import=tsx', '--input-type=module', '-e', script]);
    return { acknowledged: lines(stdout), signal: null, code: 0, stderr: '' };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; signal: NodeJS.Signals | null; code: number | null };
    return { acknowledged: lines(e.stdout), signal: e.signal, code: e.code, stderr: e.stderr };
  }
}

const run = promisify(execFile);
const lines = (text: string): string[] => text.split('\n').filter(Boolean);

async function keysIn(dataDir: string, prefix: string): Promise<string[]> {
  const s = await EmbeddedStore.open({ dataDir });
  try {
    return (await s.list(prefix)).items.map((i) => i.key);
  } finally {
    await s.close();
  }
}

const tempFiles = (dataDir: string): string[] => readdirSync(dataDir).filter((n) => n.endsWith('.tmp'));
const byIndex = (a: string, b: string): number => Number(a.slice(3)) - Number(b.slice(3));

/** A store with a few committed keys, made by this process. */
async function seededStore(): Promise<string> {
  const dataDir = freshDir();
  const s = await EmbeddedStore.open({ dataDir });
  try {
    for (const k of ['/s/a', '/s/b', '/s/c']) await s.put(k, k);
  } finally {
    await s.close();
  }
  return dataDir;
}

test.serial('a writer killed mid-append leaves a torn record that is ignored, then cut off', async (t) => {
  const dataDir = await seededStore();
  // A handle open across the crash, as the agent is while tsnetctl writes.
  const held = await EmbeddedStore.open({ dataDir });
  try {
    t.is((await held.get('/s/c'))?.value, '/s/c');
    const journal = join(dataDir, 'store.json.journal');
    const sizeBefore = statSync(journal).size;
    const run = await putsInChild(dataDir, 'store-append-torn', 1, 0);
    t.is(run.signal, 'SIGKILL', run.stderr);
    t.deepEqual(run.acknowledged, [], 'killed inside its first put');
    t.true(statSync(journal).size > sizeBefore, 'half a record was written');

    t.is(await held.get('/c/0'), undefined, 'the held handle ignores the torn record');
    t.deepEqual(await keysIn(dataDir, ''), ['/s/a', '/s/b', '/s/c'], 'a new handle too');
    // The next write cuts the torn record off, so its own record is not stranded behind garbage.
    await held.put('/after', 'crash');
  } finally {
    await held.close();
  }
  t.deepEqual(await keysIn(dataDir, ''), ['/after', '/s/a', '/s/b', '/s/c']);
});

test.serial('a damaged or partial last record is ignored, what precedes it kept', async (t) => {
  const dataDir = await seededStore();
  const journal = join(dataDir, 'store.json.journal');
  const whole = readFileSync(journal);
  // Flip a byte inside the last record: its checksum fails.
  const flipped = Buffer.from(whole);
  flipped[flipped.length - 3] = (flipped[flipped.length - 3] ?? 0) ^ 0xff;
  writeFileSync(journal, flipped);
  t.deepEqual(await keysIn(dataDir, ''), ['/s/a', '/s/b']);
  // A frame header announcing more bytes than follow, after the intact records.
  writeFileSync(journal, whole);
  appendFileSync(journal, Buffer.from([0, 0, 1, 0, 1, 2, 3, 4, 5]));
  t.deepEqual(await keysIn(dataDir, ''), ['/s/a', '/s/b', '/s/c']);
  const s = await EmbeddedStore.open({ dataDir });
  try {
    await s.put('/s/d', 'after the damage');
  } finally {
    await s.close();
  }
  t.deepEqual(await keysIn(dataDir, ''), ['/s/a', '/s/b', '/s/c', '/s/d']);
});

for (const { fault, triggerCommitted } of [
  { fault: 'store-compact-before-rename', triggerCommitted: false },
  { fault: 'store-compact-after-snapshot', triggerCommitted: true },
]) {
  test.serial(`a writer killed during compaction (${fault}) loses no committed operation`, async (t) => {
    const dataDir = await seededStore();
    const held = await EmbeddedStore.open({ dataDir, tickMs: 50 });
    try {
      const listed = await held.list('/c/');
      const watch = held.watch('/c/', { fromRevision: listed.revision + 1 });
      // A 1-byte limit: compaction as soon as the journal outgrows the snapshot, after a few puts.
      const run = await putsInChild(dataDir, fault, 200, 3, 1);
      t.is(run.signal, 'SIGKILL', run.stderr);
      t.true(run.acknowledged.length >= 3 && run.acknowledged.length < 200, run.acknowledged.join(','));
      const trigger = `/c/${run.acknowledged.length}`;
      const expected = [...run.acknowledged, ...(triggerCommitted ? [trigger] : [])];
      if (!triggerCommitted)
        t.true(tempFiles(dataDir).length > 0, 'killed before its rename: a temp file is left');

      // The handle open across the crash sees every committed put, in order, without a gap.
      const events = await nextEvents(watch, expected.length);
      watch.close();
      t.deepEqual(
        events.map((e) => (e.type === 'put' ? e.key : e.type)),
        expected,
      );
      t.deepEqual((await keysIn(dataDir, '/c/')).sort(byIndex), expected);
      t.deepEqual(tempFiles(dataDir), [], 'orphaned temp files are removed at open');
      t.deepEqual(await keysIn(dataDir, '/s/'), ['/s/a', '/s/b', '/s/c']);

      // The store carries on: writes after the crash land and survive a reopen.
      await held.put('/c/after', 'x');
    } finally {
      await held.close();
    }
    const keys = await keysIn(dataDir, '/c/');
    t.true(keys.includes('/c/after'));
  });
}

test.serial('compactions by one handle are followed by another, with no event lost', async (t) => {
  const dataDir = freshDir();
  const a = await EmbeddedStore.open({ dataDir, tickMs: 50, compactJournalBytes: 1 });
  const b = await EmbeddedStore.open({ dataDir, tickMs: 50 });
  try {
    const listed = await b.list('/x/');
    const watch = b.watch('/x/', { fromRevision: listed.revision + 1 });
    const generation = (): number =>
      (JSON.parse(readFileSync(join(dataDir, 'store.json'), 'utf8')) as { generation: number }).generation;
    const first = generation();
    const written: string[] = [];
    for (let i = 0; i < 60; i++) {
      const key = `/x/${i}`;
      await (i % 3 === 0 ? b : a).put(key, String(i));
      written.push(key);
    }
    t.true(generation() > first + 2, 'the journal was folded into snapshots several times');
    const events = await nextEvents(watch, written.length);
    watch.close();
    t.deepEqual(
      events.map((e) => (e.type === 'put' ? e.key : e.type)),
      written,
    );
  } finally {
    await a.close();
    await b.close();
  }
  t.is((await keysIn(dataDir, '/x/')).length, 60);
});

test.serial('temp files a killed writer left are removed at open', async (t) => {
  const dataDir = await seededStore();
  // The pre-journal writer's name, and this one's for the snapshot and the journal.
  const orphans = [
    'store.json.4242.tmp',
    'store.json.4242.abcd0123.tmp',
    'store.json.journal.4242.abcd0123.tmp',
  ];
  for (const name of orphans) writeFileSync(join(dataDir, name), 'partial');
  // Not ours: another file's, and another store's in the same directory (fileName 'store.json.x').
  const others = ['store.json.x.4242.abcd0123.tmp', 'unrelated.tmp'];
  for (const name of others) writeFileSync(join(dataDir, name), 'not ours');
  t.deepEqual(await keysIn(dataDir, '/s/'), ['/s/a', '/s/b', '/s/c']);
  t.deepEqual(tempFiles(dataDir).sort(), others);
});

/** Increments `/counter` `times` times by get and compare-and-swap, retrying a lost CAS. */
async function incrementCounter(store: EmbeddedStore, times: number): Promise<void> {
  for (let done = 0; done < times; ) {
    const k = await store.get('/counter');
    if (await store.compareAndSwap('/counter', k?.modRevision ?? 0, String(Number(k?.value ?? '0') + 1)))
      done++;
  }
}

test.serial('processes racing compare-and-swap across compactions lose no update', async (t) => {
  const dataDir = freshDir();
  const times = 60;
  const script = `
    const { EmbeddedStore } = await import(${JSON.stringify(MODULE)});
    const s = await EmbeddedStore.open({ dataDir: ${JSON.stringify(dataDir)}, compactJournalBytes: 1 });
    for (let done = 0; done < ${times}; ) {
      const k = await s.get('/counter');
      if (await s.compareAndSwap('/counter', k?.modRevision ?? 0, String(Number(k?.value ?? '0') + 1))) done++;
    }
    await s.close();`;
  const here = await EmbeddedStore.open({ dataDir, compactJournalBytes: 1 });
  try {
    await Promise.all([
      run(process.execPath, ['--import=tsx', '--input-type=module', '-e', script]),
      run(process.execPath, ['--import=tsx', '--input-type=module', '-e', script]),
      incrementCounter(here, times),
    ]);
    t.is((await here.get('/counter'))?.value, String(3 * times));
  } finally {
    await here.close();
  }
  const fresh = await EmbeddedStore.open({ dataDir });
  try {
    t.is((await fresh.get('/counter'))?.value, String(3 * times), 'the same after a reopen');
  } finally {
    await fresh.close();
  }
});
