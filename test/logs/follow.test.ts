// logs -f across rotations: a writer that behaves like conmon (appends records through an open
// descriptor; on a reopen request it closes it and renames a fresh file over the log path) writes at speed
// while the LogRotator rotates every few KiB: the follower sees every line exactly once, in order, and the
// files hold every line. Plus the rotator's file shifting, max-file=1, and Docker's --log-opt parsing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { type FileHandle, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import test from 'ava';
import { formatLogRecord } from '../../pkg/logs/k8s-file.ts';
import { readLogs } from '../../pkg/logs/reader.ts';
import { LogOptionError, LogRotator, parseLogRotation } from '../../pkg/logs/rotate.ts';
import { withTempDir } from '../helpers/tmp.ts';
import { collect, numberedRecords, record, T0, texts, writeRecords } from './log-files.ts';

/**
 * conmon's way of writing its log, in process: records through one descriptor; a reopen request is
 * handled between two writes, as conmon handles its control fifo between two reads of the pipes.
 */
class ConmonLikeWriter {
  private handle: FileHandle | undefined;
  private queue: Promise<void> = Promise.resolve();
  reopens = 0;

  constructor(private readonly logPath: string) {}

  async open(): Promise<void> {
    this.handle = await open(this.logPath, 'a');
  }

  write(data: Buffer): Promise<void> {
    this.queue = this.queue.then(async () => {
      await this.handle?.write(data);
    });
    return this.queue;
  }

  /** what conmon does on "2 0 0\n": close, open `ctr.log.tmp` truncated, rename it over ctr.log */
  reopen(): Promise<void> {
    this.queue = this.queue.then(async () => {
      await this.handle?.close();
      this.handle = await open(`${this.logPath}.tmp`, 'w');
      await rename(`${this.logPath}.tmp`, this.logPath);
      this.reopens++;
    });
    return this.queue;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.handle?.close();
  }
}

const LINES = 6000;

/** Line i, on stdout for even i and stderr for odd; every 7th line written as two chunks (P then F). */
async function writeNumberedLines(writer: ConmonLikeWriter): Promise<void> {
  for (let i = 0; i < LINES; i++) {
    // give the rotator's timer a chance between bursts (conmon too writes what each pipe read brings)
    if (i % 100 === 0) await delay(1);
    const stream = i % 2 ? 'stderr' : 'stdout';
    const time = T0 + BigInt(i) * 1000n;
    if (i % 7 === 0) {
      await writer.write(formatLogRecord(record(stream, time, `line ${i} `, true)));
      await writer.write(formatLogRecord(record(stream, time + 1n, `in two parts`)));
    } else {
      await writer.write(formatLogRecord(record(stream, time, `line ${i}`)));
    }
  }
}

function expectedLine(i: number): string {
  return i % 7 === 0 ? `line ${i} in two parts\n` : `line ${i}\n`;
}

test('logs -f follows across rotations at speed: every line once, in order, none lost in the files', async (t) => {
  await withTempDir(async (dir) => {
    const log = join(dir, 'ctr.log');
    const writer = new ConmonLikeWriter(log);
    await writer.open();
    const rotator = new LogRotator(
      log,
      { maxSize: 8192, maxFile: 10_000 },
      { reopen: () => writer.reopen(), checkIntervalMs: 2 },
    );
    let finish: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const following = collect(readLogs(log, { follow: true, stopped, pollIntervalMs: 5 }));
    rotator.start();
    await writeNumberedLines(writer);
    await rotator.stop();
    await writer.close();
    finish();
    const seen = texts(await following);
    const expected = Array.from({ length: LINES }, (_, i) => expectedLine(i));
    t.log(`${writer.reopens} rotations`);
    t.true(writer.reopens >= 5, `only ${writer.reopens} rotations happened`);
    t.is(seen.length, LINES);
    t.deepEqual(seen, expected);
    // the files themselves, read afterwards, hold every line once
    t.deepEqual(texts(await collect(readLogs(log))), expected);
    const files = readdirSync(dir).filter((n) => n.startsWith('ctr.log'));
    t.false(files.includes('ctr.log.tmp'));
    t.true(files.length > 5);
  });
});

test('logs -f reads what was written before the container stopped, then ends; an abort ends it at once', async (t) => {
  await withTempDir(async (dir) => {
    const log = join(dir, 'ctr.log');
    writeRecords(log, numberedRecords(3));
    let finish: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const seen: string[] = [];
    const done = (async () => {
      for await (const entry of readLogs(log, { follow: true, stopped, tail: 1, pollIntervalMs: 10 })) {
        seen.push(entry.data.toString());
        if (seen.length === 1) {
          writeRecords(
            log,
            [record('stdout', T0 + 10_000n, 'more'), record('stderr', T0 + 10_001n, 'unfinished', true)],
            true,
          );
          finish();
        }
      }
    })();
    await done;
    t.deepEqual(seen, ['line 2\n', 'more\n', 'unfinished']);

    const controller = new AbortController();
    const never = new Promise<void>(() => undefined);
    const aborted: string[] = [];
    for await (const entry of readLogs(log, { follow: true, stopped: never, signal: controller.signal })) {
      aborted.push(entry.data.toString());
      if (aborted.length === 2) controller.abort();
    }
    t.deepEqual(aborted, ['line 0\n', 'line 1\n']);
  });
});

