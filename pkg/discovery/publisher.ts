// Publishes the containers of this node under `<prefix>/containers/<node>/<id>`, every key bound to a lease
// the agent keeps alive: when the node dies (or its agent stays down longer than the TTL) its containers
// vanish from every view with the lease. The publisher holds the desired set in memory and converges the
// store to it: incrementally after each change, fully (list + diff) at start, after a store error, after
// the lease was lost and periodically, so a SIGKILL between two writes or an etcd outage leaves neither a
// stale nor a missing entry once the store answers again. The lease ID is kept in a state file so a
// restarted agent takes its keys over instead of leaving duplicates to expire.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../fsutil/atomic.ts';
import { type Logger, silentLogger } from '../log/index.ts';
import { isStoreError, type Lease, type Store } from '../store/index.ts';
import { type ContainerEntry, encodeEntry, entryKey, nodeContainersPrefix, parseEntryKey } from './entry.ts';

export interface PublisherOptions {
  readonly store: Store;
  readonly prefix: string;
  readonly node: string;
  /** TTL of the lease the entries are bound to; default 30 s (the subnet lease's). */
  readonly ttlSeconds?: number;
  /** Where the lease ID is kept across restarts (a file under the data dir). */
  readonly leaseStateFile?: string;
  /** Full resync interval (drift repair); default 60 s. */
  readonly resyncMs?: number;
  readonly log?: Logger;
}

export interface PublisherStats {
  readonly published: number;
  readonly writes: number;
  readonly deletes: number;
  readonly fullSyncs: number;
  readonly errors: number;
  readonly leaseId: string | undefined;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

export class DiscoveryPublisher {
  private readonly opts: PublisherOptions;
  private readonly log: Logger;
  private readonly ttl: number;
  private readonly desired = new Map<string, ContainerEntry>();
  /** What the store holds for this node as far as we know: id → encoded value. Undefined: unknown (list). */
  private published: Map<string, string> | undefined;
  private lease: Lease | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly idleWaiters: (() => void)[] = [];
  private counters = { writes: 0, deletes: 0, fullSyncs: 0, errors: 0 };

  constructor(opts: PublisherOptions) {
    this.opts = opts;
    this.log = (opts.log ?? silentLogger).child({ component: 'discovery-publisher' });
    this.ttl = opts.ttlSeconds ?? 30;
  }

  /** Starts converging (the first pass lists the node's keys); keeps the lease alive until stop(). */
  start(): void {
    this.stopped = false;
    this.scheduleKeepAlive();
    this.resyncTimer = setInterval(() => this.resync('timer'), this.opts.resyncMs ?? 60_000);
    this.resyncTimer.unref();
    this.kick();
  }

  /** The container's entry from now on (a new one, or a change: state, networks, name). */
  set(entry: ContainerEntry): void {
    if (entry.node !== this.opts.node)
      throw new Error(`entry of node ${entry.node} given to the publisher of ${this.opts.node}`);
    this.desired.set(entry.id, entry);
    this.kick();
  }

  remove(id: string): void {
    if (this.desired.delete(id)) this.kick();
  }

  /** Exactly these entries (the runtime's containers at agent start): others of this node are deleted. */
  replaceAll(entries: readonly ContainerEntry[]): void {
    this.desired.clear();
    for (const e of entries) this.desired.set(e.id, e);
    this.resync('replace');
  }

