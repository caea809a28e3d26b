// The start of a created runc container without a runc process. `runc create` leaves the container's init
// waiting, before it executes the user's process, to open exec.fifo (in the container's state directory)
// for writing and write one byte; `runc start` is the reader: it reads that byte, then removes the fifo,
// which is how runc tells created from running afterwards (runc 1.x, libcontainer's exec()). Being that
// reader here spares each start a runc process (~10 ms here). A runtime without the fifo gets `runc start`.
// (libuv opens every file O_CLOEXEC.)
import { closeSync, constants, lstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { processRunning } from './proc-stat.ts';

export const EXEC_FIFO = 'exec.fifo';
const LIVENESS_POLL_MS = 50;

export class ExecFifoError extends Error {
  override name = 'ExecFifoError';
}

/** The fifo of a created container under runc's state root, when it is one (else the container is not created). */
export function execFifoOf(root: string, id: string): string | undefined {
  const path = join(root, id, EXEC_FIFO);
  try {
    return lstatSync(path).isFIFO() ? path : undefined;
  } catch {
    return undefined;
  }
}

/** One byte read from the non-blocking fifo, if one is there. */
function byteWaiting(fd: number): boolean {
  try {
    return readSync(fd, Buffer.alloc(1)) === 1;
  } catch {
    return false; // EAGAIN: nothing written
  }
}

/**
 * Lets the container's init (`initPid`) execute its process: reads its byte from `fifo`, then removes the
 * fifo. Opened read-write and non-blocking, so the open never waits for the writer; an init that died
 * before it wrote is seen by polling it, as runc does.
 */
export function releaseInit(fifo: string, initPid: number, timeoutMs = 30_000): Promise<void> {
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  let pipe: Socket;
  try {
    pipe = new Socket({ fd, readable: true, writable: false });
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const settle = (err?: Error) => {
      clearInterval(poll);
      pipe.destroy();
      if (err) return reject(err);
      try {
        unlinkSync(fifo);
      } catch (e) {
        return reject(new ExecFifoError(`cannot remove ${fifo}: ${(e as Error).message}`));
      }
      resolve();
    };
    const poll = setInterval(() => {
      // an init that wrote, executed and ended already left its byte in the fifo
      if (!processRunning(initPid))
        settle(
          byteWaiting(fd) ? undefined : new ExecFifoError(`container init ${initPid} ended before its start`),
        );
      else if (Date.now() - started > timeoutMs)
        settle(new ExecFifoError(`container init ${initPid} did not open ${fifo} within ${timeoutMs} ms`));
    }, LIVENESS_POLL_MS);
    pipe.once('data', () => settle());
    pipe.once('error', (err) => settle(new ExecFifoError(`reading ${fifo}: ${err.message}`)));
  });
}
