// The node's subnet lease: waits for the cluster network config, takes back the subnet of the previous run (or
// a new one), records it locally, and keeps the lease alive. Other services follow its events; a subnet taken
// by another node is fatal.
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log/index.ts';
import { stableVtepMac } from '../overlay/index.ts';
import type { NetworkConfig } from '../subnet/config.ts';
import { type AcquiredSubnet, type KeeperEvent, type LeaseKeeper, SubnetManager } from '../subnet/manager.ts';
import { defaultRouteAddress } from './public-ip.ts';
import type { Service, ServiceHealth, StartContext, StopOptions } from './service.ts';
import { readLocalState, removeLocalState, writeLocalState } from './state.ts';
import type { StoreService } from './store.ts';

export interface SubnetLeaseOptions {
  readonly store: StoreService;
  readonly prefix: string;
  readonly leaseTtlSeconds: number;
  readonly nodeName: string;
  /** The address peers reach the node at; undefined: the default route's interface address. */
  readonly publicIp: string | undefined;
  /** Where the subnet held is recorded, so a restart (or a reboot) takes the same one back. */
  readonly dataDir: string;
  /**
   * Without a cluster network config, start at once and join when one appears (a single node with the
   * embedded store); otherwise start() waits for the config.
   */
  readonly standbyWithoutConfig?: boolean;
}

/** The lease as the services that build on it see it, from start() on. */
export interface HeldLease {
  readonly manager: SubnetManager;
  readonly config: NetworkConfig;
  readonly acquired: AcquiredSubnet;
  readonly vtepMac: string;
  readonly publicIp: string;
}

const CONFIG_POLL_MS = 2000;

export class SubnetLeaseService implements Service {
  readonly name = 'subnet-lease';
  readonly dependsOn: readonly Service[];
  private readonly opts: SubnetLeaseOptions;
  private readonly listeners: ((event: KeeperEvent) => void)[] = [];
  private log: Logger | undefined;
  private fatal: (reason: string) => void = () => undefined;
  private held: HeldLease | undefined;
  private keeper: LeaseKeeper | undefined;
  private lastRenewal = 0;
  /** False from a 'lost' until the subnet is ours again. */
  private holding = false;
  private events: Counter<'event'> | undefined;
  /** Waiting for a cluster network config before taking a lease (single node). */
  private standby = false;
  private readonly joinListeners: ((lease: HeldLease) => void)[] = [];
  private joining: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(opts: SubnetLeaseOptions) {
    this.opts = opts;
    this.dependsOn = [opts.store];
  }

  registerMetrics(registry: Registry): void {
    const registers = [registry];
    const expiresIn = () => this.expiresInSeconds();
    new Gauge({
      name: 'tsnet_lease_expiry_seconds',
      help: 'Seconds until the node subnet lease expires unless renewed',
      registers,
      collect() {
        const s = expiresIn();
        if (s !== undefined) this.set(Math.max(0, s));
      },
    });
    this.events = new Counter({
      name: 'tsnet_lease_events_total',
      help: 'Lease keeper events (renewed, lost, reacquired, subnet-changed, store-error)',
      labelNames: ['event'] as const,
      registers,
    });
  }

  /** Follows the keeper's events (after this service has handled each). */
  onEvent(listener: (event: KeeperEvent) => void): void {
    this.listeners.push(listener);
  }

  /** The lease held; only for services that depend on this one, from their start() on. */
  get lease(): HeldLease {
    if (!this.held)
      throw new Error('no subnet lease yet (a service must depend on the subnet-lease service)');
    return this.held;
  }

  /** True while the subnet is this node's: pods may get addresses from it. */
  get holdsSubnet(): boolean {
    return this.holding;
  }

  /** True while the node waits for a cluster network config (it serves the runtime meanwhile). */
  get inStandby(): boolean {
    return this.standby;
  }

  /** Calls `fn` once the lease is held: now, or when a standby node joins. */
  whenJoined(fn: (lease: HeldLease) => void): void {
    if (this.held) fn(this.held);
    else this.joinListeners.push(fn);
  }

  async start(ctx: StartContext): Promise<void> {
    this.log = ctx.log;
    this.fatal = ctx.fatal;
    const { store, prefix, leaseTtlSeconds } = this.opts;
    const manager = new SubnetManager({ store: store.store, prefix, leaseTtlSeconds, logger: ctx.log });
    const signal = AbortSignal.any([ctx.signal, this.abort.signal]);
    if (this.opts.standbyWithoutConfig) {
      const config = await manager.getNetworkConfig(signal).catch(() => undefined);
      if (!config) {
        this.standby = true;
        ctx.log.info(
          { prefix },
          'no cluster network config: a single node until one exists (tsnet-agent init-network)',
        );
        this.joining = this.joinWhenConfigured(ctx, manager, signal);
        return;
      }
      return this.take(ctx, manager, config, signal);
    }
    return this.take(ctx, manager, await this.waitForNetworkConfig(manager, signal), signal);
  }

