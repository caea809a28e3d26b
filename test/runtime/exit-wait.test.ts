// waitForExit without conmon: exit files written by hand into an exit directory many containers share.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { waitForExit } from '../../pkg/runtime/conmon.ts';
import { withTempDir } from '../helpers/tmp.ts';

const idOf = (i: number) => `c${String(i).padStart(63, '0')}`;

test('many waiters on one exit directory each get their own code, in any order of exits', async (t) => {
  await withTempDir(async (dir) => {
    const exits = join(dir, 'exits');
    mkdirSync(exits);
    const ids = Array.from({ length: 30 }, (_, i) => idOf(i));
    const waits = ids.map((id) => waitForExit(exits, id));
    for (const i of [7, 3, 29, 0, ...ids.keys()]) writeFileSync(join(exits, idOf(i)), String(i % 256));
    t.deepEqual(
      await Promise.all(waits),
      ids.map((_, i) => i % 256),
    );
  });
});

test('an exit file written before the wait, or created empty and written later, is read; abort rejects', async (t) => {
  await withTempDir(async (dir) => {
    const exits = join(dir, 'exits');
    mkdirSync(exits);
    writeFileSync(join(exits, idOf(1)), '3');
    t.is(await waitForExit(exits, idOf(1)), 3);

    writeFileSync(join(exits, idOf(2)), '');
    const later = waitForExit(exits, idOf(2));
    const abort = new AbortController();
    const aborted = waitForExit(exits, idOf(3), abort.signal);
    abort.abort(new Error('agent stopping'));
    const err = await t.throwsAsync(aborted);
    t.is(err?.name, 'AbortError');
    writeFileSync(join(exits, idOf(2)), '137');
    t.is(await later, 137);

    // the directory's watcher stopped when nobody waited; a new wait starts another
    const again = waitForExit(exits, idOf(4));
    writeFileSync(join(exits, idOf(4)), '0');
    t.is(await again, 0);
  });
});

test('a wait on a directory that does not exist yet is served once it appears (the poll)', async (t) => {
  await withTempDir(async (dir) => {
    const exits = join(dir, 'later');
    const wait = waitForExit(exits, idOf(5));
    mkdirSync(exits);
    writeFileSync(join(exits, idOf(5)), '9');
    t.is(await wait, 9);
  });
});