test('rotation shifts the files and drops the oldest at max-file; max-file=1 keeps only the current file', async (t) => {
  await withTempDir(async (dir) => {
    const log = join(dir, 'ctr.log');
    const writer = new ConmonLikeWriter(log);
    await writer.open();
    const rotator = new LogRotator(log, { maxSize: 100, maxFile: 3 }, { reopen: () => writer.reopen() });
    for (const n of [0, 1, 2, 3]) {
      await writer.write(
        formatLogRecord(record('stdout', T0 + BigInt(n), `generation ${n} ${'x'.repeat(100)}`)),
      );
      t.true(await rotator.rotateIfNeeded());
    }
    t.false(await rotator.rotateIfNeeded()); // the fresh file is empty
    const generation = (name: string) => /generation (\d)/.exec(readFileSync(join(dir, name), 'utf8'))?.[1];
    t.is(generation('ctr.log.1'), '3');
    t.is(generation('ctr.log.2'), '2');
    t.false(existsSync(`${log}.3`));
    t.is(readFileSync(log, 'utf8'), '');
    await writer.close();

    const single = join(dir, 'single.log');
    const one = new ConmonLikeWriter(single);
    await one.open();
    const rotateOne = new LogRotator(single, { maxSize: 10, maxFile: 1 }, { reopen: () => one.reopen() });
    await one.write(formatLogRecord(record('stdout', T0, 'old')));
    t.true(await rotateOne.rotateIfNeeded());
    await one.write(formatLogRecord(record('stdout', T0 + 1n, 'new')));
    t.false(existsSync(`${single}.1`));
    t.deepEqual(texts(await collect(readLogs(single))), ['new\n']);
    await one.close();
  });
});

test('a rotation the writer cannot follow (its fifo closed, or no reopen in time) is undone: no line is out of the chain', async (t) => {
  await withTempDir(async (dir) => {
    const log = join(dir, 'ctr.log');
    const writer = new ConmonLikeWriter(log);
    await writer.open();
    let writerGone = false;
    const rotator = new LogRotator(
      log,
      { maxSize: 100, maxFile: 3 },
      {
        reopen: async () => {
          if (writerGone) throw new Error("conmon's control fifo is not open: ENXIO");
          await writer.reopen();
        },
      },
    );
    for (const n of [0, 1]) {
      await writer.write(
        formatLogRecord(record('stdout', T0 + BigInt(n), `generation ${n} ${'x'.repeat(100)}`)),
      );
      t.true(await rotator.rotateIfNeeded());
    }
    await writer.write(formatLogRecord(record('stdout', T0 + 2n, `generation 2 ${'x'.repeat(100)}`)));
    await writer.close();
    writerGone = true;
    const following = collect(readLogs(log, { follow: true, stopped: delay(300), pollIntervalMs: 10 }));
    await t.throwsAsync(rotator.rotateIfNeeded(), { message: /ENXIO/ });
    const generation = (name: string) => /generation (\d)/.exec(readFileSync(join(dir, name), 'utf8'))?.[1];
    t.is(generation('ctr.log'), '2', 'the last file is back at the log path');
    t.is(generation('ctr.log.1'), '1');
    t.false(existsSync(`${log}.2`), 'generation 0, dropped by max-file, stays dropped; no gap');
    const expected = ['generation 1', 'generation 2'];
    t.deepEqual(
      texts(await collect(readLogs(log))).map((x) => x.slice(0, 12)),
      expected,
    );
    t.deepEqual(
      texts(await following).map((x) => x.slice(0, 12)),
      expected,
      'a follower reads each line once',
    );

    // a writer that takes the request but never reopens: undone after the wait, and said
    const silent = new LogRotator(
      log,
      { maxSize: 100, maxFile: 3 },
      { reopen: async () => undefined, reopenTimeoutMs: 50 },
    );
    await t.throwsAsync(silent.rotateIfNeeded(), { message: /did not reopen/ });
    t.is(generation('ctr.log'), '2');
    t.is(generation('ctr.log.1'), '1');
  });
});

test("--log-opt max-size/max-file parse as Docker's json-file options", (t) => {
  t.is(parseLogRotation(undefined), undefined);
  t.is(parseLogRotation({ Type: 'json-file', Config: {} }), undefined);
  t.is(parseLogRotation({ Config: { 'max-file': '3' } }), undefined); // no max-size: no rotation
  t.deepEqual(parseLogRotation({ Config: { 'max-size': '10m', 'max-file': '3' } }), {
    maxSize: 10 * 1024 * 1024,
    maxFile: 3,
  });
  t.deepEqual(parseLogRotation({ Config: { 'max-size': '512k' } }), { maxSize: 512 * 1024, maxFile: 1 });
  t.throws(() => parseLogRotation({ Config: { 'max-size': '12x' } }), {
    instanceOf: LogOptionError,
    message: /max-size/,
  });
  t.throws(() => parseLogRotation({ Config: { 'max-size': '0' } }), {
    message: 'max-size must be a positive number',
  });
  t.throws(() => parseLogRotation({ Config: { 'max-size': '1m', 'max-file': '0' } }), {
    message: 'max-file cannot be less than 1',
  });
  t.throws(() => parseLogRotation({ Config: { 'max-size': '1m', 'max-file': 'three' } }), {
    message: /max-file/,
  });
  t.throws(() => parseLogRotation({ Config: { 'max-sise': '1m' } }), {
    message: "unknown log opt 'max-sise' for json-file log driver",
  });
});
