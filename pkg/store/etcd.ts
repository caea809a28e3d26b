// Store over etcd v3 (package etcd3): raw KV/Lease RPCs for exact compare-and-swap semantics, etcd3's watcher
// for watches. etcd3's own retry and circuit breaker are disabled: callers own retries (with backoff and logs),
// and every failed call surfaces at once as a typed StoreError.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import etcd3, {
  type CallContext,
  type Etcd3,
  type IKeyValue,
  type IOptions,
  type IRequestOp,
  type Watcher,
} from 'etcd3';
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
import { EventQueue } from './queue.ts';

// etcd3 is loaded when this module is initialised: the bundles import this module only when a store with
// endpoints is opened, and inline etcd3 with its schema parsed at build time (scripts/build.ts).
const { ClientClosedError, EtcdLeaseInvalidError, GRPCDeadlineExceededError, GRPCUnavailableError } = etcd3;

export interface EtcdTlsFiles {
  caFile: string;
  certFile?: string;
  keyFile?: string;
}

export interface EtcdStoreOptions {
  /** `http://host:2379`, `https://host:2379` or `unix:///path/to/socket`. */
  endpoints: string[];
  /** Every key is stored under this prefix (an etcd namespace); callers never see it. */
  keyPrefix?: string;
  tls?: EtcdTlsFiles;
  /** Deadline of each unary call, including the wait for a connection. Default 5000 ms. */
  dialTimeoutMs?: number;
}

// etcd3's fault-handling slots take cockatiel policies; this is the do-nothing policy (no retry, no breaker).
const passThroughPolicy = {
  _altReturn: undefined as never,
  execute<T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    return Promise.resolve().then(() => fn({ signal: signal ?? new AbortController().signal }));
  },
};

type FaultHandling = NonNullable<IOptions['faultHandling']>;

/** Delays of `ms`, doubling up to `maxMs`, as etcd3's watchBackoff slot takes them (a cockatiel IBackoff). */
function cappedBackoff(ms: number, maxMs: number): NonNullable<FaultHandling['watchBackoff']> {
  return { duration: ms, next: () => cappedBackoff(Math.min(ms * 2, maxMs), maxMs) };
}

export class EtcdStore implements Store {
  readonly kind = 'etcd' as const;
  readonly location: string;
  private readonly client: Etcd3;
  private readonly prefix: Buffer;
  private readonly watches = new Set<StoreWatch>();
  private closed = false;

  constructor(options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new StoreError('invalid', 'open', 'no etcd endpoints given');
    this.location = options.endpoints.join(',');
    this.prefix = Buffer.from(options.keyPrefix ?? '');
    const timeout = options.dialTimeoutMs ?? 5000;
    const etcdOptions: IOptions = {
      hosts: options.endpoints,
      faultHandling: {
        host: () => passThroughPolicy as unknown as ReturnType<NonNullable<FaultHandling['host']>>,
        global: passThroughPolicy as unknown as FaultHandling['global'],
        // Watch streams come back 50 ms after etcd does, up to 1 s apart while it stays away; etcd3's default
        // (cockatiel's ExponentialBackoff) grows to 30 s, so a watch could stay gone long after a restart.
        watchBackoff: { duration: 0, next: () => cappedBackoff(50, 1000) },
      },
      defaultCallOptions: (ctx: CallContext) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
      grpcOptions: {
        // Reconnect quickly after an etcd restart; grpc's default backoff grows to two minutes.
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
      },
    };
    if (options.tls) {
      etcdOptions.credentials = readTlsFiles(options.tls);
      if (options.endpoints.some(hasIpHost)) silenceIpServerNameWarning();
    } else if (options.endpoints.some((e) => e.startsWith('https://'))) {
      const extra = extraCaCredentials();
      if (extra) etcdOptions.credentials = extra;
    }
    this.client = new etcd3.Etcd3(etcdOptions);
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const res = await this.call('get', key, () => this.client.kv.range({ key: this.k(key) }));
    const kv = res.kvs[0];
    return kv ? this.toKeyValue(kv) : undefined;
  }

  async list(prefix: string): Promise<ListResult> {
    const key = this.k(prefix);
    const res = await this.call('list', prefix, () =>
      this.client.kv.range({ key, range_end: prefixEnd(key) }),
    );
    return { items: res.kvs.map((kv) => this.toKeyValue(kv)), revision: Number(res.header.revision) };
  }

