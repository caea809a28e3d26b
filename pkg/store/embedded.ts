// The single-node store: one JSON file under the data dir with etcd's semantics (global revision, leases with
// TTL, history for watches from a revision). Every operation runs under an flock on a side lock file, applies
// lease expiry, and replaces the file atomically when something changed (write temp, fsync, rename), so another
// process (tsnetctl) always reads a whole state and its writes are not lost.
//
// The agent's event loop also serves netlink, lease renewals and HTTP, so nothing here blocks it: file I/O goes
// through fs/promises and waiting for the lock happens on a worker thread. The file is only parsed again when it
// changed: it starts with `{"id":…,"generation":N,` where generation counts every save of that file (under the
// lock), so comparing those few bytes (and the file's inode, size and mtime) with what this handle last read or
// wrote tells whether anyone wrote since.

import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { type FileHandle, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { flock, flockExclusiveAsync, LOCK_EX, LOCK_NB, LOCK_UN } from '../../native/libc.ts';
import { inTurn } from '../sync/turns.ts';
import {
  type KeyValue,
  type Lease,
  type ListResult,
  type PutOptions,
  type Store,
  StoreError,
  type StoreWatch,
  type WatchEvent,
  type WatchOptions,
} from './index.ts';
import { EventQueue } from './queue.ts';

/**
 * How an operation got the store's state: 'unchanged' (the file's header matched what this handle last read or
 * wrote, nothing parsed), 'read' (whole file read and parsed), 'created' (no file yet).
 */
export type StateSource = 'unchanged' | 'read' | 'created';

export interface EmbeddedStoreOptions {
  dataDir: string;
  /** File name under dataDir. Default `store.json`. */
  fileName?: string;
  /**
   * How often leases are expired and other processes' changes picked up while open. Default 500 ms. A tick does
   * nothing while this handle has no open watch and knows of no lease.
   */
  tickMs?: number;
  /** Events kept for watches from a past revision; older ones are compacted. Default 1000. */
  historyLimit?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Told, for each operation (ticks included), how it got the state: for tests and metrics. */
  onLoad?: (source: StateSource, op: string) => void;
}

interface StoredKey {
  value: string;
  createRevision: number;
  modRevision: number;
  lease?: string;
}

interface StoredLease {
  ttl: number;
  expiresAt: number;
}

type StoredEvent = Exclude<WatchEvent, { type: 'resync' }>;

interface State {
  /** Identity of this store file: a different one means the file was replaced underneath. */
  id: string;
  /** Saves of this file so far; absent in files written before it existed (those are parsed every time). */
  generation?: number;
  revision: number;
  compactRevision: number;
  nextLease: number;
  keys: Record<string, StoredKey>;
  leases: Record<string, StoredLease>;
  history: StoredEvent[];
}

/**
 * The state as this handle last read or wrote it, with the header the file starts with and the file's stat
 * stamp while unchanged. The header catches every writer of this module; the stamp (inode, size, mtime) also
 * catches a writer that does not count generations (an older tsnet, an editor).
 */
interface CachedState {
  state: State;
  header: Buffer;
  stamp: string;
}

interface EmbeddedWatch {
  queue: EventQueue;
  prefix: string;
  /** Next revision this watch has to see. */
  next: number;
}

export class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  readonly location: string;
  private readonly lockPath: string;
  private readonly tickMs: number;
  private readonly historyLimit: number;
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
  /** Valid only while no operation failed after loading it: a failed one may have changed it half-way. */
  private cached: CachedState | undefined;
  /** Leases in the last state seen: with none (and no watch) the tick has nothing to do. */
  private knownLeases = 0;
  private lastSeen: { id: string; revision: number } | undefined;
  private closed = false;

  private constructor(options: EmbeddedStoreOptions) {
    this.location = join(options.dataDir, options.fileName ?? 'store.json');
    this.lockPath = `${this.location}.lock`;
    this.tickMs = options.tickMs ?? 500;
    this.historyLimit = options.historyLimit ?? 1000;
    this.now = options.now ?? Date.now;
    this.onLoad = options.onLoad;
  }

  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    try {
      await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StoreError(
        'invalid',
        'open',
        `cannot create data dir ${options.dataDir}: ${(err as Error).message}`,
      );
    }
    const store = new EmbeddedStore(options);
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
      await store.lockFile.close().catch(() => undefined);
      throw err;
    }
    store.timer = setInterval(() => store.tick(), store.tickMs);
    store.timer.unref();
    return store;
  }

  get(key: string): Promise<KeyValue | undefined> {
    return this.transact('get', key, (s) => {
      const k = s.keys[key];
      return k ? toKeyValue(key, k) : undefined;
    });
  }

  list(prefix: string): Promise<ListResult> {
    return this.transact('list', prefix, (s) => ({
      items: Object.keys(s.keys)
        .filter((k) => k.startsWith(prefix))
        .sort()
        .map((k) => toKeyValue(k, s.keys[k] as StoredKey)),
      revision: s.revision,
    }));
  }

  put(key: string, value: string, options: PutOptions = {}): Promise<number> {
    return this.transact('put', key, (s, w) => {
      w.put(key, value, options.lease);
      return s.revision;
    });
  }

  createIfAbsent(key: string, value: string, options: PutOptions = {}): Promise<boolean> {
    return this.transact('createIfAbsent', key, (s, w) => {
      if (s.keys[key]) return false;
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
      if ((s.keys[key]?.modRevision ?? 0) !== modRevision) return false;
      w.put(key, value, options.lease);
      return true;
    });
  }

  compareAndDelete(key: string, modRevision: number): Promise<boolean> {
    return this.transact('compareAndDelete', key, (s, w) => {
      if (!s.keys[key] || s.keys[key].modRevision !== modRevision) return false;
      w.delete([key]);
      return true;
    });
  }

  delete(key: string): Promise<boolean> {
    return this.transact('delete', key, (s, w) => {
      if (!s.keys[key]) return false;
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
    const id = await this.transact('grantLease', undefined, (s, w) => {
      const leaseId = String(s.nextLease);
      s.nextLease += 1;
      s.leases[leaseId] = { ttl: ttlSeconds, expiresAt: this.now() + ttlSeconds * 1000 };
      w.touch();
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
          const lease = s.leases[id];
          if (!lease)
            throw new StoreError('lease-not-found', 'keepAlive', `lease ${id} expired or was revoked`);
          lease.expiresAt = this.now() + lease.ttl * 1000;
          w.touch();
          return lease.ttl;
        }),
      revoke: () =>
        this.transact('revokeLease', undefined, (s, w) => {
          if (s.leases[id]) w.revoke([id]);
        }),
    };
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
      if (revision <= s.compactRevision) return;
      s.compactRevision = revision;
      s.history = s.history.filter((e) => e.modRevision >= revision);
      w.touch();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    await this.chain.catch(() => undefined);
    this.closed = true;
    this.cached = undefined;
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
   * writes the file when something changed, then feeds watches from the history.
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
    try {
      const { state, source, stamp } = await this.load(op);
      this.onLoad?.(source, op);
      const writer = new Writer(state, this.historyLimit);
      // A new file needs its identity before anyone watches it; an old one without a generation gets one, so
      // it is not parsed again on every operation.
      if (source === 'created' || state.generation === undefined) writer.touch();
      const expired = Object.entries(state.leases)
        .filter(([, l]) => l.expiresAt <= this.now())
        .map(([id]) => id);
      if (expired.length > 0) writer.revoke(expired);
      const result = fn(state, writer);
      if (writer.dirty) await this.save(op, state);
      else if (source === 'read') this.cached = cacheOf(state, stamp);
      this.knownLeases = Object.keys(state.leases).length;
      this.deliver(state);
      return result;
    } catch (err) {
      this.cached = undefined; // the operation may have changed the state half-way
      throw err;
    } finally {
      flock(fd, LOCK_UN);
    }
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

  /** The current state: this handle's copy while the file still has its header and stamp, else read and parsed. */
  private async load(op: string): Promise<{ state: State; source: StateSource; stamp: string }> {
    let file: FileHandle;
    try {
      file = await open(this.location, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new StoreError('unreachable', op, `cannot read ${this.location}: ${(err as Error).message}`);
      }
      const state: State = {
        id: randomBytes(8).toString('hex'),
        revision: 1,
        compactRevision: 0,
        nextLease: 1,
        keys: {},
        leases: {},
        history: [],
      };
      return { state, source: 'created', stamp: '' };
    }
    let text: string;
    let stamp: string;
    try {
      const cached = this.cached;
      const head = Buffer.alloc(cached?.header.length ?? 0);
      const [{ bytesRead }, stats] = await Promise.all([
        file.read(head, 0, head.length, 0),
        file.stat({ bigint: true }),
      ]);
      stamp = stampOf(stats);
      if (cached && stamp === cached.stamp && bytesRead === head.length && head.equals(cached.header)) {
        return { state: cached.state, source: 'unchanged', stamp };
      }
      // Positional reads above leave the file position at 0: this reads the whole (same) file.
      text = await file.readFile('utf8');
    } catch (err) {
      throw new StoreError('unreachable', op, `cannot read ${this.location}: ${(err as Error).message}`);
    } finally {
      await file.close().catch(() => undefined);
    }
    try {
      const state = JSON.parse(text) as State;
      if (
        typeof state.revision !== 'number' ||
        typeof state.keys !== 'object' ||
        !Array.isArray(state.history)
      ) {
        throw new Error('not a tsnet store file');
      }
      return { state, source: 'read', stamp };
    } catch (err) {
      throw new StoreError('internal', op, `corrupt store file ${this.location}: ${(err as Error).message}`);
    }
  }

  private async save(op: string, state: State): Promise<void> {
    state.generation = (state.generation ?? 0) + 1;
    const tmp = `${this.location}.${process.pid}.tmp`;
    let stamp: string;
    try {
      const file = await open(tmp, 'w', 0o600);
      try {
        await file.writeFile(serialize(state));
        await file.sync();
        stamp = stampOf(await file.stat({ bigint: true })); // rename keeps inode, size and mtime
      } finally {
        await file.close();
      }
      await rename(tmp, this.location);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw new StoreError('internal', op, `cannot write ${this.location}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.cached = cacheOf(state, stamp);
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
        // A copy: the cached state outlives this call, and consumers own what they receive.
        if (ev.modRevision >= w.next && ev.key.startsWith(w.prefix)) w.queue.push({ ...ev });
      }
      w.next = state.revision + 1;
    }
  }
}

/** The file's text: identity and generation first, so a few bytes tell whether it changed. */
function serialize(state: State): string {
  const { id, generation, ...rest } = state;
  return JSON.stringify({ id, generation, ...rest });
}

function stampOf(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}`;
}

/** Header of a state that has a generation; without one the file cannot be recognised and is parsed each time. */
function cacheOf(state: State, stamp: string): CachedState | undefined {
  if (state.generation === undefined) return undefined;
  return {
    state,
    stamp,
    header: Buffer.from(`{"id":${JSON.stringify(state.id)},"generation":${state.generation},`, 'utf8'),
  };
}

/** Mutations of one transaction: all changes of one call share one new revision, as in an etcd txn. */
class Writer {
  dirty = false;
  private bumped = false;
  constructor(
    private readonly s: State,
    private readonly historyLimit: number,
  ) {}

  touch(): void {
    this.dirty = true;
  }

  put(key: string, value: string, lease: string | undefined): void {
    if (lease !== undefined && !this.s.leases[lease]) {
      throw new StoreError('lease-not-found', 'put', `lease ${lease} expired or was revoked`, { key });
    }
    const rev = this.bump();
    const createRevision = this.s.keys[key]?.createRevision ?? rev;
    this.s.keys[key] = { value, createRevision, modRevision: rev, ...(lease !== undefined ? { lease } : {}) };
    this.record({
      type: 'put',
      key,
      value,
      modRevision: rev,
      createRevision,
      ...(lease !== undefined ? { lease } : {}),
    });
  }

  delete(keys: string[]): void {
    if (keys.length === 0) return;
    const rev = this.bump();
    for (const key of keys) {
      delete this.s.keys[key];
      this.record({ type: 'delete', key, modRevision: rev });
    }
  }

  revoke(ids: string[]): void {
    for (const id of ids) delete this.s.leases[id];
    const gone = new Set(ids);
    this.delete(Object.keys(this.s.keys).filter((k) => gone.has(this.s.keys[k]?.lease ?? '')));
    this.dirty = true;
  }

  private bump(): number {
    if (!this.bumped) {
      this.s.revision += 1;
      this.bumped = true;
    }
    this.dirty = true;
    return this.s.revision;
  }

  private record(ev: StoredEvent): void {
    this.s.history.push(ev);
    const excess = this.s.history.length - this.historyLimit;
    if (excess > 0) {
      const removed = this.s.history.splice(0, excess);
      // Never keep part of a revision: everything up to the last dropped event's revision counts as compacted.
      this.s.compactRevision = (removed[removed.length - 1]?.modRevision ?? 0) + 1;
      this.s.history = this.s.history.filter((e) => e.modRevision >= this.s.compactRevision);
    }
  }
}

function toKeyValue(key: string, k: StoredKey): KeyValue {
  return {
    key,
    value: k.value,
    createRevision: k.createRevision,
    modRevision: k.modRevision,
    ...(k.lease !== undefined ? { lease: k.lease } : {}),
  };
}
