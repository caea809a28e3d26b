// The subnet lease manager (flannel's subnet.Manager): acquire a node subnet under a store lease, keep it
// alive (taking the same subnet back after a loss), watch every node's lease, and leave. Store outages are
// retried with capped exponential backoff; every retry is logged with its reason.
import { type Logger, silentLogger } from '../log/index.ts';
import { isStoreError, type Lease, type Store, StoreError } from '../store/index.ts';
import { DEFAULT_PREFIX, loadNetworkConfig, type NetworkConfig, SubnetSpace } from './config.ts';
import {
  encodeLeaseAttrs,
  type LeaseAttrs,
  LeaseFormatError,
  leaseFromKeyValue,
  parseSubnetKey,
  type SubnetLease,
  sameAttrs,
  subnetKey,
  subnetsPrefix,
  type VxlanBackendData,
} from './lease.ts';

export type { Logger };

export interface SubnetManagerOptions {
  store: Store;
  /** Default `/tsnet.io/network`. */
  prefix?: string;
  /** TTL of the store lease that holds the node's subnet. Default 30 s. */
  leaseTtlSeconds?: number;
  /** Renewal period. Default a third of the TTL. */
  renewIntervalMs?: number;
  logger?: Logger;
  /** Retry delays while the store is unreachable: doubles from initialMs up to maxMs. Default 200 ms .. 5 s. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Source of randomness for picking a free subnet, for tests. Default Math.random. */
  random?: () => number;
}

export interface AcquireOptions {
  /** The subnet this node had before (from its local state file): reused when still free or still ours. */
  previousSubnet?: string;
  /** Recorded in the lease, so the cluster's view names the node without asking it. */
  nodeName?: string;
  /** The network config the caller has just read (an agent's start): else it is read here. */
  config?: NetworkConfig;
  signal?: AbortSignal;
}

export interface AcquiredSubnet {
  subnet: string;
  key: string;
  attrs: LeaseAttrs;
  leaseId: string;
  ttl: number;
  config: NetworkConfig;
  /** Where the subnet came from: the caller's previous one, a lease of ours found in the store, or a free one. */
  origin: 'previous' | 'store' | 'new';
}

export class SubnetExhaustedError extends Error {
  constructor(config: NetworkConfig, count: bigint) {
    super(
      `no free subnet: all ${count} /${config.SubnetLen} subnets of ${config.Network} from ${config.SubnetMin} to ` +
        `${config.SubnetMax} are leased`,
    );
    this.name = 'SubnetExhaustedError';
  }
}

export type KeeperEvent =
  | { type: 'renewed'; ttl: number }
  /** The store says the lease or its key is gone (an unreachable store is waited out, TTL or not). */
  | { type: 'lost'; reason: string }
  /** The same subnet is held again under a new lease. */
  | { type: 'reacquired'; acquired: AcquiredSubnet }
  /** The old subnet was taken by another node meanwhile: this node now has a different one. */
  | { type: 'subnet-changed'; previous: string; acquired: AcquiredSubnet }
  | { type: 'store-error'; error: StoreError }
  /** Taking the subnet back after a loss failed; the keeper retries with backoff. */
  | { type: 'reacquire-failed'; error: Error };

export interface LeaseKeeper {
  /** The subnet held now (changes only after 'subnet-changed'). */
  current(): AcquiredSubnet;
  /** Stops renewing; the lease is left to expire (a restarted agent takes it over). */
  stop(): Promise<void>;
}

export type LeaseWatchEvent =
  /** Every lease, after the initial listing and after each resync: the caller reconciles to exactly this. */
  | { type: 'snapshot'; leases: SubnetLease[]; revision: number }
  | { type: 'added'; lease: SubnetLease }
  | { type: 'changed'; lease: SubnetLease; previous: SubnetLease }
  | { type: 'removed'; subnet: string; previous: SubnetLease };

export interface WatchLeasesOptions {
  signal?: AbortSignal;
  /** Leave this subnet (the node's own) out of every event. */
  excludeSubnet?: string;
}

export class SubnetManager {
  readonly prefix: string;
  readonly leaseTtlSeconds: number;
  private readonly store: Store;
  private readonly renewIntervalMs: number;
  private readonly log: Logger;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly random: () => number;

  constructor(options: SubnetManagerOptions) {
    this.store = options.store;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.leaseTtlSeconds = options.leaseTtlSeconds ?? 30;
    this.renewIntervalMs = options.renewIntervalMs ?? (this.leaseTtlSeconds * 1000) / 3;
    this.log = options.logger ?? silentLogger;
    this.initialBackoffMs = options.backoff?.initialMs ?? 200;
    this.maxBackoffMs = options.backoff?.maxMs ?? 5000;
    this.random = options.random ?? Math.random;
  }