  async put(key: string, value: string, options: PutOptions = {}): Promise<number> {
    const res = await this.call('put', key, () => this.client.kv.put(this.putRequest(key, value, options)));
    return Number(res.header.revision);
  }

  createIfAbsent(key: string, value: string, options: PutOptions = {}): Promise<boolean> {
    return this.txn(
      'createIfAbsent',
      key,
      { target: 'Create', create_revision: 0 },
      {
        request_put: this.putRequest(key, value, options),
      },
    );
  }

  compareAndSwap(
    key: string,
    modRevision: number,
    value: string,
    options: PutOptions = {},
  ): Promise<boolean> {
    return this.txn(
      'compareAndSwap',
      key,
      { target: 'Mod', mod_revision: modRevision },
      {
        request_put: this.putRequest(key, value, options),
      },
    );
  }

  compareAndDelete(key: string, modRevision: number): Promise<boolean> {
    return this.txn(
      'compareAndDelete',
      key,
      { target: 'Mod', mod_revision: modRevision },
      {
        request_delete_range: { key: this.k(key) },
      },
    );
  }

  async delete(key: string): Promise<boolean> {
    const res = await this.call('delete', key, () => this.client.kv.deleteRange({ key: this.k(key) }));
    return Number(res.deleted) > 0;
  }

