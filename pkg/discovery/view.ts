// Every container of the cluster, in memory, kept in step with the store: a listing, then a watch from the
// listing's revision + 1 (no gap); after a compaction or a lost connection ('resync') it lists again and
// reports the difference. Store outages are retried with backoff while the last view stays served (DNS keeps
// answering from it). Listeners hear each change as it is applied.
import { EventEmitter } from 'node:events';
import { type Logger, silentLogger } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import { type ContainerEntry, containersPrefix, decodeEntry, sameEntry } from './entry.ts';

export interface ViewChange {
  readonly id: string;
  /** undefined: removed */
  readonly entry: ContainerEntry | undefined;
  readonly previous: ContainerEntry | undefined;
}

export interface ClusterViewOptions {
  readonly store: Store;
  readonly prefix: string;
  readonly log?: Logger;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

export class ClusterView extends EventEmitter<{ change: [ViewChange]; synced: [] }> {
  private readonly opts: ClusterViewOptions;
  private readonly log: Logger;
  private readonly byId = new Map<string, ContainerEntry>();
  private readonly stopper = new AbortController();
  private loop: Promise<void> | undefined;
  private synced = false;
  private counters = { resyncs: 0, malformed: 0 };

  constructor(opts: ClusterViewOptions) {
    super();
    this.opts = opts;
    this.log = (opts.log ?? silentLogger).child({ component: 'cluster-view' });
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    await this.loop;
  }

  /** Resolves after the first listing was applied. */
  async ready(): Promise<void> {
    if (this.synced) return;
    await new Promise<void>((resolve) => this.once('synced', resolve));
  }

  entries(): ContainerEntry[] {
    return [...this.byId.values()];
  }

  get(id: string): ContainerEntry | undefined {
    return this.byId.get(id);
  }

  stats(): { containers: number; resyncs: number; malformed: number } {
    return { containers: this.byId.size, ...this.counters };
  }

  private async run(): Promise<void> {
    const { store, prefix } = this.opts;
    const signal = this.stopper.signal;
    let retryMs = RETRY_MIN_MS;
    while (!signal.aborted) {
      try {
        const listed = await store.list(containersPrefix(prefix));
        const fresh = new Map<string, ContainerEntry>();
        for (const kv of listed.items) {
          const entry = this.decode(kv.key, kv.value);
          if (entry) fresh.set(entry.id, entry);
        }
        this.replace(fresh);
        if (!this.synced) {
          this.synced = true;
          this.emit('synced');
        }
        retryMs = RETRY_MIN_MS;
        const watch = store.watch(containersPrefix(prefix), { fromRevision: listed.revision + 1 });
        const onAbort = (): void => watch.close();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          for await (const ev of watch) {
            if (ev.type === 'resync') {
              this.counters.resyncs++;
              this.log.info({ reason: ev.reason }, 'container watch interrupted, listing again');
              break;
            }
            if (ev.type === 'delete') {
              const id = ev.key.slice(ev.key.lastIndexOf('/') + 1);
              this.apply(id, undefined);
              continue;
            }
            const entry = this.decode(ev.key, ev.value);
            if (entry) this.apply(entry.id, entry);
          }
        } finally {
          signal.removeEventListener('abort', onAbort);
          watch.close();
        }
      } catch (err) {
        if (signal.aborted) return;
        this.log.warn({ err, retryInMs: retryMs }, 'listing containers failed; the last view stays');
        await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      }
    }
  }

  private decode(key: string, value: string): ContainerEntry | undefined {
    try {
      return decodeEntry(this.opts.prefix, key, value);
    } catch (err) {
      this.counters.malformed++;
      this.log.warn({ key, err }, 'skipping a malformed container entry');
      return undefined;
    }
  }

  private replace(fresh: Map<string, ContainerEntry>): void {
    for (const id of [...this.byId.keys()]) if (!fresh.has(id)) this.apply(id, undefined);
    for (const [id, entry] of fresh) this.apply(id, entry);
  }

  private apply(id: string, entry: ContainerEntry | undefined): void {
    const previous = this.byId.get(id);
    if (entry === undefined) {
      if (!previous) return;
      this.byId.delete(id);
    } else {
      if (previous && sameEntry(previous, entry)) return;
      this.byId.set(id, entry);
    }
    this.emit('change', { id, entry, previous });
  }
}
