// Docker's json-file rotation (--log-opt max-size=10m,max-file=3) for conmon's k8s-file log, without
// losing a line: ctr.log is renamed to ctr.log.1 (the older ones shift up, the oldest is dropped) while
// conmon keeps writing through its open descriptor into the renamed file, then conmon is asked to reopen,
// which creates a fresh ctr.log. conmon's own --log-size-max truncates instead (lines lost), and so would
// copytruncate; a reader that follows sees the renamed file to its end, then the new one.
import { constants } from 'node:fs';
import { link, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseByteSize } from '../cgroups/devices.ts';
import { isNotFound, rotatedIndexOf } from './files.ts';

export interface LogRotationPolicy {
  /** bytes ctr.log may reach before it is rotated */
  readonly maxSize: number;
  /** files kept, ctr.log included (Docker's max-file, at least 1) */
  readonly maxFile: number;
}

export class LogOptionError extends Error {
  override readonly name = 'LogOptionError';
}

/** The json-file options Docker accepts; only max-size and max-file change what happens here. */
const JSON_FILE_OPTIONS = new Set([
  'max-size',
  'max-file',
  'compress',
  'labels',
  'labels-regex',
  'env',
  'env-regex',
  'tag',
]);

/**
 * HostConfig.LogConfig → the rotation, undefined without max-size (Docker's default: json-file grows
 * without bound). Throws LogOptionError for an unknown option, a bad size or a bad count.
 */
export function parseLogRotation(config?: {
  readonly Type?: string;
  readonly Config?: Readonly<Record<string, string>>;
}): LogRotationPolicy | undefined {
  const driver = config?.Type || 'json-file';
  const options = config?.Config ?? {};
  for (const key of Object.keys(options))
    if (!JSON_FILE_OPTIONS.has(key))
      throw new LogOptionError(`unknown log opt '${key}' for ${driver} log driver`);
  let maxFile = 1;
  const maxFileText = options['max-file'];
  if (maxFileText !== undefined) {
    if (!/^\d+$/.test(maxFileText.trim()))
      throw new LogOptionError(`invalid max-file ${JSON.stringify(maxFileText)}: expected a whole number`);
    maxFile = Number(maxFileText.trim());
    if (maxFile < 1) throw new LogOptionError('max-file cannot be less than 1');
  }
  const maxSizeText = options['max-size'];
  if (maxSizeText === undefined) return undefined;
  let maxSize: number;
  try {
    maxSize = parseByteSize(maxSizeText);
  } catch (err) {
    throw new LogOptionError(`invalid max-size ${JSON.stringify(maxSizeText)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (maxSize <= 0) throw new LogOptionError('max-size must be a positive number');
  return { maxSize, maxFile };
}

/**
 * Asks conmon to reopen its log: a line on its control fifo (the `ctl` fifo in the bundle directory).
 * conmon 2.1.6 reads "TYPE HEIGHT WIDTH\n" and ignores a message without the three numbers, so a bare
 * "2\n" does nothing: "2 0 0\n" reopens (measured; podman writes the same).
 */
export function conmonLogReopener(ctlPath: string): () => Promise<void> {
  return async () => {
    // O_NONBLOCK: with conmon gone there is no reader and this fails (ENXIO) instead of blocking forever
    const fifo = await open(ctlPath, constants.O_WRONLY | constants.O_NONBLOCK).catch(
      async (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENXIO')
          throw new LogRotationError(`conmon's control fifo ${ctlPath} is not open: ${err.code}`, {
            cause: err,
          });
        throw err;
      },
    );
    try {
      await fifo.write('2 0 0\n');
    } finally {
      await fifo.close();
    }
  };
}

export class LogRotationError extends Error {
  override readonly name = 'LogRotationError';
}

export interface LogRotatorOptions {
  /** makes the writer reopen the log path (conmonLogReopener); resolves once the request is sent */
  readonly reopen: () => Promise<void>;
  /** how often the size is checked */
  readonly checkIntervalMs?: number;
  /** how long to wait for the writer to create the new file */
  readonly reopenTimeoutMs?: number;
  readonly onError?: (err: Error) => void;
}

/** Rotates one container's log while its monitor runs (start when it starts, stop when it ends). */
export class LogRotator {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly logPath: string,
    private readonly policy: LogRotationPolicy,
    private readonly options: LogRotatorOptions,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running = this.running
        .then(() => this.rotateIfNeeded())
        .catch((err: Error) => this.options.onError?.(err));
    }, this.options.checkIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Stops checking; resolves when a rotation in progress is done. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Rotates when ctr.log has reached max-size; true when it did. */
  async rotateIfNeeded(): Promise<boolean> {
    let size: number;
    try {
      size = (await stat(this.logPath)).size;
    } catch (err) {
      if (isNotFound(err)) return false; // between a rename and the writer's reopen, or never started
      throw err;
    }
    if (size < this.policy.maxSize) return false;
    await this.rotate();
    return true;
  }

  /** Shifts the files, then has the writer reopen (which makes a new ctr.log). */
  async rotate(): Promise<void> {
    const { logPath } = this;
    const keep = this.policy.maxFile;
    // with max-file=1 the renamed file only lives until the writer has moved on
    const last = Math.max(keep - 1, 1);
    for (const i of await rotatedIndexes(logPath)) {
      if (i >= last) await unlinkIfExists(`${logPath}.${i}`);
      else await renameIfExists(`${logPath}.${i}`, `${logPath}.${i + 1}`);
    }
    await rename(logPath, `${logPath}.1`).catch((err: NodeJS.ErrnoException) => {
      throw new LogRotationError(`cannot rotate ${logPath}: ${err.message}`, { cause: err });
    });
    let reopened = false;
    try {
      await this.options.reopen();
      reopened = await waitForFile(logPath, this.options.reopenTimeoutMs ?? 5000);
    } finally {
      // the writer gone (its fifo has no reader) or silent: what it wrote last goes back to the log path
      if (!reopened) await restoreCurrent(logPath);
    }
    if (!reopened) throw new LogRotationError(`the log writer did not reopen ${logPath}`);
    if (keep === 1) await unlinkIfExists(`${logPath}.1`);
  }
}

/**
 * Undoes a rotation the writer did not follow: ctr.log.1 is linked back as ctr.log (never over a ctr.log
 * the writer made meanwhile: link fails then, and the rotation stands), and the older files shift back
 * down, so the chain reads as before with only the file max-file dropped gone. A follower that holds the
 * file open sees the same file at the log path and stays on it.
 */
async function restoreCurrent(logPath: string): Promise<void> {
  try {
    await link(`${logPath}.1`, logPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' || isNotFound(err)) return;
    throw err;
  }
  await unlinkIfExists(`${logPath}.1`);
  for (const i of (await rotatedIndexes(logPath)).reverse())
    if (i >= 2) await renameIfExists(`${logPath}.${i}`, `${logPath}.${i - 1}`);
}

/** The N of the existing ctr.log.N, highest first (the order the shift must take). */
async function rotatedIndexes(logPath: string): Promise<number[]> {
  const indexes: number[] = [];
  for (const name of await readdir(dirname(logPath))) {
    const index = rotatedIndexOf(logPath, name);
    if (index !== undefined) indexes.push(index);
  }
  return indexes.sort((a, b) => b - a);
}

async function waitForFile(path: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    try {
      await stat(path);
      return true;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

async function unlinkIfExists(path: string): Promise<void> {
  await unlink(path).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
}

async function renameIfExists(from: string, to: string): Promise<void> {
  await rename(from, to).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
}
