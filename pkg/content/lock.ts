// A held exclusive lock on a file, across processes (flock) and within this one (turns), released explicitly.
// Unlike a callback-scoped lock, the holder keeps it for as long as an object lives (an open content writer).
import { closeSync, constants, fstatSync, openSync, statSync } from 'node:fs';
import { flock, flockExclusiveAsync, LOCK_EX, LOCK_NB } from '../../native/libc.ts';
import { inTurn } from '../sync/turns.ts';

export interface HeldLock {
  release(): void;
  /**
   * True while the locked file is still the one at the path. A lock file removed with its directory (a
   * committed ingest) may be locked by a waiter that opened it before: that lock guards nothing, retry.
   */
  stillLinked(): boolean;
}

function heldLock(path: string, fd: number, onRelease: () => void = () => undefined): HeldLock {
  let done = false;
  return {
    release() {
      if (done) return;
      done = true;
      closeSync(fd); // closing the only descriptor releases the flock
      onRelease();
    },
    stillLinked() {
      try {
        return statSync(path).ino === fstatSync(fd).ino;
      } catch {
        return false;
      }
    },
  };
}

/**
 * Waits for an exclusive flock on `path` (created if missing). In-process callers queue first, so at most one
 * of libuv's worker threads waits on a contended flock. The kernel drops the lock when the process dies.
 */
export function acquireFileLock(path: string): Promise<HeldLock> {
  return new Promise<HeldLock>((resolveLock, rejectLock) => {
    void inTurn(path, async () => {
      const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
      try {
        if (!flock(fd, LOCK_EX | LOCK_NB)) await flockExclusiveAsync(fd);
      } catch (err) {
        closeSync(fd);
        throw err;
      }
      // The turn lasts until the holder releases: the next in-process caller starts only then.
      await new Promise<void>((released) => resolveLock(heldLock(path, fd, released)));
    }).catch(rejectLock);
  });
}

/** Takes the lock only if free now; undefined when someone holds it. */
export function tryFileLock(path: string): HeldLock | undefined {
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  if (!flock(fd, LOCK_EX | LOCK_NB)) {
    closeSync(fd);
    return undefined;
  }
  return heldLock(path, fd);
}
