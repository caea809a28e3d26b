// `logs` for one container: the entries of its k8s-file log chain (rotated files first) as Docker's
// `docker logs` selects them: --tail N reads backwards from the end, --since binary-searches the
// time-ordered records, --until stops, and --follow keeps reading as conmon appends and across rotations
// (the renamed file is read to its end, then the next one from its start: no line lost, none twice) until
// the container stops. Entries are joined lines (P records with their F), per stream.
import { watch } from 'node:fs';
import { dirname } from 'node:path';
import {
  ForwardCursor,
  isNotFound,
  type LogFileSystem,
  lastRecordBoundary,
  nodeLogFileSystem,
  type OpenLog,
  openLogChain,
  type RawRecord,
  recordAtOrAfter,
  recordsBackward,
  sameFile,
} from './files.ts';
import {
  type LogEntry,
  type LogRecord,
  type LogStream,
  PartialLineJoiner,
  parseLogRecord,
} from './k8s-file.ts';

export interface ReadLogsOptions {
  /** Unix ns: entries stamped before are left out */
  readonly since?: bigint;
  /** Unix ns: reading ends at the first entry stamped after (and following ends once it has passed) */
  readonly until?: bigint;
  /** the last N entries (of the selected streams); undefined or negative: all */
  readonly tail?: number;
  readonly follow?: boolean;
  readonly stdout?: boolean;
  readonly stderr?: boolean;
  /** ends the reading at once (the client went away) */
  readonly signal?: AbortSignal;
  /** follow: resolves when the writer is gone (the container's run ended): read to the end, then finish */
  readonly stopped?: Promise<unknown>;
  /** follow: how often to look for growth when no file event came (fs.watch can miss some) */
  readonly pollIntervalMs?: number;
  readonly fs?: LogFileSystem;
}

/** The line a P record run of one entry may not exceed backwards before its F is taken to stand alone. */
const HEAD_SEARCH_BYTES = 64 * 1024;
/** Where the binary search for --since stops halving and reads on. */
const LINEAR_SCAN_BYTES = 64 * 1024;

export async function* readLogs(logPath: string, options: ReadLogsOptions = {}): AsyncGenerator<LogEntry> {
  const fs = options.fs ?? nodeLogFileSystem;
  const selected = { stdout: options.stdout ?? true, stderr: options.stderr ?? true };
  const wanted = (record: LogRecord) => selected[record.stream];
  const { since, until, signal } = options;
  const follow = options.follow === true;
  const joiner = new PartialLineJoiner();
  const open = new Set<OpenLog>();
  let stopped = false;
  const changes = follow
    ? new ChangeWaiter(dirname(logPath), options.pollIntervalMs ?? 250, signal)
    : undefined;
  options.stopped?.then(
    () => {
      stopped = true;
      changes?.wake();
    },
    () => {
      stopped = true;
      changes?.wake();
    },
  );

  /** The entry a record completes, when it passes the filters; 'until' once past --until. */
  const accept = (record: LogRecord): LogEntry | 'until' | undefined => {
    if (!wanted(record)) return undefined;
    const entry = joiner.push(record);
    if (!entry) return undefined;
    if (until !== undefined && entry.timeNs > until) return 'until';
    if (since !== undefined && entry.timeNs < since) return undefined;
    return entry;
  };

  try {
    const chain = await openLogChain(fs, logPath);
    for (const log of chain) open.add(log);
    const start = await startingPoint(chain, options, wanted);
    let current = start.cursor;
    const queue = chain.slice(start.nextIndex);
    for (const log of chain) if (log !== current?.log && !queue.includes(log)) await release(open, log);

    for (const record of start.records) {
      const out = accept(record);
      if (out === 'until') return;
      if (out) yield out;
    }

    const drain = async function* (): AsyncGenerator<LogEntry | 'until'> {
      if (!current) return;
      for await (const raw of current.records()) {
        if (signal?.aborted) return;
        const record = parseOrSkip(raw);
        const out = record && accept(record);
        if (out) yield out;
      }
    };

    for (;;) {
      const lastPass = !follow || stopped || (until !== undefined && nowNs() > until);
      for (;;) {
        for await (const out of drain()) {
          if (out === 'until') return;
          yield out;
        }
        if (signal?.aborted) return;
        const next = await nextFile(fs, logPath, current, queue, follow, open);
        if (next === 'stay') break;
        // nothing is appended to a file once its successor exists: what came since the last read is its end
        for await (const out of drain()) {
          if (out === 'until') return;
          yield out;
        }
        if (current && current.log !== next.log) await release(open, current.log);
        current = next;
      }
      if (lastPass) break;
      await changes?.wait();
      if (signal?.aborted) return;
    }
    for (const entry of joiner.flush()) {
      if (until !== undefined && entry.timeNs > until) break;
      if (since === undefined || entry.timeNs >= since) yield entry;
    }
  } finally {
    changes?.close();
    for (const log of open) await log.file.close().catch(() => undefined);
  }
}

