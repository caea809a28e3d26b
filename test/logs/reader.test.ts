// Reading k8s-file logs: records parsed and partial lines joined per stream, the rotated chain read in
// order, --tail reading only the end, --since binary-searching (checked by the bytes read), --until.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import {
  formatTimestampNs,
  LogFormatError,
  PartialLineJoiner,
  parseLogRecord,
  parseTimestampNs,
} from '../../pkg/logs/k8s-file.ts';
import { readLogs } from '../../pkg/logs/reader.ts';
import { withTempDir } from '../helpers/tmp.ts';
import {
  collect,
  countingFs,
  numberedRecords,
  observedFs,
  record,
  T0,
  texts,
  writeRecords,
} from './log-files.ts';

test('a record parses into stream, nanosecond time, tag and text', (t) => {
  const r = parseLogRecord(Buffer.from('2026-12-01T11:50:02.348731106+00:00 stderr P half a li'));
  t.is(r.stream, 'stderr');
  t.true(r.partial);
  t.is(r.text.toString(), 'half a li');
  t.is(r.timeNs, 1_796_125_802_348_731_106n);
  // an offset is the same instant as its UTC time, to the nanosecond
  t.is(parseTimestampNs('2026-12-01T12:50:02.348731107+01:00'), r.timeNs + 1n);
  t.is(parseTimestampNs('2026-12-01T11:50:02Z'), 1_796_125_802_000_000_000n);
  t.is(formatTimestampNs(r.timeNs), '2026-12-01T11:50:02.348731106Z');
  // an empty line: conmon writes "F " then the newline
  const empty = parseLogRecord(Buffer.from('2026-12-01T11:50:02.348731106+00:00 stdout F '));
  t.is(empty.text.length, 0);
  t.false(empty.partial);
  for (const bad of [
    'garbage',
    '2026-12-01T11:50:02Z stdin F x',
    '2026-12-01T11:50:02Z stdout X x',
    'yesterday stdout F x',
  ])
    t.throws(() => parseLogRecord(Buffer.from(bad)), { instanceOf: LogFormatError });
});

test('partial records join per stream even when the streams interleave', (t) => {
  const joiner = new PartialLineJoiner();
  t.is(joiner.push(record('stdout', T0, 'abc', true)), undefined);
  const err = joiner.push(record('stderr', T0 + 1n, 'oops'));
  t.is(err?.data.toString(), 'oops\n');
  const out = joiner.push(record('stdout', T0 + 2n, 'def'));
  t.deepEqual(out && { stream: out.stream, time: out.timeNs, data: out.data.toString() }, {
    stream: 'stdout',
    time: T0 + 2n,
    data: 'abcdef\n',
  });
  joiner.push(record('stderr', T0 + 3n, 'no newline yet', true));
  t.deepEqual(texts(joiner.flush()), ['no newline yet']);
});

test('the rotated files are read oldest first, partial lines joined across files, streams selectable', async (t) => {
  await withTempDir(async (dir) => {
    const log = join(dir, 'ctr.log');
    writeRecords(`${log}.2`, numberedRecords(3, 0));
    writeRecords(`${log}.1`, [...numberedRecords(3, 3), record('stdout', T0 + 10_000n, 'split ', true)]);
    writeRecords(log, [record('stdout', T0 + 10_001n, 'line'), ...numberedRecords(2, 11)]);
    const all = texts(await collect(readLogs(log)));
    t.deepEqual(all, [
      ...[0, 1, 2, 3, 4, 5].map((i) => `line ${i}\n`),
      'split line\n',
      'line 11\n',
      'line 12\n',
    ]);
    const errs = await collect(readLogs(log, { stdout: false }));
    t.deepEqual(texts(errs), ['line 1\n', 'line 3\n', 'line 5\n', 'line 11\n']);
    t.true(errs.every((e) => e.stream === 'stderr'));
  });
});

test('an unfinished last line is shown as it is; a record being written is not', async (t) => {
  await withTempDir(async (dir) => {
    const log = join(dir, 'ctr.log');
    writeRecords(log, [record('stdout', T0, 'done'), record('stdout', T0 + 1n, 'prompt> ', true)]);
    writeFileSync(log, Buffer.concat([Buffer.from(''), Buffer.from('2026-12-01T11:50:02Z stdout F torn')]), {
      flag: 'a',
    });
    t.deepEqual(texts(await collect(readLogs(log))), ['done\n', 'prompt> ']);
    t.deepEqual(texts(await collect(readLogs(log, { tail: 1 }))), ['prompt> ']);
  });
});

const BIG = 200_000;

test('--tail reads the last entries from the end of a big log, not the whole file', async (t) => {
  await withTempDir(async (dir) => {
    const log = join(dir, 'ctr.log');
    writeRecords(log, numberedRecords(BIG));
    const { fs, bytesRead } = countingFs();
    const last = await collect(readLogs(log, { tail: 5, fs }));
    t.deepEqual(
      texts(last),
      [BIG - 5, BIG - 4, BIG - 3, BIG - 2, BIG - 1].map((i) => `line ${i}\n`),
    );
    t.true(bytesRead() < 300 * 1024, `read ${bytesRead()} bytes of a ${BIG}-line log for --tail 5`);
    t.deepEqual(await collect(readLogs(log, { tail: 0 })), []);
    // only stderr entries count
    t.deepEqual(texts(await collect(readLogs(log, { tail: 2, stdout: false }))), [
      `line ${BIG - 3}\n`,
      `line ${BIG - 1}\n`,
    ]);
  });
});