  /** The network config, waiting out store outages. */
  getNetworkConfig(signal?: AbortSignal): Promise<NetworkConfig> {
    return this.retry('read network config', () => loadNetworkConfig(this.store, this.prefix), signal);
  }

  /** Every lease in the store (malformed entries are logged and skipped). */
  async listLeases(): Promise<{ leases: SubnetLease[]; revision: number }> {
    const listed = await this.store.list(subnetsPrefix(this.prefix));
    const leases: SubnetLease[] = [];
    for (const kv of listed.items) {
      const lease = this.parseLease(kv.key, () => leaseFromKeyValue(this.prefix, kv));
      if (lease) leases.push(lease);
    }
    return { leases, revision: listed.revision };
  }

  /**
   * Acquires this node's subnet: the previous one when free or still ours, else a lease of ours in the store,
   * else a random free one. Claims are compare-and-swap transactions, so two nodes never get one subnet.
   */
  async acquire(
    publicIP: string,
    backendData: VxlanBackendData,
    options: AcquireOptions = {},
  ): Promise<AcquiredSubnet> {
    const config = options.config ?? (await this.getNetworkConfig(options.signal));
    const attrs: LeaseAttrs = {
      PublicIP: publicIP,
      BackendType: 'vxlan',
      BackendData: backendData,
      ...(options.nodeName !== undefined ? { NodeName: options.nodeName } : {}),
    };
    encodeLeaseAttrs(attrs); // validates before anything is written
    return this.retry(
      'acquire subnet',
      async () => {
        // side by side: the lease the claim is written with, and the leases it must not take (a claim from
        // a stale list fails its compare and is retried)
        const [granted, listed] = await Promise.allSettled([
          this.store.grantLease(this.leaseTtlSeconds),
          this.listLeases(),
        ]);
        if (granted.status === 'rejected') throw granted.reason;
        const lease = granted.value;
        try {
          if (listed.status === 'rejected') throw listed.reason;
          const { leases } = listed.value;
          const acquired = await this.claim(config, attrs, lease, leases, options.previousSubnet);
          this.log.info(
            { subnet: acquired.subnet, origin: acquired.origin, lease: lease.id },
            'subnet acquired',
          );
          return acquired;
        } catch (err) {
          await lease.revoke().catch(() => undefined);
          throw err;
        }
      },
      options.signal,
    );
  }

  /** Keeps the lease alive; after a loss, takes the same subnet back when free (else a new one). */
  keepAlive(acquired: AcquiredSubnet, onEvent: (event: KeeperEvent) => void = () => {}): LeaseKeeper {
    let current = acquired;
    const stopper = new AbortController();
    const emit = (event: KeeperEvent): void => {
      try {
        onEvent(event);
      } catch (err) {
        this.log.error({ err }, 'lease keeper event handler failed');
      }
    };
    const loop = async (): Promise<void> => {
      let lastRenewal = Date.now();
      let lostReported = false;
      let overdueLogged = false;
      let reacquire = false;
      let delay = this.renewIntervalMs;
      let backoff = this.initialBackoffMs;
      const retryLater = (): void => {
        delay = Math.min(backoff, this.renewIntervalMs);
        backoff = Math.min(backoff * 2, this.maxBackoffMs);
      };
      while (!stopper.signal.aborted) {
        await sleep(delay, stopper.signal);
        if (stopper.signal.aborted) return;
        if (reacquire) {
          // Keep trying, whatever the error: giving up would let the node's routes expire from its peers.
          const previous = current.subnet;
          try {
            current = await this.acquire(current.attrs.PublicIP, current.attrs.BackendData, {
              previousSubnet: previous,
              ...(current.attrs.NodeName !== undefined ? { nodeName: current.attrs.NodeName } : {}),
              signal: stopper.signal,
            });
          } catch (err) {
            if (stopper.signal.aborted) return;
            const error = err instanceof Error ? err : new Error(String(err));
            emit({ type: 'reacquire-failed', error });
            this.log.error(
              { subnet: previous, reason: error.message, retryInMs: backoff },
              'taking the subnet back failed',
            );
            retryLater();
            continue;
          }
          reacquire = false;
          lastRenewal = Date.now();
          lostReported = false;
          delay = this.renewIntervalMs;
          backoff = this.initialBackoffMs;
          if (current.subnet === previous) emit({ type: 'reacquired', acquired: current });
          else {
            this.log.error({ previous, subnet: current.subnet }, 'previous subnet was taken by another node');
            emit({ type: 'subnet-changed', previous, acquired: current });
          }
          continue;
        }
        try {
          const ttl = await this.renewOnce(current);
          lastRenewal = Date.now();
          lostReported = false;
          overdueLogged = false;
          delay = this.renewIntervalMs;
          backoff = this.initialBackoffMs;
          emit({ type: 'renewed', ttl });
        } catch (err) {
          if (err instanceof LeaseLostError) {
            if (!lostReported) emit({ type: 'lost', reason: err.message });
            lostReported = true;
            this.log.warn(
              { subnet: current.subnet, reason: err.message },
              'subnet lease lost, taking it back',
            );
            await this.store
              .leaseFromId(current.leaseId, current.ttl)
              .revoke()
              .catch(() => undefined); // the old lease may hold nothing any more; let it go now, not at its TTL
            reacquire = true;
            delay = 0;
            continue;
          }
          // Any other failure is store trouble to wait out (unreachable, leader change, ...), never fatal.
          if (isStoreError(err)) emit({ type: 'store-error', error: err });
          const reason = err instanceof Error ? err.message : String(err);
          this.log.warn({ subnet: current.subnet, reason, retryInMs: backoff }, 'lease renewal failed');
          // Past the TTL with the store out of reach the subnet stays this node's: no other node can take it
          // while the store is down, and etcd extends its leases when it comes back. Withdrawing subnet.env
          // then would stop local ADDs for nothing. The store saying the lease is gone (above) is a loss.
          if (!overdueLogged && Date.now() - lastRenewal > current.ttl * 1000) {
            overdueLogged = true;
            this.log.warn(
              { subnet: current.subnet, ttl: current.ttl, reason },
              'lease not renewed for more than its TTL; the subnet is kept while the store is unreachable',
            );
          }
          retryLater();
        }
      }
    };
    const done = loop().catch((err: unknown) => {
      if (!stopper.signal.aborted) this.log.error({ err }, 'lease keeper stopped on an unexpected error');
    });
    return {
      current: () => current,
      stop: async () => {
        stopper.abort();
        await done;
      },
    };
  }