async function release(open: Set<OpenLog>, log: OpenLog): Promise<void> {
  if (open.delete(log)) await log.file.close();
}

function parseOrSkip(raw: RawRecord): LogRecord | undefined {
  try {
    return parseLogRecord(raw.line);
  } catch {
    return undefined; // not conmon's (a foreign or torn line): nothing to show
  }
}

function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

interface StartingPoint {
  /** records to feed before reading forwards (the tail, or the heads of lines that straddle --since) */
  readonly records: LogRecord[];
  readonly cursor: ForwardCursor | undefined;
  /** the chain's files after the cursor's, read next */
  readonly nextIndex: number;
}

/** Where forward reading begins, and the records that come before it. */
async function startingPoint(
  chain: OpenLog[],
  options: ReadLogsOptions,
  wanted: (record: LogRecord) => boolean,
): Promise<StartingPoint> {
  const streams: LogStream[] = [];
  if (options.stdout ?? true) streams.push('stdout');
  if (options.stderr ?? true) streams.push('stderr');
  const newest = chain.at(-1);
  if (!newest) return { records: [], cursor: undefined, nextIndex: 0 };
  const tail = options.tail;
  if (tail !== undefined && tail >= 0) {
    const end = await lastRecordBoundary(newest.file, (await newest.file.stat()).size);
    const collector = new BackwardCollector(tail, options.since, wanted, []);
    for (let i = chain.length - 1; i >= 0 && !collector.satisfied(); i--) {
      const log = chain[i] as OpenLog;
      const fileEnd = log === newest ? end : await lastRecordBoundary(log.file, (await log.file.stat()).size);
      for await (const raw of recordsBackward(log.file, fileEnd)) {
        const record = parseOrSkip(raw);
        if (record) collector.take(record, raw.line.length + 1);
        if (collector.satisfied()) break;
      }
    }
    // without --follow the tail is the last N entries as of `end`: reading on would add what came since
    const cursor = options.follow === true ? new ForwardCursor(newest, end) : undefined;
    return { records: collector.inOrder(), cursor, nextIndex: chain.length };
  }
  const since = options.since;
  if (since !== undefined) {
    for (let i = 0; i < chain.length; i++) {
      const log = chain[i] as OpenLog;
      const end = await lastRecordBoundary(log.file, (await log.file.stat()).size);
      const last = await lastTime(log, end);
      if (last === undefined || last < since) continue;
      const offset = await firstRecordFrom(log, end, since);
      const heads = new BackwardCollector(0, since, wanted, streams);
      for await (const raw of recordsBackward(log.file, offset)) {
        const record = parseOrSkip(raw);
        if (record) heads.take(record, raw.line.length + 1);
        if (heads.satisfied()) break;
      }
      return { records: heads.inOrder(), cursor: new ForwardCursor(log, offset), nextIndex: i + 1 };
    }
    const end = await lastRecordBoundary(newest.file, (await newest.file.stat()).size);
    return { records: [], cursor: new ForwardCursor(newest, end), nextIndex: chain.length };
  }
  return { records: [], cursor: new ForwardCursor(chain[0] as OpenLog, 0), nextIndex: 1 };
}

async function lastTime(log: OpenLog, end: number): Promise<bigint | undefined> {
  for await (const raw of recordsBackward(log.file, end)) {
    const record = parseOrSkip(raw);
    if (record) return record.timeNs;
  }
  return undefined;
}

/**
 * The offset of the first record stamped at or after `since` (records are in time order): halve the range
 * by probing the record that starts after a byte offset, then read the last stretch.
 */
async function firstRecordFrom(log: OpenLog, end: number, since: bigint): Promise<number> {
  let lo = 0;
  let hi = end;
  while (hi - lo > LINEAR_SCAN_BYTES) {
    const mid = lo + Math.floor((hi - lo) / 2);
    let probe = await recordAtOrAfter(log.file, mid, end);
    let record = probe && parseOrSkip(probe);
    while (probe && !record) {
      probe = await recordAtOrAfter(log.file, probe.next, end);
      record = probe && parseOrSkip(probe);
    }
    if (!probe || !record || record.timeNs >= since) hi = mid;
    else lo = probe.next;
  }
  const first = await recordAtOrAfter(log.file, lo, end);
  if (!first) return end;
  const scan = new ForwardCursor(log, first.start);
  for await (const raw of scan.records()) {
    if (raw.start >= end) return end;
    const record = parseOrSkip(raw);
    if (record && record.timeNs >= since) return raw.start;
  }
  return end;
}