test('--tail without --follow is the end as of the call: a line written while it reads is not added', async (t) => {
  await withTempDir(async (dir) => {
    const log = join(dir, 'ctr.log');
    writeRecords(log, numberedRecords(10));
    // the container writes one more line as soon as the reader has looked at the file
    let written = false;
    const fs = observedFs(() => {
      if (!written) writeRecords(log, [record('stdout', T0 + 50_000n, 'late')], true);
      written = true;
    });
    t.deepEqual(texts(await collect(readLogs(log, { tail: 1, fs }))), ['line 9\n']);
    t.true(written, 'the late line came while --tail read');
    t.deepEqual(texts(await collect(readLogs(log, { tail: 1 }))), ['late\n']);
  });
});

test('--tail keeps a long line whole when its chunks interleave with the other stream', async (t) => {
  await withTempDir(async (dir) => {
    const log = join(dir, 'ctr.log');
    writeRecords(log, [
      ...numberedRecords(3),
      record('stdout', T0 + 10_000n, 'long ', true),
      record('stderr', T0 + 10_001n, 'between'),
      record('stdout', T0 + 10_002n, 'line ', true),
      record('stdout', T0 + 10_003n, 'end'),
    ]);
    t.deepEqual(texts(await collect(readLogs(log, { tail: 1 }))), ['long line end\n']);
    t.deepEqual(texts(await collect(readLogs(log, { tail: 2 }))), ['between\n', 'long line end\n']);
  });
});

test('--since finds its start by binary search, reading little of a big log', async (t) => {
  await withTempDir(async (dir) => {
    const log = join(dir, 'ctr.log');
    writeRecords(log, numberedRecords(BIG));
    const { fs, bytesRead } = countingFs();
    const since = T0 + BigInt(BIG - 3) * 1000n;
    const got = await collect(readLogs(log, { since, fs }));
    t.deepEqual(
      texts(got),
      [BIG - 3, BIG - 2, BIG - 1].map((i) => `line ${i}\n`),
    );
    t.true(bytesRead() < 400 * 1024, `read ${bytesRead()} bytes of a ${BIG}-line log for --since`);
    // between two stamps, and before everything
    const mid = await collect(readLogs(log, { since: T0 + 123_456_500n, until: T0 + 123_460_000n }));
    t.deepEqual(
      texts(mid),
      [123_457, 123_458, 123_459, 123_460].map((i) => `line ${i}\n`),
    );
    t.is((await collect(readLogs(log, { since: T0 - 5n, until: T0 + 1000n }))).length, 2);
    // after everything
    t.deepEqual(await collect(readLogs(log, { since: T0 + BigInt(BIG) * 1000n })), []);
  });
});

test('--since in an older rotated file reads on through the newer ones; a line straddling it stays whole', async (t) => {
  await withTempDir(async (dir) => {
    const log = join(dir, 'ctr.log');
    writeRecords(`${log}.1`, [
      ...numberedRecords(5),
      record('stdout', T0 + 10_000n, 'head ', true),
      record('stderr', T0 + 20_000n, 'err'),
      record('stdout', T0 + 30_000n, 'tail'),
    ]);
    writeRecords(log, numberedRecords(2, 100));
    const got = await collect(readLogs(log, { since: T0 + 15_000n }));
    t.deepEqual(texts(got), ['err\n', 'head tail\n', 'line 100\n', 'line 101\n']);
  });
});

test("--until stops at the first later entry; --tail with --since keeps Docker's meaning", async (t) => {
  await withTempDir(async (dir) => {
    const log = join(dir, 'ctr.log');
    writeRecords(log, numberedRecords(100));
    t.deepEqual(texts(await collect(readLogs(log, { until: T0 + 2000n }))), [
      'line 0\n',
      'line 1\n',
      'line 2\n',
    ]);
    // the last 10, of which those at or after since
    t.deepEqual(texts(await collect(readLogs(log, { tail: 10, since: T0 + 97_000n }))), [
      'line 97\n',
      'line 98\n',
      'line 99\n',
    ]);
    t.is((await collect(readLogs(log, { tail: 10, since: T0 }))).length, 10);
    t.deepEqual(texts(await collect(readLogs(log, { tail: 3, until: T0 + 97_000n }))), ['line 97\n']);
  });
});

test('a log that does not exist yet reads as empty', async (t) => {
  await withTempDir(async (dir) => {
    t.deepEqual(await collect(readLogs(join(dir, 'ctr.log'))), []);
    t.deepEqual(await collect(readLogs(join(dir, 'nodir', 'ctr.log'), { tail: 3 })), []);
  });
});
