// The cluster store as an interface (flannel's idea): a revisioned key-value store with leases and watches.
// Two implementations share it: etcd (pkg/store/etcd.ts) for clusters, a local file (pkg/store/embedded.ts) for
// a single node. Keys and values are strings; revisions are the store's global, increasing write counter.

/** One key as stored, with the revisions of its creation and of its last change. */
export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  /** Lease the key is bound to, when it is (decimal string: etcd lease IDs are 64-bit). */
  lease?: string;
}

export interface ListResult {
  items: KeyValue[];
  /** Store revision at which the listing was taken: watch from `revision + 1` to miss nothing. */
  revision: number;
}

export interface PutOptions {
  /** Bind the key to this lease: it is deleted when the lease expires or is revoked. */
  lease?: string;
}

/** A granted lease. `keepAliveOnce` resets its TTL; it throws StoreError('lease-not-found') once expired. */
export interface Lease {
  readonly id: string;
  readonly ttl: number;
  /** Renews the lease and returns the TTL (seconds) it now has. */
  keepAliveOnce(): Promise<number>;
  /** Revokes the lease, deleting every key bound to it. Revoking an expired lease is not an error. */
  revoke(): Promise<void>;
}

export type WatchEvent =
  | { type: 'put'; key: string; value: string; modRevision: number; createRevision: number; lease?: string }
  | { type: 'delete'; key: string; modRevision: number }
  /**
   * The watch cannot continue without a gap (history compacted, connection lost, file replaced underneath).
   * It is always the last event: the caller lists again and watches from that listing's revision + 1.
   */
  | { type: 'resync'; reason: string };

export interface WatchOptions {
  /** First revision to report (inclusive). Without it, changes after the watch is established. */
  fromRevision?: number;
}

/** A running watch: iterate it for events, close it to stop. Iteration ends after a 'resync' or close(). */
export interface StoreWatch extends AsyncIterable<WatchEvent> {
  close(): void;
}

export interface Store {
  readonly kind: 'etcd' | 'embedded';
  /** Human-readable location (endpoints or file), for logs and errors. */
  readonly location: string;
  get(key: string): Promise<KeyValue | undefined>;
  list(prefix: string): Promise<ListResult>;
  /** Unconditional write; returns the revision of the write. */
  put(key: string, value: string, options?: PutOptions): Promise<number>;
  /** Writes only when the key does not exist (compare createRevision == 0). False when it exists. */
  createIfAbsent(key: string, value: string, options?: PutOptions): Promise<boolean>;
  /** Writes only when the key's modRevision is `modRevision`. False when it changed or vanished. */
  compareAndSwap(key: string, modRevision: number, value: string, options?: PutOptions): Promise<boolean>;
  /** Deletes only when the key's modRevision is `modRevision`. False when it changed or vanished. */
  compareAndDelete(key: string, modRevision: number): Promise<boolean>;
  /** Deletes a key; returns whether it existed. */
  delete(key: string): Promise<boolean>;
  grantLease(ttlSeconds: number): Promise<Lease>;
  /** Attaches to an existing lease by ID (after a restart) without renewing it. */
  leaseFromId(id: string, ttlSeconds: number): Lease;
  /** Seconds the lease has left (without renewing it); undefined once it expired or was revoked. */
  leaseTimeLeft(id: string): Promise<number | undefined>;
  watch(prefix: string, options?: WatchOptions): StoreWatch;
  /** Discards history before `revision`: watches from older revisions then get 'resync'. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * What went wrong, for callers that decide on it: 'unreachable' is worth a retry with backoff, 'conflict' means
 * another writer won, 'lease-not-found' means the lease expired or was revoked, 'not-found' means there is no
 * store where one was to be opened without creating it.
 */
export type StoreErrorKind =
  | 'unreachable'
  | 'not-found'
  | 'conflict'
  | 'lease-not-found'
  | 'compacted'
  | 'closed'
  | 'invalid'
  | 'internal';

export class StoreError extends Error {
  readonly kind: StoreErrorKind;
  readonly op: string;
  readonly key: string | undefined;
  constructor(
    kind: StoreErrorKind,
    op: string,
    detail: string,
    options: { key?: string; cause?: unknown } = {},
  ) {
    super(`store ${op}${options.key !== undefined ? ` ${options.key}` : ''}: ${detail}`, {
      cause: options.cause,
    });
    this.name = 'StoreError';
    this.kind = kind;
    this.op = op;
    this.key = options.key;
  }
}

export function isStoreError(err: unknown, kind?: StoreErrorKind): err is StoreError {
  return err instanceof StoreError && (kind === undefined || err.kind === kind);
}

/**
 * Chooses the implementation: etcd when endpoints are given, else the embedded file store under dataDir, which
 * is created when missing unless `embedded.create` is false (then: StoreError 'not-found' naming the path).
 */
export interface StoreConfig {
  etcd?: import('./etcd.ts').EtcdStoreOptions;
  embedded?: import('./embedded.ts').EmbeddedStoreOptions;
}

export async function openStore(config: StoreConfig): Promise<Store> {
  if (config.etcd && config.etcd.endpoints.length > 0) {
    const { EtcdStore } = await import('./etcd.ts');
    return new EtcdStore(config.etcd);
  }
  if (!config.embedded)
    throw new StoreError('invalid', 'open', 'no etcd endpoints and no data dir for the embedded store');
  const { EmbeddedStore } = await import('./embedded.ts');
  return EmbeddedStore.open(config.embedded);
}
