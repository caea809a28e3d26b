// pkg/fsutil/dir-changes.ts against the real kernel: what happened to each name since the last take, the
// last thing winning; a vital name or the directory's removal loses the watch.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { watchDirectory } from '../../pkg/fsutil/dir-changes.ts';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-dirchanges-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('each changed name with the last thing that happened to it; nothing before the watch', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'before'), 'x');
  const watch = watchDirectory(dir);
  t.teardown(() => watch.close());
  writeFileSync(join(dir, 'made'), 'x');
  writeFileSync(join(dir, 'brief'), 'x');
  rmSync(join(dir, 'brief'));
  writeFileSync(join(dir, '.tmp'), 'y');
  renameSync(join(dir, '.tmp'), join(dir, 'before'));
  const first = watch.take();
  t.false(first.lost);
  t.deepEqual([...first.names].sort(), [
    ['.tmp', 'gone'],
    ['before', 'changed'],
    ['brief', 'gone'],
    ['made', 'changed'],
  ]);
  t.deepEqual([...watch.take().names], [], 'a take hands over only what came since the last one');
  rmSync(join(dir, 'made'));
  t.deepEqual([...watch.take().names], [['made', 'gone']]);
});

test('a vital name changed, or the directory removed, loses the watch for good', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  writeFileSync(join(dir, 'a', 'lock'), '');
  const a = watchDirectory(join(dir, 'a'), ['lock']);
  const b = watchDirectory(join(dir, 'b'));
  t.teardown(() => {
    a.close();
    b.close();
  });
  let lostA = 0;
  a.onLost = () => lostA++;
  writeFileSync(join(dir, 'a', 'record'), 'x');
  t.false(a.take().lost);
  writeFileSync(join(dir, 'a', 'lock.new'), '');
  renameSync(join(dir, 'a', 'lock.new'), join(dir, 'a', 'lock'));
  b.take(); // a drain through another watch reports it too
  t.is(lostA, 1);
  t.true(a.take().lost);
  writeFileSync(join(dir, 'a', 'later'), 'x');
  t.deepEqual([...a.take().names], [], 'a lost watch reports nothing further');

  rmSync(join(dir, 'b'), { recursive: true });
  t.true(b.take().lost);
});
