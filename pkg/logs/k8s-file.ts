// conmon's k8s-file log format: one record per line, `TIMESTAMP STREAM TAG TEXT`, where TIMESTAMP is
// RFC 3339 with nanoseconds and conmon's local offset (`2026-12-01T11:50:02.348731106+00:00`), STREAM is
// stdout or stderr, and TAG is F (the text ends a line: its newline is the record's) or P (a partial line:
// conmon read the pipe before a newline came and added one to end the record). A log entry is a run of P
// records of one stream ended by its F record, joined as podman joins them, stamped with the F's time.
// Times stay bigint nanoseconds: a double cannot hold a Unix time in ns (≈1.8e18 > 2^53).

export type LogStream = 'stdout' | 'stderr';

/** One record of the file, its terminating newline excluded. */
export interface LogRecord {
  readonly stream: LogStream;
  readonly timeNs: bigint;
  /** P: a chunk of a longer line; F: the end of a line */
  readonly partial: boolean;
  /** the text, without the record's newline */
  readonly text: Buffer;
}

/** One line the container wrote (or what it wrote of it so far, when it never ended it). */
export interface LogEntry {
  readonly stream: LogStream;
  readonly timeNs: bigint;
  /** the line, its newline included when the container wrote one */
  readonly data: Buffer;
}

export class LogFormatError extends Error {
  override readonly name = 'LogFormatError';
}

const NEWLINE = Buffer.from('\n');
const SPACE = 0x20;
const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** RFC 3339 (nanoseconds, any offset) → Unix time in nanoseconds. */
export function parseTimestampNs(text: string): bigint {
  const m = TIMESTAMP_RE.exec(text);
  if (!m) throw new LogFormatError(`bad log timestamp ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, fraction = '', zone] = m as unknown as string[];
  let offsetSeconds = 0;
  if (zone !== 'Z') {
    const sign = zone?.startsWith('-') ? -1 : 1;
    offsetSeconds = sign * (Number(zone?.slice(1, 3)) * 3600 + Number(zone?.slice(4, 6)) * 60);
  }
  const utcMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const seconds = BigInt(utcMs / 1000 - offsetSeconds);
  return seconds * 1_000_000_000n + BigInt(fraction.padEnd(9, '0'));
}

/** Unix nanoseconds → RFC 3339 in UTC with nine fraction digits (what `logs -t` prints). */
export function formatTimestampNs(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

/** One record, its newline already cut off; throws LogFormatError when it is not a k8s-file record. */
export function parseLogRecord(line: Buffer): LogRecord {
  const first = line.indexOf(SPACE);
  const second = first < 0 ? -1 : line.indexOf(SPACE, first + 1);
  const third = second < 0 ? -1 : line.indexOf(SPACE, second + 1);
  // "F" with nothing after it is an empty line whose separator conmon still writes; tolerate its absence
  const tagEnd = third < 0 ? line.length : third;
  if (first < 0 || second < 0 || tagEnd - second !== 2)
    throw new LogFormatError(`not a k8s-file record: ${JSON.stringify(line.subarray(0, 80).toString())}`);
  const stream = line.toString('latin1', first + 1, second);
  if (stream !== 'stdout' && stream !== 'stderr')
    throw new LogFormatError(`unknown log stream ${JSON.stringify(stream)}`);
  const tag = line[second + 1];
  if (tag !== 0x46 /* F */ && tag !== 0x50 /* P */)
    throw new LogFormatError(`unknown log tag ${JSON.stringify(String.fromCharCode(tag ?? 0))}`);
  return {
    stream,
    timeNs: parseTimestampNs(line.toString('latin1', 0, first)),
    partial: tag === 0x50,
    text: third < 0 ? Buffer.alloc(0) : line.subarray(third + 1),
  };
}

/** The record as conmon writes it, newline included (for tests and tools that write logs). */
export function formatLogRecord(record: LogRecord, timestamp = formatTimestampNs(record.timeNs)): Buffer {
  const head = Buffer.from(`${timestamp} ${record.stream} ${record.partial ? 'P' : 'F'} `);
  return Buffer.concat([head, record.text, NEWLINE]);
}

/** Joins each stream's P records with the F that ends them; the streams' runs may interleave. */
export class PartialLineJoiner {
  private readonly pending = new Map<LogStream, { chunks: Buffer[]; timeNs: bigint }>();

  /** The entry this record completes, if it is an F. */
  push(record: LogRecord): LogEntry | undefined {
    const run = this.pending.get(record.stream) ?? { chunks: [], timeNs: record.timeNs };
    run.chunks.push(record.text);
    run.timeNs = record.timeNs;
    if (record.partial) {
      this.pending.set(record.stream, run);
      return undefined;
    }
    this.pending.delete(record.stream);
    return { stream: record.stream, timeNs: record.timeNs, data: Buffer.concat([...run.chunks, NEWLINE]) };
  }

  /** Lines the container left unfinished, as they are (no newline), stamped with their last chunk's time. */
  flush(): LogEntry[] {
    const out = [...this.pending].map(([stream, run]) => ({
      stream,
      timeNs: run.timeNs,
      data: Buffer.concat(run.chunks),
    }));
    this.pending.clear();
    return out.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
  }
}