type StreamState =
  /** its last taken record is a P: the entry's earlier chunks must be found */
  | { readonly mode: 'open' }
  /** its last taken record ends an entry that may have P chunks before it */
  | { readonly mode: 'tentative'; readonly at: number }
  /** nothing more of this stream is wanted */
  | { readonly mode: 'done' };

/**
 * Takes records going backwards and keeps those of the last `limit` entries (and of no entry stamped
 * before `since`), whole: an entry's P chunks are found even when the other stream's records interleave.
 */
class BackwardCollector {
  private readonly states = new Map<LogStream, StreamState>();
  private readonly taken: LogRecord[] = [];
  private count = 0;
  private exhausted = false;
  private scanned = 0;

  constructor(
    private readonly limit: number,
    private readonly since: bigint | undefined,
    private readonly wanted: (record: LogRecord) => boolean,
    /** streams whose entry at the start of the walk may have earlier chunks (the --since boundary) */
    pendingHeads: LogStream[],
  ) {
    for (const stream of pendingHeads) this.states.set(stream, { mode: 'tentative', at: 0 });
    if (limit <= 0) this.exhausted = true;
  }

  take(record: LogRecord, bytes: number): void {
    this.scanned += bytes;
    if (!this.wanted(record)) return;
    const state = this.states.get(record.stream);
    if (state?.mode === 'done') return;
    if (state && record.partial) {
      this.taken.push(record);
      this.states.set(record.stream, { mode: 'open' });
      return;
    }
    // the record ends an earlier entry of its stream (or is the newest, unfinished one)
    if (this.since !== undefined && record.timeNs < this.since) this.exhausted = true;
    if (this.exhausted || this.count >= this.limit) {
      this.exhausted = true;
      this.states.set(record.stream, { mode: 'done' });
      return;
    }
    this.count++;
    this.taken.push(record);
    this.states.set(
      record.stream,
      record.partial ? { mode: 'open' } : { mode: 'tentative', at: this.scanned },
    );
  }

  satisfied(): boolean {
    if (!this.exhausted) return false;
    for (const state of this.states.values()) {
      if (state.mode === 'open') return false;
      if (state.mode === 'tentative' && this.scanned - state.at <= HEAD_SEARCH_BYTES) return false;
    }
    return true;
  }

  inOrder(): LogRecord[] {
    return [...this.taken].reverse();
  }
}

/**
 * The file to read after the current one, 'stay' while the current one is still the one written. The
 * writer (conmon) moves on by renaming a new file over the log path after closing the old one: once the
 * path names another file, the current one is complete.
 */
async function nextFile(
  fs: LogFileSystem,
  logPath: string,
  current: ForwardCursor | undefined,
  queue: OpenLog[],
  follow: boolean,
  open: Set<OpenLog>,
): Promise<ForwardCursor | 'stay'> {
  const queued = queue.shift();
  if (queued) return new ForwardCursor(queued, 0);
  if (!follow) return 'stay';
  if (current) {
    let st: Awaited<ReturnType<LogFileSystem['stat']>>;
    try {
      st = await fs.stat(logPath);
    } catch (err) {
      if (isNotFound(err)) return 'stay'; // renamed away, the writer has not reopened yet
      throw err;
    }
    if (sameFile(st, current.log)) {
      if (!(await current.wasTruncated())) return 'stay';
      current.restartFromTop(); // truncated in place by someone else: what is there now is new
      return current;
    }
  }
  // the files that came after the current one, in order (several when rotations outran the reader)
  const chain = await openLogChain(fs, logPath);
  const at = current ? chain.findIndex((log) => sameFile(log, current.log)) : -1;
  // not in the chain any more: dropped by max-file, so every file there is newer
  const newer = chain.slice(at + 1);
  for (const log of chain) if (!newer.includes(log)) await log.file.close();
  const [next, ...later] = newer;
  if (!next) return 'stay';
  for (const log of newer) open.add(log);
  queue.push(...later);
  return new ForwardCursor(next, 0);
}

/** Wakes a follower when the log's directory changes, or after a poll interval at the latest. */
class ChangeWaiter {
  private watcher: ReturnType<typeof watch> | undefined;
  private changed = false;
  private waiting: (() => void) | undefined;

  constructor(
    dir: string,
    private readonly pollMs: number,
    signal: AbortSignal | undefined,
  ) {
    try {
      this.watcher = watch(dir, { persistent: false }, () => this.wake());
      this.watcher.on('error', () => this.closeWatcher());
    } catch {
      this.watcher = undefined; // no inotify here (or no dir yet): polling alone
    }
    signal?.addEventListener('abort', () => this.wake(), { once: true });
  }

  wake(): void {
    this.changed = true;
    this.waiting?.();
  }

  async wait(): Promise<void> {
    if (this.changed) {
      this.changed = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.pollMs);
      this.waiting = done;
    });
    this.changed = false;
  }

  close(): void {
    this.closeWatcher();
    this.waiting?.();
  }

  private closeWatcher(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