  private async joinWhenConfigured(
    ctx: StartContext,
    manager: SubnetManager,
    signal: AbortSignal,
  ): Promise<void> {
    try {
      let config: NetworkConfig | undefined;
      while (!config) {
        await sleep(CONFIG_POLL_MS, undefined, { signal });
        config = await manager.getNetworkConfig(signal).catch(() => undefined);
      }
      await this.take(ctx, manager, config, signal);
      this.standby = false;
      ctx.log.info({ subnet: this.held?.acquired.subnet }, 'cluster network config found: node joined');
      for (const fn of this.joinListeners.splice(0)) fn(this.held as HeldLease);
    } catch (err) {
      if (signal.aborted) return;
      ctx.log.error({ err: (err as Error).message }, 'joining the cluster failed');
      ctx.fatal(`joining the cluster failed: ${(err as Error).message}`);
    }
  }

  /** Takes the subnet of the previous run (or a new one), records it, and keeps the lease alive. */
  private async take(
    ctx: StartContext,
    manager: SubnetManager,
    config: NetworkConfig,
    signal: AbortSignal,
  ): Promise<void> {
    const { nodeName, dataDir } = this.opts;
    const publicIp = this.opts.publicIp ?? (await defaultRouteAddress());
    if (!publicIp) throw new Error('no --public-ip given and no default route to take the node address from');
    const previous = readLocalState(dataDir);
    const vtepMac = previous?.vtepMac ?? stableVtepMac(`${nodeName}/${config.Network}`);
    const acquired = await manager.acquire(
      publicIp,
      { VtepMAC: vtepMac },
      { previousSubnet: previous?.subnet, nodeName, config, signal },
    );
    this.held = { manager, config, acquired, vtepMac, publicIp };
    this.holding = true;
    this.lastRenewal = Date.now();
    writeLocalState(dataDir, { subnet: acquired.subnet, publicIp, vtepMac });
    ctx.log.info({ subnet: acquired.subnet, origin: acquired.origin, vtepMac, publicIp }, 'subnet acquired');
    this.keeper = manager.keepAlive(acquired, (e) => this.onKeeperEvent(e));
  }

  private async waitForNetworkConfig(manager: SubnetManager, signal: AbortSignal): Promise<NetworkConfig> {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        return await manager.getNetworkConfig(signal);
      } catch (err) {
        if (signal.aborted) throw err;
        this.log?.warn(
          { err: (err as Error).message, prefix: this.opts.prefix, retryInMs: delay },
          'network config not available (run tsnet-agent init-network); retrying',
        );
        await sleep(delay, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  private onKeeperEvent(e: KeeperEvent): void {
    this.events?.inc({ event: e.type });
    const held = this.held;
    switch (e.type) {
      case 'renewed':
        this.lastRenewal = Date.now();
        this.holding = true;
        break;
      case 'store-error':
        this.opts.store.countError('lease-renew');
        this.log?.warn({ err: e.error.message, kind: e.error.kind }, 'lease renewal failed; retrying');
        break;
      case 'lost':
        this.holding = false;
        this.log?.warn({ reason: e.reason }, 'lease lost; taking the subnet back');
        break;
      case 'reacquire-failed':
        this.opts.store.countError('lease-reacquire');
        break;
      case 'reacquired':
        if (held) this.held = { ...held, acquired: e.acquired };
        this.lastRenewal = Date.now();
        this.holding = true;
        this.log?.info({ subnet: e.acquired.subnet }, 'subnet lease taken back');
        break;
      case 'subnet-changed':
        // The node's pods live in the old subnet, now another node's. The new subnet is recorded; a restart
        // (with the pods) brings the node up on it.
        this.holding = false;
        writeLocalState(this.opts.dataDir, {
          subnet: e.acquired.subnet,
          publicIp: e.acquired.attrs.PublicIP,
          vtepMac: e.acquired.attrs.BackendData.VtepMAC,
        });
        this.log?.error(
          { previous: e.previous, subnet: e.acquired.subnet },
          'subnet taken by another node; stopping',
        );
        break;
    }
    for (const listener of this.listeners) listener(e);
    if (e.type === 'subnet-changed') this.fatal('subnet taken by another node');
  }

  private expiresInSeconds(): number | undefined {
    const acquired = this.held?.acquired;
    return acquired ? acquired.ttl - (Date.now() - this.lastRenewal) / 1000 : undefined;
  }

  /**
   * Stops renewing: the lease is left to expire or to be renewed by the next start. With `leave`, the lease is
   * deleted so peers drop the node, and the local record goes.
   */
  async stop(options: StopOptions): Promise<void> {
    this.abort.abort();
    await this.joining;
    const held = this.held;
    if (!options.leave || !held) {
      await this.keeper?.stop();
      return;
    }
    try {
      const left = await held.manager.leave(held.acquired, this.keeper);
      this.log?.info({ subnet: held.acquired.subnet, left }, 'node left the cluster');
      removeLocalState(this.opts.dataDir);
    } catch (err) {
      this.log?.error({ err: (err as Error).message }, 'leave failed: the lease will expire after its TTL');
    }
  }

  health(): ServiceHealth {
    const expires = this.expiresInSeconds();
    if (this.standby) return { ready: true, standby: 'single node: no cluster network config yet' };
    return {
      ready: this.holding,
      subnet: this.held?.acquired.subnet,
      leaseExpiresInSeconds: expires === undefined ? undefined : Math.round(expires),
    };
  }
}
