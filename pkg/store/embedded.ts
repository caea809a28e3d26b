// The single-node store, with etcd's semantics (global revision, leases with TTL, history for watches from a
// revision), kept under the data dir in two files: a snapshot of the whole state (`store.json`) and a journal
// of the transactions since (`store.json.journal`, framed and checksummed: see journal.ts). Every operation runs
// under an flock on a side lock file, applies lease expiry, and appends one record to the journal (fsynced)
// when something changed, so a committed operation survives a crash and costs the same whatever the store's
// size. Once the journal outgrows a quarter of the snapshot (and 1 MiB), the state is written as a new
// snapshot (temp, fsync, rename, fsync of the directory) and the journal started afresh. Its first record names
// the snapshot (identity and generation) it continues: a journal left behind by a writer killed between the
// two renames is recognised as stale and ignored, since the new snapshot already holds all of it.
//
// The agent's event loop also serves netlink, lease renewals and HTTP, so nothing here blocks it: file I/O goes
// through fs/promises and waiting for the lock happens on a worker thread. Another process's changes are picked
// up cheaply: this handle keeps the two files open (so their inode numbers cannot be reused) and compares them
// with what the paths now name; when only the journal grew, just the new records are read and replayed.

import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { type FileHandle, mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { flock, flockExclusiveAsync, LOCK_EX, LOCK_NB, LOCK_UN } from '../../native/libc.ts';
import { inTurn } from '../sync/turns.ts';
import { byCodeUnits } from '../text/order.ts';
import {
  applyRecord,
  emptyState,
  type JournalRecord,
  parseSnapshot,
  type State,
  serializeSnapshot,
  toKeyValue,
  Writer,
} from './embedded-state.ts';
import {
  type KeyValue,
  type Lease,
  type ListResult,
  type PutOptions,
  type Store,
  StoreError,
  type StoreWatch,
  type WatchOptions,
} from './index.ts';
import {
  decodeFrames,
  encodeFrame,
  faultPoint,
  isJournalHeader,
  type JournalHeader,
  readAt,
  removeOrphanedTemps,
  replaceFileDurably,
  writeAt,
} from './journal.ts';
import { EventQueue } from './queue.ts';

/**
 * How an operation got the store's state: 'unchanged' (the files are as this handle last read or wrote them,
 * nothing read), 'journal' (only the records other processes appended since were read), 'read' (the whole
 * store read: first use, or replaced or compacted elsewhere), 'created' (no store yet).
 */
export type StateSource = 'unchanged' | 'journal' | 'read' | 'created';

export interface EmbeddedStoreOptions {
  dataDir: string;
  /** Snapshot file name under dataDir; the journal and lock file are named after it. Default `store.json`. */
  fileName?: string;
  /**
   * Whether a missing store (and data dir) is created. Default true. With false, opening a store that does not
   * exist throws StoreError('not-found') naming the path, and creates nothing: for read-only tools.
   */
  create?: boolean;
  /**
   * How often leases are expired and other processes' changes picked up while open. Default 500 ms. A tick does
   * nothing while this handle has no open watch and knows of no lease.
   */
  tickMs?: number;
  /** Events kept for watches from a past revision; older ones are compacted. Default 1000. */
  historyLimit?: number;
  /**
   * The journal is folded into a new snapshot when it is larger than both this and a quarter of the snapshot:
   * rewriting the snapshot costs at most four times the journal bytes written since, and a process opening
   * the store replays at most that quarter. Default 1 MiB.
   */
  compactJournalBytes?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Told, for each operation (ticks included), how it got the state: for tests and metrics. */
  onLoad?: (source: StateSource, op: string) => void;
}

/** A file this handle read, held open so that comparing inode numbers with the path's stays meaningful. */
interface HeldSnapshot {
  file: FileHandle;
  /** Device, inode, size and mtime: an editor rewriting the file in place changes the last two. */
  stamp: string;
  size: number;
}

interface HeldJournal {
  file: FileHandle;
  /** Device and inode. */
  identity: string;
  /** Whether its header names the snapshot's identity and generation; if not, its records are not ours. */
  continuesSnapshot: boolean;
  /** End of the last whole record: where the next one is appended. */
  end: number;
  /** Size when last read: beyond `end` when a torn record (a writer killed mid-append) follows. */
  size: number;
}

/** The state as this handle last read or wrote it, with the files it came from. */
interface Loaded {
  state: State;
  snapshot: HeldSnapshot | undefined;
  journal: HeldJournal | undefined;
}

interface EmbeddedWatch {
  queue: EventQueue;
  prefix: string;
  /** Next revision this watch has to see. */
  next: number;
}

/** The snapshot's file name under the data dir (the journal and lock are named after it). */
export const EMBEDDED_STORE_FILE = 'store.json';

export class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  readonly location: string;
  private readonly journalPath: string;
  private readonly lockPath: string;
  private readonly create: boolean;
  private readonly tickMs: number;
  private readonly historyLimit: number;
  private readonly compactJournalBytes: number;
  private readonly now: () => number;
  private readonly onLoad: ((source: StateSource, op: string) => void) | undefined;
  private readonly watches = new Set<EmbeddedWatch>();
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  /** Held open for the store's life; flock(2) on it serializes with other handles and processes. */
  private lockFile: FileHandle | undefined;
  /** The lock file's identity, for taking turns with other handles on it in this process. */
  private lockKey = '';
  /** Dropped whenever an operation fails after loading: it may have changed the state half-way. */
  private loaded: Loaded | undefined;
  /** Leases in the last state seen: with none (and no watch) the tick has nothing to do. */
  private knownLeases = 0;
  private lastSeen: { id: string; revision: number } | undefined;
  private closed = false;

  private constructor(options: EmbeddedStoreOptions) {
    this.location = join(options.dataDir, options.fileName ?? EMBEDDED_STORE_FILE);
    this.journalPath = `${this.location}.journal`;
    this.lockPath = `${this.location}.lock`;
    this.create = options.create ?? true;
    this.tickMs = options.tickMs ?? 500;
    this.historyLimit = options.historyLimit ?? 1000;
    this.compactJournalBytes = options.compactJournalBytes ?? 1024 * 1024;
    this.now = options.now ?? Date.now;
    this.onLoad = options.onLoad;
  }

  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    const store = new EmbeddedStore(options);
    if (store.create) {
      try {
        await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
      } catch (err) {
        throw new StoreError(
          'invalid',
          'open',
          `cannot create data dir ${options.dataDir}: ${(err as Error).message}`,
        );
      }
    } else if ((await statOrUndefined(store.location, 'open')) === undefined) {
      throw store.notFound('open');
    }
    try {
      store.lockFile = await open(store.lockPath, 'a', 0o600);
      const { dev, ino } = await store.lockFile.stat();
      store.lockKey = `${dev}:${ino}`;
    } catch (err) {
      throw new StoreError(
        'unreachable',
        'open',
        `cannot open ${store.lockPath}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    try {
      await store.transact('open', undefined, () => undefined);
    } catch (err) {
      await store.dropLoaded();
      await store.lockFile.close().catch(() => undefined);
      throw err;
    }
    store.timer = setInterval(() => store.tick(), store.tickMs);
    store.timer.unref();
    return store;
  }

  get(key: string): Promise<KeyValue | undefined> {
    return this.transact('get', key, (s) => {
      const k = s.keys.get(key);
      return k ? toKeyValue(key, k) : undefined;
    });
  }

  list(prefix: string): Promise<ListResult> {
    return this.transact('list', prefix, (s) => {
      const items: KeyValue[] = [];
      for (const [key, k] of s.keys) if (key.startsWith(prefix)) items.push(toKeyValue(key, k));
      items.sort((x, y) => byCodeUnits(x.key, y.key));
      return { items, revision: s.revision };
    });
  }

  put(key: string, value: string, options: PutOptions = {}): Promise<number> {
    return this.transact('put', key, (s, w) => {
      w.put(key, value, options.lease);
      return s.revision;
    });
  }

  createIfAbsent(key: string, value: string, options: PutOptions = {}): Promise<boolean> {
    return this.transact('createIfAbsent', key, (s, w) => {
      if (s.keys.has(key)) return false;
      w.put(key, value, options.lease);
      return true;
    });
  }

  compareAndSwap(
    key: string,
    modRevision: number,
    value: string,
    options: PutOptions = {},
  ): Promise<boolean> {
    return this.transact('compareAndSwap', key, (s, w) => {
      if ((s.keys.get(key)?.modRevision ?? 0) !== modRevision) return false;
      w.put(key, value, options.lease);
      return true;
    });
  }

  compareAndDelete(key: string, modRevision: number): Promise<boolean> {
    return this.transact('compareAndDelete', key, (s, w) => {
      if (s.keys.get(key)?.modRevision !== modRevision) return false;
      w.delete([key]);
      return true;
    });
  }

  delete(key: string): Promise<boolean> {
    return this.transact('delete', key, (s, w) => {
      if (!s.keys.has(key)) return false;
      w.delete([key]);
      return true;
    });
  }

  async grantLease(ttlSeconds: number): Promise<Lease> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
      throw new StoreError(
        'invalid',
        'grantLease',
        `TTL must be a whole number of seconds >= 1, got ${ttlSeconds}`,
      );
    }
    const id = await this.transact('grantLease', undefined, (_s, w) => {
      const leaseId = w.allocateLeaseId();
      w.setLease(leaseId, ttlSeconds, this.now() + ttlSeconds * 1000);
      return leaseId;
    });
    return this.leaseFromId(id, ttlSeconds);
  }

  leaseFromId(id: string, ttlSeconds: number): Lease {
    return {
      id,
      ttl: ttlSeconds,
      keepAliveOnce: () =>
        this.transact('keepAlive', undefined, (s, w) => {
          const lease = s.leases.get(id);
          if (!lease)
            throw new StoreError('lease-not-found', 'keepAlive', `lease ${id} expired or was revoked`);
          w.setLease(id, lease.ttl, this.now() + lease.ttl * 1000);
          return lease.ttl;
        }),
      revoke: () =>
        this.transact('revokeLease', undefined, (s, w) => {
          if (s.leases.has(id)) w.revoke([id]);
        }),
    };
  }

  leaseTimeLeft(id: string): Promise<number | undefined> {
    return this.transact('leaseTimeLeft', undefined, (s) => {
      const lease = s.leases.get(id);
      return lease ? Math.max(0, Math.ceil((lease.expiresAt - this.now()) / 1000)) : undefined;
    });
  }

  watch(prefix: string, options: WatchOptions = {}): StoreWatch {
    const entry: EmbeddedWatch = {
      prefix,
      next: options.fromRevision ?? Number.POSITIVE_INFINITY,
      queue: new EventQueue(() => this.watches.delete(entry)),
    };
    if (this.closed) {
      entry.queue.resync('store closed');
      return entry.queue;
    }
    this.watches.add(entry);
    // Catch up from history (or learn the current revision) at once, in order with other operations.
    this.transact('watch', prefix, () => undefined).catch((err: unknown) =>
      entry.queue.resync(`watch failed: ${(err as Error).message}`),
    );
    return entry.queue;
  }

  compact(revision: number): Promise<void> {
    return this.transact('compact', undefined, (s, w) => {
      if (revision > s.revision) {
        throw new StoreError(
          'invalid',
          'compact',
          `revision ${revision} is in the future (current ${s.revision})`,
        );
      }
      w.compact(revision);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    await this.chain.catch(() => undefined);
    this.closed = true;
    await this.dropLoaded();
    for (const w of [...this.watches]) w.queue.close();
    await this.lockFile?.close().catch(() => undefined);
  }

  /**
   * Expires leases and picks up other processes' changes for the watches; nothing to do without either. A tick
   * still running (slow disk) is not queued behind.
   */
  private tick(): void {
    if (this.ticking || this.closed) return;
    if (this.watches.size === 0 && this.knownLeases === 0) return;
    this.ticking = true;
    this.transact('tick', undefined, () => undefined)
      .catch(() => {
        // a failed tick is retried at the next one; operations report their own errors
      })
      .finally(() => {
        this.ticking = false;
      });
  }

  /**
   * Runs one operation: serialized in this process, under the file lock across processes; expires leases,
   * commits what changed, then feeds watches from the history.
   */
  private transact<T>(op: string, key: string | undefined, fn: (s: State, w: Writer) => T): Promise<T> {
    if (this.closed) {
      return Promise.reject(
        new StoreError('closed', op, 'store is closed', key !== undefined ? { key } : {}),
      );
    }
    const run = this.chain.then(() => this.locked(op, key, fn));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private locked<T>(op: string, key: string | undefined, fn: (s: State, w: Writer) => T): Promise<T> {
    // Handles on one lock file in this process take turns before asking for the flock (see pkg/sync/turns.ts).
    return inTurn(this.lockKey, () => this.underFileLock(op, key, fn));
  }

  private async underFileLock<T>(
    op: string,
    key: string | undefined,
    fn: (s: State, w: Writer) => T,
  ): Promise<T> {
    const fd = await this.lock(op, key);
    let outcome: { ok: true; value: T } | { ok: false; err: unknown };
    try {
      if (op === 'open') await removeOrphanedTemps(this.location).catch(() => undefined);
      const { state, source } = await this.load(op);
      this.onLoad?.(source, op);
      const writer = new Writer(state, this.historyLimit);
      // A new store gets its files before anyone watches it; one from before the journal is converted.
      if (source === 'created' || state.generation === undefined) writer.touch();
      const expired: string[] = [];
      for (const [id, l] of state.leases) if (l.expiresAt <= this.now()) expired.push(id);
      writer.revoke(expired);
      // The operations validate before they change anything, so when one throws, the writer holds only the
      // lease expiry above: committed all the same, which keeps memory and disk alike.
      try {
        outcome = { ok: true, value: fn(state, writer) };
      } catch (err) {
        outcome = { ok: false, err };
      }
      if (writer.dirty) await this.commit(op, writer);
      this.knownLeases = state.leases.size;
      this.deliver(state);
    } catch (err) {
      await this.dropLoaded(); // a failed read or write may have left the state half-changed
      throw err;
    } finally {
      flock(fd, LOCK_UN);
    }
    if (!outcome.ok) throw outcome.err;
    return outcome.value;
  }

  /** Takes the file lock: at once when nobody holds it, else waiting on a worker thread. */
  private async lock(op: string, key: string | undefined): Promise<number> {
    const lockFile = this.lockFile;
    try {
      if (!lockFile) throw new Error('lock file is not open');
      if (!flock(lockFile.fd, LOCK_EX | LOCK_NB)) await flockExclusiveAsync(lockFile.fd);
      return lockFile.fd;
    } catch (err) {
      throw new StoreError('unreachable', op, `cannot lock ${this.lockPath}: ${(err as Error).message}`, {
        ...(key !== undefined ? { key } : {}),
        cause: err,
      });
    }
  }

  private notFound(op: string): StoreError {
    return new StoreError('not-found', op, `no embedded store at ${this.location}`);
  }

  /**
   * The current state: this handle's copy while both files are the ones it holds; plus the journal's new
   * records when only those were added; else everything read again.
   */
  private async load(op: string): Promise<{ state: State; source: StateSource }> {
    const [snapshot, journal] = await Promise.all([
      statOrUndefined(this.location, op),
      statOrUndefined(this.journalPath, op),
    ]);
    const held = this.loaded;
    if (held?.snapshot && snapshot && stampOf(snapshot) === held.snapshot.stamp) {
      const j = held.journal;
      if (j && journal && identityOf(journal) === j.identity) {
        const size = Number(journal.size);
        if (size === j.end && j.size === j.end) return { state: held.state, source: 'unchanged' };
        if (!j.continuesSnapshot) {
          if (size === j.size) return { state: held.state, source: 'unchanged' };
        } else if (size >= j.end) {
          await this.readJournalTail(op, held.state, j, size);
          return { state: held.state, source: 'journal' };
        }
        // Else the journal was cut shorter than what was read from it, by something else: read it all again.
      } else if (!j && !journal) {
        return { state: held.state, source: 'unchanged' };
      }
    }
    await this.dropLoaded();
    if (!snapshot) {
      if (!this.create) throw this.notFound(op);
      const state = emptyState(randomBytes(8).toString('hex'));
      this.loaded = { state, snapshot: undefined, journal: undefined };
      return { state, source: 'created' };
    }
    this.loaded = await this.readStore(op);
    return { state: this.loaded.state, source: 'read' };
  }

  /** Reads the snapshot and replays the journal when it continues that snapshot. */
  private async readStore(op: string): Promise<Loaded> {
    const files: FileHandle[] = [];
    try {
      const snapFile = await open(this.location, 'r');
      files.push(snapFile);
      const [text, snapStats] = await Promise.all([
        snapFile.readFile('utf8'),
        snapFile.stat({ bigint: true }),
      ]);
      let state: State;
      try {
        state = parseSnapshot(text);
      } catch (err) {
        throw new StoreError(
          'internal',
          op,
          `corrupt store file ${this.location}: ${(err as Error).message}`,
        );
      }
      const snapshot: HeldSnapshot = {
        file: snapFile,
        stamp: stampOf(snapStats),
        size: Number(snapStats.size),
      };
      let journalFile: FileHandle;
      try {
        journalFile = await open(this.journalPath, 'r+');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        return { state, snapshot, journal: undefined };
      }
      files.push(journalFile);
      const [bytes, journalStats] = await Promise.all([
        journalFile.readFile(),
        journalFile.stat({ bigint: true }),
      ]);
      const { payloads, end } = decodeFrames(bytes);
      const header = payloads[0];
      const continuesSnapshot =
        isJournalHeader(header) &&
        state.generation !== undefined &&
        header.store === state.id &&
        header.generation === state.generation;
      const journal: HeldJournal = {
        file: journalFile,
        identity: identityOf(journalStats),
        continuesSnapshot,
        end,
        size: bytes.length,
      };
      if (continuesSnapshot) replay(state, payloads.slice(1), this.journalPath, op);
      return { state, snapshot, journal };
    } catch (err) {
      for (const f of files) await f.close().catch(() => undefined);
      if (err instanceof StoreError) throw err;
      throw new StoreError('unreachable', op, `cannot read ${this.location}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** Replays the records other processes appended since this handle last read the journal. */
  private async readJournalTail(op: string, state: State, j: HeldJournal, size: number): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = await readAt(j.file, j.end, size - j.end);
    } catch (err) {
      throw new StoreError('unreachable', op, `cannot read ${this.journalPath}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const { payloads, end } = decodeFrames(bytes);
    replay(state, payloads, this.journalPath, op);
    j.end += end;
    j.size = size;
  }

  /** Makes the writer's changes durable: one journal record, or a new snapshot when the journal is due. */
  private async commit(op: string, writer: Writer): Promise<void> {
    const held = this.loaded;
    if (!held) throw new StoreError('internal', op, 'no state loaded');
    const j = held.journal;
    const due = Math.max(this.compactJournalBytes, (held.snapshot?.size ?? 0) / 4);
    try {
      if (held.snapshot && j?.continuesSnapshot && j.end < due) await appendRecord(j, writer.record());
      else await this.writeSnapshot(held);
    } catch (err) {
      throw new StoreError('internal', op, `cannot write ${this.location}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /**
   * Writes the whole state as the next snapshot, then starts an empty journal for it. A crash between the two
   * leaves the new snapshot with the old journal, whose header names the old snapshot: ignored, nothing lost.
   */
  private async writeSnapshot(held: Loaded): Promise<void> {
    const state = held.state;
    state.generation = (state.generation ?? 0) + 1;
    const text = serializeSnapshot(state);
    const snapFile = await replaceFileDurably(this.location, text, 'store-compact-before-rename');
    let journalFile: FileHandle | undefined;
    let snapStats: BigIntStats;
    let journalStats: BigIntStats;
    try {
      faultPoint('store-compact-after-snapshot');
      const header: JournalHeader = { store: state.id, generation: state.generation };
      journalFile = await replaceFileDurably(this.journalPath, encodeFrame(header));
      [snapStats, journalStats] = await Promise.all([
        snapFile.stat({ bigint: true }),
        journalFile.stat({ bigint: true }),
      ]);
    } catch (err) {
      await snapFile.close().catch(() => undefined);
      await journalFile?.close().catch(() => undefined);
      throw err;
    }
    await closeHeld(held);
    held.snapshot = { file: snapFile, stamp: stampOf(snapStats), size: Number(snapStats.size) };
    const size = Number(journalStats.size);
    held.journal = {
      file: journalFile,
      identity: identityOf(journalStats),
      continuesSnapshot: true,
      end: size,
      size,
    };
  }

  private async dropLoaded(): Promise<void> {
    const held = this.loaded;
    this.loaded = undefined;
    if (held) await closeHeld(held);
  }

  /** Feeds each watch the history events it has not seen; a gap (compaction, replaced file) means resync. */
  private deliver(state: State): void {
    const replaced = this.lastSeen !== undefined && this.lastSeen.id !== state.id;
    const wentBack = this.lastSeen !== undefined && state.revision < this.lastSeen.revision;
    this.lastSeen = { id: state.id, revision: state.revision };
    for (const w of [...this.watches]) {
      if (replaced || wentBack) {
        w.queue.resync(`store file ${this.location} was replaced underneath`);
        continue;
      }
      if (w.next === Number.POSITIVE_INFINITY) w.next = state.revision + 1;
      if (w.next > state.revision) continue;
      if (w.next < state.compactRevision) {
        w.queue.resync(
          `history compacted: revision ${w.next} is older than the oldest kept (${state.compactRevision})`,
        );
        continue;
      }
      for (const ev of state.history) {
        // A copy: the state outlives this call, and consumers own what they receive.
        if (ev.modRevision >= w.next && ev.key.startsWith(w.prefix)) w.queue.push({ ...ev });
      }
      w.next = state.revision + 1;
    }
  }
}

/**
 * Appends one record and syncs it: committed once this returns. A torn record a killed writer left is cut off
 * first; a failed append is cut off again, so no reader ever sees an operation its caller saw fail.
 */
async function appendRecord(j: HeldJournal, record: JournalRecord): Promise<void> {
  const frame = encodeFrame(record);
  try {
    if (j.size > j.end) await j.file.truncate(j.end);
    j.size = j.end;
    if (process.env.TSNET_TEST_FAULT === 'store-append-torn') {
      await writeAt(j.file, frame.subarray(0, frame.length >> 1), j.end);
      await j.file.datasync();
      faultPoint('store-append-torn');
    }
    await writeAt(j.file, frame, j.end);
    await j.file.datasync();
  } catch (err) {
    await j.file.truncate(j.end).catch(() => undefined);
    throw err;
  }
  j.end += frame.length;
  j.size = j.end;
}

/** Applies decoded journal records. A whole frame that holds no record is damage, not a torn write: refused. */
function replay(state: State, payloads: unknown[], path: string, op: string): void {
  for (const p of payloads) {
    if (!isJournalRecord(p))
      throw new StoreError('internal', op, `corrupt journal ${path}: not a store record`);
    applyRecord(state, p);
  }
}

function isJournalRecord(v: unknown): v is JournalRecord {
  const r = v as Partial<JournalRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.revision === 'number' &&
    typeof r.nextLease === 'number' &&
    typeof r.compactRevision === 'number' &&
    Array.isArray(r.ops)
  );
}

async function closeHeld(held: Loaded): Promise<void> {
  await held.snapshot?.file.close().catch(() => undefined);
  await held.journal?.file.close().catch(() => undefined);
}

async function statOrUndefined(path: string, op: string): Promise<BigIntStats | undefined> {
  try {
    return await stat(path, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError('unreachable', op, `cannot stat ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function identityOf(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}`;
}

function stampOf(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}`;
}
