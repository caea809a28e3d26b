// npm run bench:store — the embedded store's committed operations per second on this machine's disk, on an
// empty store and on a large one (~5 MB, many keys): put, compare-and-swap (a get and a CAS), lease grant and
// lease keepalive, plus how long another handle takes to open the large store.
//
//   npm run bench:store [-- --module <path to an embedded.ts> --dir <dir on the disk to measure>]
//
// `--module` measures another implementation with the same exports (e.g. the pre-journal one, extracted with
// `git show cb06f5b:pkg/store/embedded.ts > pkg/store/embedded-before.ts`). The large store is seeded as a
// file in the pre-journal format, which both read, so either can be measured on the same data.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Store } from '../../pkg/store/index.ts';

/** Keys and value size of the large store: about 5 MB of state. */
const LARGE_KEYS = 18_000;
const LARGE_VALUE_BYTES = 220;
/**
 * Each measurement is ROUNDS runs of ROUND_MS (or MAX_OPS operations) after a few unmeasured operations; the
 * median round is reported, since an fsync's cost varies with whatever else uses the disk.
 */
const ROUNDS = 5;
const ROUND_MS = 800;
const MAX_OPS = 3000;
const WARMUP_OPS = 5;

interface EmbeddedModule {
  EmbeddedStore: { open(options: { dataDir: string }): Promise<Store> };
}

/**
 * The pre-journal implementation (cb06f5b) on this machine (2 cores, ext4 on virtio, Node 20.20, load average
 * ~14 from other test runs), measured with `--module`: the median of seven runs, printed beside the current
 * figures for comparison. Not re-measured by this run.
 */
const BEFORE: Record<string, number> = {
  'put, empty store': 61,
  'CAS (get + compareAndSwap), empty store': 206,
  'lease grant, empty store': 137,
  'lease keepalive, empty store': 137,
  'put, large store': 10,
  'CAS (get + compareAndSwap), large store': 12,
  'lease grant, large store': 11,
  'lease keepalive, large store': 9,
};

/** Operations per second of `op` (called with a running counter), the median of ROUNDS rounds. */
async function rate(op: (i: number) => Promise<unknown>): Promise<number> {
  let n = 0;
  for (let i = 0; i < WARMUP_OPS; i++) await op(n++);
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const start = performance.now();
    let done = 0;
    for (; done < MAX_OPS && performance.now() - start < ROUND_MS; done++) await op(n++);
    rounds.push((done * 1000) / (performance.now() - start));
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)] ?? 0;
}

/** A store file in the pre-journal format: the whole state as one JSON object. */
function seedLargeStore(dataDir: string): number {
  const value = 'v'.repeat(LARGE_VALUE_BYTES);
  const keys: Record<string, { value: string; createRevision: number; modRevision: number }> = {};
  for (let i = 0; i < LARGE_KEYS; i++) {
    keys[`/bench/seed/${String(i).padStart(6, '0')}`] = { value, createRevision: i + 2, modRevision: i + 2 };
  }
  const text = JSON.stringify({
    id: 'bench-large',
    generation: 1,
    revision: LARGE_KEYS + 1,
    compactRevision: LARGE_KEYS + 2,
    nextLease: 1,
    keys,
    leases: {},
    history: [],
  });
  writeFileSync(join(dataDir, 'store.json'), text);
  return text.length;
}

async function measure(store: Store, size: string): Promise<[string, number][]> {
  const rows: [string, number][] = [];
  rows.push([`put, ${size}`, await rate((i) => store.put(`/bench/put/${i % 100}`, `value ${i}`))]);
  await store.put('/bench/cas', '0');
  rows.push([
    `CAS (get + compareAndSwap), ${size}`,
    await rate(async (i) => {
      const k = await store.get('/bench/cas');
      if (!(await store.compareAndSwap('/bench/cas', k?.modRevision ?? 0, String(i)))) {
        throw new Error('CAS lost with a single writer');
      }
    }),
  ]);
  const granted: { revoke(): Promise<void> }[] = [];
  rows.push([`lease grant, ${size}`, await rate(async () => granted.push(await store.grantLease(600)))]);
  for (const l of granted) await l.revoke();
  const lease = await store.grantLease(600);
  rows.push([`lease keepalive, ${size}`, await rate(() => lease.keepAliveOnce())]);
  await lease.revoke();
  return rows;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { module: { type: 'string' }, dir: { type: 'string' } },
  });
  const modulePath = resolve(
    values.module ?? new URL('../../pkg/store/embedded.ts', import.meta.url).pathname,
  );
  const { EmbeddedStore } = (await import(modulePath)) as EmbeddedModule;
  const base = mkdtempSync(join(values.dir ?? tmpdir(), 'tsnet-bench-store-'));
  try {
    const rows: [string, number][] = [];
    const small = await EmbeddedStore.open({ dataDir: join(base, 'small') });
    try {
      rows.push(...(await measure(small, 'empty store')));
    } finally {
      await small.close();
    }

    const largeDir = join(base, 'large');
    mkdirSync(largeDir);
    const bytes = seedLargeStore(largeDir);
    const large = await EmbeddedStore.open({ dataDir: largeDir });
    let openMs: number;
    try {
      rows.push(...(await measure(large, 'large store')));
      // Another process opening the store as it now is (snapshot plus whatever journal the writes left).
      const start = performance.now();
      const other = await EmbeddedStore.open({ dataDir: largeDir });
      await other.get('/bench/cas');
      openMs = performance.now() - start;
      await other.close();
    } finally {
      await large.close();
    }

    console.log(`embedded store: ${modulePath}`);
    console.log(
      `large store: ${LARGE_KEYS} keys, ${(bytes / 1e6).toFixed(1)} MB as seeded; data under ${base}`,
    );
    console.log(['operation', 'ops/s now', 'ops/s before (cb06f5b)'].join('\t'));
    for (const [name, perSecond] of rows) {
      const before = BEFORE[name];
      console.log([name, perSecond.toFixed(0), before ? before.toFixed(0) : '-'].join('\t'));
    }
    console.log(['open + first get, large store (ms)', openMs.toFixed(1), '-'].join('\t'));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