  async grantLease(ttlSeconds: number): Promise<Lease> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
      throw new StoreError(
        'invalid',
        'grantLease',
        `TTL must be a whole number of seconds >= 1, got ${ttlSeconds}`,
      );
    }
    const res = await this.call('grantLease', undefined, () =>
      this.client.leaseClient.leaseGrant({ TTL: ttlSeconds }),
    );
    if (res.error) throw new StoreError('internal', 'grantLease', res.error);
    return this.leaseFromId(res.ID, Number(res.TTL));
  }

  leaseFromId(id: string, ttlSeconds: number): Lease {
    return {
      id,
      ttl: ttlSeconds,
      keepAliveOnce: () => this.keepAliveOnce(id),
      revoke: async () => {
        try {
          await this.call('revokeLease', undefined, () => this.client.leaseClient.leaseRevoke({ ID: id }));
        } catch (err) {
          if (!(err instanceof StoreError && err.kind === 'lease-not-found')) throw err;
        }
      },
    };
  }

  async leaseTimeLeft(id: string): Promise<number | undefined> {
    try {
      const res = await this.call('leaseTimeToLive', undefined, () =>
        this.client.leaseClient.leaseTimeToLive({ ID: id }),
      );
      const ttl = Number(res.TTL);
      return ttl >= 0 ? ttl : undefined;
    } catch (err) {
      if (err instanceof StoreError && err.kind === 'lease-not-found') return undefined;
      throw err;
    }
  }

  watch(prefix: string, options: WatchOptions = {}): StoreWatch {
    let watcher: Watcher | undefined;
    const queue = new EventQueue(() => {
      this.watches.delete(queue);
      watcher?.cancel().catch(() => {
        // cancelling a watcher whose stream already failed: nothing left to release
      });
    });
    if (this.closed) {
      queue.resync('store closed');
      return queue;
    }
    this.watches.add(queue);
    const key = this.k(prefix);
    let builder = this.client.watch().inRange({ start: key, end: prefixEnd(key) });
    if (options.fromRevision !== undefined) builder = builder.startRevision(String(options.fromRevision));
    watcher = builder.watcher();
    watcher.on('data', (res) => {
      for (const ev of res.events) {
        // etcd3 strips its own namespace only; the raw watcher reports full keys.
        const k = this.unk(ev.kv.key);
        const modRevision = Number(ev.kv.mod_revision);
        if (ev.type === 'Put') {
          const lease = ev.kv.lease && ev.kv.lease !== '0' ? ev.kv.lease : undefined;
          queue.push({
            type: 'put',
            key: k,
            value: ev.kv.value.toString(),
            modRevision,
            createRevision: Number(ev.kv.create_revision),
            ...(lease ? { lease } : {}),
          });
        } else {
          queue.push({ type: 'delete', key: k, modRevision });
        }
      }
    });
    // etcd3 resumes a watcher by itself after a disconnection, but not reliably without a gap (it can skip
    // history not yet delivered); a relist is the safe answer, and compaction always needs one.
    watcher.on('disconnected', (err) => queue.resync(`watch disconnected: ${err.message}`));
    watcher.on('error', (err) =>
      queue.resync(
        /compact/i.test(err.message) ? `history compacted: ${err.message}` : `watch failed: ${err.message}`,
      ),
    );
    return queue;
  }

  async compact(revision: number): Promise<void> {
    await this.call('compact', undefined, () => this.client.kv.compact({ revision, physical: true }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.watches]) w.close();
    this.client.close();
  }

  private async keepAliveOnce(id: string): Promise<number> {
    const res = await this.call('keepAlive', undefined, async () => {
      const stream = await this.client.leaseClient.leaseKeepAlive({ deadline: Date.now() + 5000 });
      try {
        return await new Promise<{ TTL: string }>((resolve, reject) => {
          stream.on('data', resolve);
          stream.on('error', reject);
          stream.on('end', () => reject(new GRPCUnavailableError('keepalive stream ended')));
          stream.write({ ID: id });
        });
      } finally {
        stream.end();
      }
    });
    const ttl = Number(res.TTL);
    if (ttl <= 0) throw new StoreError('lease-not-found', 'keepAlive', `lease ${id} expired or was revoked`);
    return ttl;
  }

  private async txn(
    op: string,
    key: string,
    compare: { target: 'Create' | 'Mod'; create_revision?: number; mod_revision?: number },
    success: IRequestOp,
  ): Promise<boolean> {
    const res = await this.call(op, key, () =>
      this.client.kv.txn({
        compare: [{ key: this.k(key), result: 'Equal', ...compare }],
        success: [success],
      }),
    );
    return res.succeeded;
  }

  private putRequest(key: string, value: string, options: PutOptions) {
    return {
      key: this.k(key),
      value: Buffer.from(value),
      ...(options.lease ? { lease: options.lease } : {}),
    };
  }

  private async call<T>(op: string, key: string | undefined, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('closed', op, 'store is closed', key !== undefined ? { key } : {});
    try {
      return await fn();
    } catch (err) {
      if (this.closed || !neverSent(err)) throw this.classify(op, key, err);
    }
    // etcd3 closes every gRPC client of a host when any of its streams is cancelled, even by us (the last watch
    // closing, a watch cancelled by compaction); a call queued on such a client fails before it is sent. Sent
    // nowhere, it is safe to repeat once, on the fresh client etcd3 then makes.
    try {
      return await fn();
    } catch (err) {
      throw this.classify(op, key, err);
    }
  }

  private classify(op: string, key: string | undefined, err: unknown): StoreError {
    const ctx = { ...(key !== undefined ? { key } : {}), cause: err };
    const message = err instanceof Error ? err.message : String(err);
    const where = `etcd ${this.location}: ${tlsFailure(message) ?? message}`;
    if (err instanceof StoreError) return err;
    if (err instanceof GRPCUnavailableError || err instanceof GRPCDeadlineExceededError) {
      return new StoreError('unreachable', op, where, ctx);
    }
    if (err instanceof EtcdLeaseInvalidError || /lease not found/i.test(message)) {
      return new StoreError('lease-not-found', op, where, ctx);
    }
    if (/compacted/i.test(message)) return new StoreError('compacted', op, where, ctx);
    if (err instanceof ClientClosedError) return new StoreError('closed', op, where, ctx);
    if (/ECONNREFUSED|ENOENT|No connection established|UNAVAILABLE|DEADLINE/i.test(message)) {
      return new StoreError('unreachable', op, where, ctx);
    }
    return new StoreError('internal', op, where, ctx);
  }

  private k(key: string): Buffer {
    return Buffer.concat([this.prefix, Buffer.from(key)]);
  }

  private unk(key: Buffer): string {
    return key.subarray(this.prefix.length).toString();
  }

  private toKeyValue(kv: IKeyValue): KeyValue {
    const lease = kv.lease && kv.lease !== '0' ? kv.lease : undefined;
    return {
      key: this.unk(kv.key),
      value: kv.value.toString(),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
      ...(lease ? { lease } : {}),
    };
  }
}

