// mallocTrim gives back the free pages below the top of glibc's heap, which free() keeps: in a child process
// of its own (a fresh heap, and a full GC on demand), 90 MB of buffers are freed around small ones that pin
// the heap's top, and the resident size drops only once mallocTrim runs.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';

const run = promisify(execFile);

const CHILD = `
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { mallocTrim } from './native/libc.ts';
const rssMiB = () => (Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096) / 2 ** 20;
mallocTrim(); // the binding loaded, and the start's own holes gone, before the baseline
let chunks = Array.from({ length: 1000 }, () => Buffer.allocUnsafeSlow(100_000).fill(1)); // below mmap's threshold
const pins = chunks.filter((_, i) => i % 10 === 9);
chunks = [];
globalThis.gc(); globalThis.gc();
await sleep(200); // array buffers are freed by a sweeper task after the GC
const freed = rssMiB();
const trimmed = mallocTrim();
console.log(JSON.stringify({ freed, trimmed, after: rssMiB(), pins: pins.length }));
`;

test('mallocTrim returns the holes free() leaves resident', async (t) => {
  const { stdout } = await run(
    process.execPath,
    ['--expose-gc', '--import=tsx', '--input-type=module', '-e', CHILD],
    { cwd: new URL('../..', import.meta.url).pathname },
  );
  const r = JSON.parse(stdout) as { freed: number; trimmed: boolean; after: number; pins: number };
  t.is(r.pins, 100);
  t.true(r.trimmed, 'glibc had pages to give back');
  t.true(
    r.freed - r.after > 50,
    `resident ${r.freed.toFixed(1)} MiB before the trim, ${r.after.toFixed(1)} after`,
  );
});
