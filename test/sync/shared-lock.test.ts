// The shared/exclusive lock the image catalog uses: pulls share it, a removal holds it alone and is not
// starved by later pulls; a failing holder releases it.
import test from 'ava';
import { SharedLock } from '../../pkg/sync/shared-lock.ts';

function gate(): { open: () => void; opened: Promise<void> } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

test('shared holders run together; an exclusive one waits for them, and later shared ones wait for it', async (t) => {
  const lock = new SharedLock();
  const order: string[] = [];
  const first = gate();
  const second = gate();
  const a = lock.withShared(async () => {
    order.push('a in');
    await first.opened;
    order.push('a out');
  });
  const b = lock.withShared(async () => {
    order.push('b in');
    await second.opened;
    order.push('b out');
  });
  const x = lock.withExclusive(async () => {
    order.push('x');
  });
  const c = lock.withShared(async () => {
    order.push('c');
  });
  await new Promise((r) => setImmediate(r));
  t.deepEqual(order, ['a in', 'b in'], 'both shared holders inside; the exclusive one and c wait');
  first.open();
  await a;
  t.deepEqual(order, ['a in', 'b in', 'a out'], 'the exclusive holder still waits for b');
  second.open();
  await Promise.all([b, x, c]);
  t.deepEqual(order, ['a in', 'b in', 'a out', 'b out', 'x', 'c']);
});

test('a holder that throws releases the lock and its error reaches the caller', async (t) => {
  const lock = new SharedLock();
  await t.throwsAsync(
    lock.withExclusive(async () => {
      throw new Error('boom');
    }),
    { message: 'boom' },
  );
  await t.throwsAsync(
    lock.withShared(async () => {
      throw new Error('bang');
    }),
    { message: 'bang' },
  );
  t.is(await lock.withExclusive(async () => 'free'), 'free');
});