/** grpc-js's text for a call that failed because its channel was closed before the call was sent. */
function neverSent(err: unknown): boolean {
  return err instanceof Error && /Channel closed before call started/.test(err.message);
}

/**
 * A failed TLS handshake in words an operator can act on. grpc-js reports it as UNAVAILABLE with OpenSSL's
 * multi-line text buried in "Last error: ..."; etcd answers a missing or untrusted client certificate with a
 * bad_certificate alert (certificate_required in newer Go).
 */
function tlsFailure(message: string): string | undefined {
  const alert = /alert (bad certificate|certificate required|unknown ca|certificate unknown)/i.exec(message);
  if (alert) {
    return `TLS handshake refused by etcd (${alert[1]}): it did not accept the client certificate (none given, or not signed by a CA etcd trusts)`;
  }
  const untrusted =
    /(unable to verify the first certificate|self[- ]signed certificate(?: in certificate chain)?|unable to get local issuer certificate|certificate has expired|certificate is not yet valid|Hostname\/IP does not match certificate's altnames: [^\n]*?(?=\.? Resolution note|\n|$))/i.exec(
      message,
    );
  if (untrusted) {
    return `TLS handshake failed: etcd's server certificate is not trusted (${untrusted[1]}): check the CA file and the names in the server certificate`;
  }
  return undefined;
}

function hasIpHost(endpoint: string): boolean {
  try {
    return isIP(new URL(endpoint).hostname.replace(/^\[|\]$/g, '')) !== 0;
  } catch {
    return false;
  }
}

let ipServerNameWarningSilenced = false;

/**
 * grpc-js hands an `https://10.0.0.5:2379` endpoint's address to TLS as the ServerName (SNI), and Node then
 * prints a three-line DEP0123 warning on stderr for every connection, which an operator can do nothing about:
 * the certificate is still verified against the IP. Only that warning is dropped; every other one is printed.
 */
function silenceIpServerNameWarning(): void {
  if (ipServerNameWarningSilenced) return;
  ipServerNameWarningSilenced = true;
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const [, typeOrOptions, code] = args;
    const warningCode =
      typeof typeOrOptions === 'object' && typeOrOptions !== null
        ? (typeOrOptions as { code?: string }).code
        : code;
    if (warningCode === 'DEP0123') return;
    emitWarning(...args);
  }) as typeof process.emitWarning;
}

/** The etcd range end that selects every key starting with `prefix` (the prefix with its last byte + 1). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] ?? 0xff) < 0xff) {
      end[i] = (end[i] ?? 0) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // all keys
}

/**
 * Node's trusted CAs plus the extra ones tsnetctl was started without (scripts/build.ts: its launcher moves
 * NODE_EXTRA_CA_CERTS to TSNET_EXTRA_CA_CERTS), for an https endpoint given no CA file; undefined when there
 * are none, and grpc's defaults apply.
 */
export function extraCaCredentials(): IOptions['credentials'] | undefined {
  const path = process.env['TSNET_EXTRA_CA_CERTS'];
  if (!path || process.env['NODE_EXTRA_CA_CERTS']) return undefined;
  let extra: Buffer;
  try {
    extra = readFileSync(path);
  } catch (err) {
    throw new StoreError(
      'invalid',
      'open',
      `cannot read the extra CA certificates ${path}: ${(err as Error).message}`,
    );
  }
  const { rootCertificates } = process.getBuiltinModule('node:tls');
  return { rootCertificate: Buffer.concat([Buffer.from(`${rootCertificates.join('\n')}\n`), extra]) };
}

function readTlsFiles(tls: EtcdTlsFiles): NonNullable<IOptions['credentials']> {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new StoreError(
        'invalid',
        'open',
        `cannot read etcd TLS ${what} ${path}: ${(err as Error).message}`,
      );
    }
  };
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new StoreError('invalid', 'open', 'etcd TLS client certificate and key must be given together');
  }
  return {
    rootCertificate: read('CA', tls.caFile),
    ...(tls.certFile ? { certChain: read('certificate', tls.certFile) } : {}),
    ...(tls.keyFile ? { privateKey: read('key', tls.keyFile) } : {}),
  };
}