  /** Resolves once the store holds the desired set (tests, and a clean shutdown). */
  async idle(): Promise<void> {
    if (!this.running && !this.dirty && this.published !== undefined) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  stats(): PublisherStats {
    return {
      published: this.published?.size ?? 0,
      ...this.counters,
      leaseId: this.lease?.id,
    };
  }

  /**
   * Stops writing and renewing. The keys stay until the lease expires: the containers keep running without
   * the agent, and a restarted agent takes the lease over. `revoke` deletes them at once (--leave).
   */
  async stop(options: { revoke?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.keepAliveTimer);
    clearInterval(this.resyncTimer);
    await this.running;
    if (options.revoke && this.lease) await this.lease.revoke().catch(() => undefined);
  }

  private resync(reason: string): void {
    this.log.debug({ reason }, 'full resync');
    this.published = undefined;
    this.kick();
  }

  private kick(): void {
    this.dirty = true;
    if (this.stopped || this.running || this.retryTimer) return;
    this.running = this.converge().finally(() => {
      this.running = undefined;
      if (this.dirty && !this.retryTimer && !this.stopped) this.kick();
      else if (!this.dirty) for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private async converge(): Promise<void> {
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      try {
        await this.pass();
        this.retryMs = RETRY_MIN_MS;
      } catch (err) {
        this.counters.errors++;
        this.published = undefined;
        this.log.warn({ err, retryInMs: this.retryMs }, 'publishing containers failed; retrying');
        this.dirty = true;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, this.retryMs);
        this.retryTimer.unref();
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
        return;
      }
    }
  }

  private async pass(): Promise<void> {
    const { store, prefix, node } = this.opts;
    const lease = await this.ensureLease();
    if (this.published === undefined) {
      const listed = await store.list(nodeContainersPrefix(prefix, node));
      const seen = new Map<string, string>();
      for (const kv of listed.items) {
        const names = parseEntryKey(prefix, kv.key);
        if (!names || names.node !== node) continue;
        // a key under another lease (a previous agent's) is rewritten under ours
        seen.set(names.id, kv.lease === lease.id ? kv.value : '');
      }
      this.published = seen;
      this.counters.fullSyncs++;
    }
    const published = this.published;
    for (const [id, entry] of this.desired) {
      const value = encodeEntry(entry);
      if (published.get(id) === value) continue;
      await store.put(entryKey(prefix, node, id), value, { lease: lease.id });
      published.set(id, value);
      this.counters.writes++;
    }
    for (const id of [...published.keys()]) {
      if (this.desired.has(id)) continue;
      await store.delete(entryKey(prefix, node, id));
      published.delete(id);
      this.counters.deletes++;
    }
  }

  /** The lease of a previous run when it is still alive, else a new one (and a full resync). */
  private async ensureLease(): Promise<Lease> {
    if (this.lease) return this.lease;
    const { store, leaseStateFile } = this.opts;
    const saved = leaseStateFile ? await readSavedLease(leaseStateFile) : undefined;
    if (saved) {
      const previous = store.leaseFromId(saved, this.ttl);
      try {
        await previous.keepAliveOnce();
        this.lease = previous;
        this.log.info({ lease: saved }, 'took over the discovery lease of the previous run');
        return previous;
      } catch (err) {
        if (!isStoreError(err, 'lease-not-found')) throw err;
      }
    }
    const lease = await store.grantLease(this.ttl);
    if (leaseStateFile) await writeFileAtomic(leaseStateFile, `${JSON.stringify({ leaseId: lease.id })}\n`);
    this.lease = lease;
    this.published = undefined;
    this.log.info({ lease: lease.id, ttl: this.ttl }, 'discovery lease granted');
    return lease;
  }

  private scheduleKeepAlive(): void {
    this.keepAliveTimer = setTimeout(
      () => {
        void this.keepAlive().finally(() => {
          if (!this.stopped) this.scheduleKeepAlive();
        });
      },
      (this.ttl * 1000) / 3,
    );
    this.keepAliveTimer.unref();
  }

  private async keepAlive(): Promise<void> {
    const lease = this.lease;
    if (!lease) return;
    try {
      await lease.keepAliveOnce();
    } catch (err) {
      if (isStoreError(err, 'lease-not-found')) {
        this.log.warn({ lease: lease.id }, 'discovery lease expired: publishing again under a new one');
        if (this.lease === lease) this.lease = undefined;
        this.resync('lease lost');
      } else {
        this.log.warn({ err }, 'renewing the discovery lease failed; retrying');
      }
    }
  }
}

async function readSavedLease(file: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { leaseId?: unknown };
    return typeof parsed.leaseId === 'string' && /^\d+$/.test(parsed.leaseId) ? parsed.leaseId : undefined;
  } catch {
    return undefined;
  }
}