  /**
   * Every node's lease: a snapshot from a listing, then changes from a watch starting right after that
   * listing's revision (no gap). After a compaction or a lost connection, a new snapshot follows.
   */
  async *watchLeases(options: WatchLeasesOptions = {}): AsyncGenerator<LeaseWatchEvent> {
    const { signal, excludeSubnet } = options;
    while (!signal?.aborted) {
      const listed = await this.retry('list subnet leases', () => this.listLeases(), signal).catch(
        (err: unknown) => {
          if (signal?.aborted) return undefined;
          throw err;
        },
      );
      if (!listed) return;
      const known = new Map<string, SubnetLease>();
      for (const l of listed.leases) if (l.subnet !== excludeSubnet) known.set(l.subnet, l);
      yield { type: 'snapshot', leases: [...known.values()], revision: listed.revision };

      const watch = this.store.watch(subnetsPrefix(this.prefix), { fromRevision: listed.revision + 1 });
      const onAbort = (): void => watch.close();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const ev of watch) {
          if (ev.type === 'resync') {
            this.log.info({ reason: ev.reason }, 'lease watch interrupted, listing again');
            break;
          }
          const subnet = parseSubnetKey(this.prefix, ev.key);
          if (!subnet || subnet === excludeSubnet) continue;
          const previous = known.get(subnet);
          if (ev.type === 'delete') {
            if (!previous) continue;
            known.delete(subnet);
            yield { type: 'removed', subnet, previous };
            continue;
          }
          const lease = this.parseLease(ev.key, () =>
            leaseFromKeyValue(this.prefix, {
              key: ev.key,
              value: ev.value,
              createRevision: ev.createRevision,
              modRevision: ev.modRevision,
              ...(ev.lease !== undefined ? { lease: ev.lease } : {}),
            }),
          );
          if (!lease) continue;
          known.set(subnet, lease);
          if (!previous) yield { type: 'added', lease };
          else if (!sameAttrs(previous.attrs, lease.attrs)) yield { type: 'changed', lease, previous };
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
        watch.close();
      }
    }
  }

  /** Deletes this node's lease (decommission) so peers drop it; true when it was deleted. */
  async leave(acquired: AcquiredSubnet, keeper?: LeaseKeeper): Promise<boolean> {
    await keeper?.stop();
    const held = keeper?.current() ?? acquired;
    const kv = await this.store.get(held.key);
    let deleted = false;
    if (kv) {
      const lease = this.parseLease(kv.key, () => leaseFromKeyValue(this.prefix, kv));
      if (lease?.attrs.PublicIP === held.attrs.PublicIP)
        deleted = await this.store.compareAndDelete(kv.key, kv.modRevision);
    }
    await this.store.leaseFromId(held.leaseId, held.ttl).revoke();
    this.log.info({ subnet: held.subnet, deleted }, 'left the network');
    return deleted;
  }

  private async claim(
    config: NetworkConfig,
    attrs: LeaseAttrs,
    lease: Lease,
    leases: readonly SubnetLease[],
    previousSubnet: string | undefined,
  ): Promise<AcquiredSubnet> {
    const space = new SubnetSpace(config);
    const value = encodeLeaseAttrs(attrs);
    const result = (subnet: string, origin: AcquiredSubnet['origin']): AcquiredSubnet => ({
      subnet,
      key: subnetKey(this.prefix, subnet),
      attrs,
      leaseId: lease.id,
      ttl: lease.ttl,
      config,
      origin,
    });
    const bySubnet = new Map(leases.map((l) => [l.subnet, l]));

    if (previousSubnet !== undefined) {
      if (space.indexOf(previousSubnet) === undefined) {
        this.log.warn(
          { previousSubnet, network: config.Network },
          'previous subnet is outside the configured range',
        );
      } else if (await this.claimOne(previousSubnet, bySubnet.get(previousSubnet), attrs, value, lease)) {
        return result(previousSubnet, 'previous');
      }
    }
    const ours = leases.find(
      (l) => l.attrs.PublicIP === attrs.PublicIP && space.indexOf(l.subnet) !== undefined,
    );
    if (ours && (await this.claimOne(ours.subnet, ours, attrs, value, lease)))
      return result(ours.subnet, 'store');

    const taken = new Set<bigint>();
    for (const l of leases) {
      const i = space.indexOf(l.subnet);
      if (i !== undefined) taken.add(i);
    }
    for (;;) {
      const index = this.pickFree(space, taken);
      if (index === undefined) throw new SubnetExhaustedError(config, space.count);
      const subnet = space.nth(index);
      if (await this.store.createIfAbsent(subnetKey(this.prefix, subnet), value, { lease: lease.id })) {
        return result(subnet, 'new');
      }
      this.log.debug({ subnet }, 'subnet claimed by another node first, trying another');
      taken.add(index);
    }
  }

  /** Claims one subnet when it is free or already this node's (same PublicIP); false when another node has it. */
  private async claimOne(
    subnet: string,
    existing: SubnetLease | undefined,
    attrs: LeaseAttrs,
    value: string,
    lease: Lease,
  ): Promise<boolean> {
    const key = subnetKey(this.prefix, subnet);
    if (!existing) return this.store.createIfAbsent(key, value, { lease: lease.id });
    if (existing.attrs.PublicIP !== attrs.PublicIP) return false;
    return this.store.compareAndSwap(key, existing.modRevision, value, { lease: lease.id });
  }

  /** A random free index: random probes while the space is sparse, then a scan from a random start. */
  private pickFree(space: SubnetSpace, taken: Set<bigint>): bigint | undefined {
    if (BigInt(taken.size) >= space.count) return undefined;
    const randomIndex = (): bigint => BigInt(Math.floor(this.random() * Number(space.count))) % space.count;
    for (let i = 0; i < 32; i++) {
      const index = randomIndex();
      if (!taken.has(index)) return index;
    }
    // Dense: taken.size is close to count, so this loop is bounded by the number of leases.
    const start = randomIndex();
    for (let i = 0n; i < space.count; i++) {
      const index = (start + i) % space.count;
      if (!taken.has(index)) return index;
    }
    return undefined;
  }

  /** One renewal: keeps the lease alive and checks that the key is still bound to it. */
  private async renewOnce(held: AcquiredSubnet): Promise<number> {
    let ttl: number;
    try {
      ttl = await this.store.leaseFromId(held.leaseId, held.ttl).keepAliveOnce();
    } catch (err) {
      if (isStoreError(err, 'lease-not-found')) throw new LeaseLostError(`lease ${held.leaseId} expired`);
      throw err;
    }
    const kv = await this.store.get(held.key);
    if (!kv) throw new LeaseLostError(`lease key ${held.key} was deleted`);
    if (kv.lease !== held.leaseId)
      throw new LeaseLostError(`lease key ${held.key} is now held under another lease`);
    return ttl;
  }

  private parseLease(key: string, parse: () => SubnetLease): SubnetLease | undefined {
    try {
      return parse();
    } catch (err) {
      if (err instanceof LeaseFormatError) {
        this.log.warn({ key, reason: err.message }, 'ignoring malformed subnet lease');
        return undefined;
      }
      throw err;
    }
  }

  /** Runs `fn`, retrying while the store is unreachable, with capped exponential backoff and a log line each time. */
  private async retry<T>(what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let delay = this.initialBackoffMs;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new StoreError('closed', what, 'aborted');
      try {
        return await fn();
      } catch (err) {
        if (!isStoreError(err, 'unreachable')) throw err;
        this.log.warn(
          { reason: err.message, attempt, retryInMs: delay },
          `${what}: store unreachable, retrying`,
        );
        await sleep(delay, signal);
        delay = Math.min(delay * 2, this.maxBackoffMs);
      }
    }
  }
}

class LeaseLostError extends Error {}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
