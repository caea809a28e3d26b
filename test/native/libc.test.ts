import { closeSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  close,
  errnoName,
  flock,
  LOCK_EX,
  LOCK_NB,
  LOCK_UN,
  SyscallError,
  setns,
  umount2,
} from '../../native/libc.ts';

test('a failed call throws SyscallError with the call and errno name', (t) => {
  const err = t.throws(() => close(987654), { instanceOf: SyscallError });
  t.is(err?.code, 'EBADF');
  t.is(err?.syscall, 'close');
  t.regex(err?.message ?? '', /^close: EBADF/);
  const notMounted = t.throws(() => umount2('/nonexistent-tsnet-path'), { instanceOf: SyscallError });
  t.is(notMounted?.code, 'ENOENT');
  t.regex(notMounted?.message ?? '', /umount2 \/nonexistent-tsnet-path: ENOENT/);
  t.is(t.throws(() => setns(987654, 0), { instanceOf: SyscallError })?.code, 'EBADF');
});

test('errno names use the Linux spelling of aliases', (t) => {
  t.is(errnoName(11), 'EAGAIN');
  t.is(errnoName(95), 'EOPNOTSUPP');
  t.is(errnoName(17), 'EEXIST');
});

test('flock: exclusive locks exclude, LOCK_NB reports contention', (t) => {
  const path = join(tmpdir(), `tsnet-flock-${process.pid}-${Date.now()}`);
  const a = openSync(path, 'w');
  const b = openSync(path, 'r');
  try {
    t.true(flock(a, LOCK_EX));
    t.false(flock(b, LOCK_EX | LOCK_NB), 'second open file description cannot take the lock');
    flock(a, LOCK_UN);
    t.true(flock(b, LOCK_EX | LOCK_NB));
  } finally {
    closeSync(a);
    closeSync(b);
    rmSync(path, { force: true });
  }
});
