// The node's data plane, the way flannel's daemon wires a subnet manager to a backend: the VXLAN overlay
// programmed with every peer lease (and kept converged: peer watch, drift repair), masquerade of traffic
// leaving the cluster network, and subnet.env, which tells the node's CNI plugins that pods may get addresses.
// Stopping leaves the data plane and subnet.env as they are, so a restart disrupts no traffic.
import { setTimeout as sleep } from 'node:timers/promises';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log/index.ts';
import { ensureMasquerade } from '../nft/index.ts';
import { Overlay, type OverlayStats, peerFromLease } from '../overlay/index.ts';
import { isStoreError } from '../store/index.ts';
import {
  gatewayForm,
  readSubnetEnv,
  removeSubnetEnv,
  type SubnetEnv,
  subnetFromGatewayForm,
  writeSubnetEnv,
} from '../subnet/env.ts';
import type { KeeperEvent, LeaseWatchEvent } from '../subnet/manager.ts';
import type { Service, ServiceHealth, StartContext, StopOptions } from './service.ts';
import type { StoreService } from './store.ts';
import type { SubnetLeaseService } from './subnet-lease.ts';

const NODE_NETNS = '/proc/self/ns/net';
const MASQUERADE_NETWORK = 'tsnet-overlay';
/** Lease events handed to the overlay and not yet programmed, before the watch waits for them. */
const MAX_UNAPPLIED = 1024;

export interface OverlayServiceOptions {
  readonly lease: SubnetLeaseService;
  /** Counts failed lease watches. */
  readonly store: StoreService;
  readonly vxlanName: string;
  readonly reconcileIntervalSeconds: number;
  readonly masquerade: boolean;
  readonly subnetFile: string;
}

export class OverlayService implements Service {
  readonly name = 'overlay';
  readonly dependsOn: readonly Service[];
  private readonly opts: OverlayServiceOptions;
  private readonly abort = new AbortController();
  private log: Logger | undefined;
  private overlay: Overlay | undefined;
  private watchLoop: Promise<void> | undefined;
  private subnetEnv: SubnetEnv | undefined;
  /** True while subnet.env is written: the node serves pods. */
  private published = false;
  private stopped = false;
  /** Settles once a standby node has joined and the data plane is up (or failed). */
  private joined: Promise<void> | undefined;

  constructor(opts: OverlayServiceOptions) {
    this.opts = opts;
    this.dependsOn = [opts.lease, opts.store];
  }

  registerMetrics(registry: Registry): void {
    const registers = [registry];
    const stats = (): OverlayStats | undefined => this.overlay?.stats();
    const peerCount = () => this.overlay?.peers().length ?? 0;
    new Gauge({
      name: 'tsnet_peers',
      help: 'Remote nodes programmed on the overlay',
      registers,
      collect() {
        this.set(peerCount());
      },
    });
    const repairs = new Gauge({
      name: 'tsnet_reconcile_repairs_total',
      help: 'Overlay entries repaired by drift reconciliation (added, fixed, removed) since start',
      labelNames: ['action'] as const,
      registers,
      collect() {
        const s = stats();
        if (!s) return;
        repairs.set({ action: 'added' }, s.repairs.added);
        repairs.set({ action: 'fixed' }, s.repairs.fixed);
        repairs.set({ action: 'removed' }, s.repairs.removed);
      },
    });
    for (const [name, help, pick] of [
      ['tsnet_reconciles_total', 'Overlay reconcile passes since start', (s: OverlayStats) => s.reconciles],
      ['tsnet_vtep_repairs_total', 'VTEP device corrections since start', (s: OverlayStats) => s.vtepRepairs],
      [
        'tsnet_overlay_failures_total',
        'Kernel operations refused during reconcile passes',
        (s: OverlayStats) => s.failures,
      ],
      ['tsnet_netlink_resyncs_total', 'Netlink event stream resyncs', (s: OverlayStats) => s.resyncs],
    ] as const) {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const s = stats();
          this.set(s ? pick(s) : 0);
        },
      });
    }
  }

  /**
   * Programs the overlay with the current peers, masquerades, then writes subnet.env (the node is ready) and
   * follows the peer watch and the lease.
   */
  async start(ctx: StartContext): Promise<void> {
    this.log = ctx.log;
    const { lease } = this.opts;
    if (!lease.inStandby) return this.startDataPlane(ctx);
    // A single node: the overlay comes up when the node joins a cluster (a network config appears).
    this.joined = new Promise<void>((resolve) =>
      lease.whenJoined(() => {
        if (this.stopped) return resolve();
        this.startDataPlane(ctx).then(resolve, (err: unknown) => {
          ctx.log.error({ err: (err as Error).message }, 'the overlay failed to start after joining');
          ctx.fatal(`overlay: ${(err as Error).message}`);
          resolve();
        });
      }),
    );
  }

  private async startDataPlane(ctx: StartContext): Promise<void> {
    const { lease, subnetFile } = this.opts;
    const { manager, config, acquired, vtepMac, publicIp } = lease.lease;
    lease.onEvent((e) => this.onLeaseEvent(e));
    this.withdrawStaleSubnetEnv(acquired.subnet);
    const signal = AbortSignal.any([ctx.signal, this.abort.signal]);

    // Peers first, then the overlay: starting with an empty peer set would drop every route for a moment.
    const watch = manager.watchLeases({ signal, excludeSubnet: acquired.subnet });
    const first = await watch.next();
    const overlay = new Overlay(undefined, {
      name: this.opts.vxlanName,
      vni: config.Backend.VNI,
      port: config.Backend.Port,
      localIp: publicIp,
      mac: vtepMac,
      subnet: acquired.subnet,
      reconcileIntervalMs: this.opts.reconcileIntervalSeconds * 1000,
      logger: ctx.log,
      hooks: {
        // Passes with changes are logged by the overlay itself; here only what the node's pods must learn.
        onReconcile: (_report, _trigger, vtepChanges) => {
          if (vtepChanges.length > 0) this.followVtepMtu();
        },
        onError: (error, context) => ctx.log.warn({ err: error.message, context }, 'overlay error'),
      },
    });
    if (!first.done) await this.applyLeaseEvent(overlay, first.value, true);
    await overlay.start();
    this.overlay = overlay;

    if (this.opts.masquerade) {
      await ensureMasquerade(NODE_NETNS, {
        network: MASQUERADE_NETWORK,
        subnet: acquired.subnet,
        excludeDestinations: [config.Network],
      });
    }
    this.subnetEnv = {
      network: config.Network,
      subnet: gatewayForm(acquired.subnet),
      mtu: overlay.vtep.mtu,
      ipMasq: this.opts.masquerade,
    };
    // A lease lost meanwhile: subnet.env waits until the subnet is ours again.
    if (lease.holdsSubnet) this.publish();
    ctx.log.info(
      { subnetFile, mtu: overlay.vtep.mtu, vtep: overlay.vtep.name, ready: this.published },
      'node ready',
    );
    this.watchLoop = this.consumeWatch(overlay, watch, signal);
  }

  /** A subnet.env a previous run left for another subnet must not hand out addresses while the overlay starts. */
  private withdrawStaleSubnetEnv(subnet: string): void {
    const env = readSubnetEnv(this.opts.subnetFile);
    if (env && subnetFromGatewayForm(env.subnet) !== subnet) removeSubnetEnv(this.opts.subnetFile);
  }

  private publish(): void {
    if (!this.subnetEnv || this.stopped) return;
    writeSubnetEnv(this.opts.subnetFile, this.subnetEnv);
    this.published = true;
  }

  private withdraw(): void {
    this.published = false;
    removeSubnetEnv(this.opts.subnetFile);
  }

  private onLeaseEvent(e: KeeperEvent): void {
    if (this.stopped) return;
    switch (e.type) {
      case 'renewed':
        if (this.published || !this.subnetEnv) return;
        // Renewed after an outage longer than the TTL: the lease survived, the subnet is still ours.
        this.publish();
        this.log?.info(
          { subnet: this.opts.lease.lease.acquired.subnet },
          'lease renewed after an outage; subnet.env restored',
        );
        return;
      case 'reacquired':
        this.publish();
        if (this.published) this.log?.info({ subnet: e.acquired.subnet }, 'subnet.env restored');
        return;
      case 'lost':
        // Until the subnet is ours again no pod may get an address from it: CNI answers "try again later".
        this.withdraw();
        this.log?.warn({ reason: e.reason }, 'subnet.env withdrawn while the lease is taken back');
        return;
      case 'subnet-changed':
        // The node must not hand out addresses from a subnet that is another node's now.
        this.withdraw();
        return;
      case 'store-error':
      case 'reacquire-failed':
        return;
    }
  }

  /** The underlay MTU changed and the VTEP followed: new pods get the new MTU through subnet.env. */
  private followVtepMtu(): void {
    const mtu = this.overlay?.vtep.mtu;
    if (!this.subnetEnv || mtu === undefined || mtu === this.subnetEnv.mtu) return;
    this.log?.info({ from: this.subnetEnv.mtu, to: mtu }, 'overlay MTU changed; subnet.env updated');
    this.subnetEnv = { ...this.subnetEnv, mtu };
    if (this.published) this.publish();
  }

  private async applyLeaseEvent(overlay: Overlay, e: LeaseWatchEvent, initial = false): Promise<void> {
    switch (e.type) {
      case 'snapshot':
        await overlay.setPeers(e.leases.map(peerFromLease));
        this.log?.info({ peers: e.leases.length, revision: e.revision, initial }, 'peers synchronised');
        return;
      case 'added':
      case 'changed':
        await overlay.upsertPeer(peerFromLease(e.lease));
        this.log?.info(
          { subnet: e.lease.subnet, publicIp: e.lease.attrs.PublicIP, event: e.type },
          'peer programmed',
        );
        return;
      case 'removed':
        await overlay.removePeer(e.subnet);
        this.log?.info({ subnet: e.subnet }, 'peer removed');
        return;
    }
  }

  private async consumeWatch(
    overlay: Overlay,
    watch: AsyncGenerator<LeaseWatchEvent>,
    signal: AbortSignal,
  ): Promise<void> {
    let current = watch;
    // Events are applied without waiting for the kernel one by one: the overlay keeps their order and programs
    // a burst (many leases written at once) in one netlink batch. At most MAX_UNAPPLIED wait at a time.
    const unapplied = new Set<Promise<void>>();
    while (!signal.aborted) {
      try {
        for await (const e of current) {
          if (signal.aborted) return;
          const applied = this.applyLeaseEvent(overlay, e).catch((err: unknown) =>
            this.log?.warn(
              { err: (err as Error).message, event: e.type },
              'peer update failed; the reconciler retries',
            ),
          );
          unapplied.add(applied);
          void applied.finally(() => unapplied.delete(applied));
          if (unapplied.size >= MAX_UNAPPLIED) await Promise.all(unapplied);
        }
      } catch (err) {
        if (signal.aborted) return;
        if (isStoreError(err)) this.opts.store.countError('watch');
        this.log?.warn({ err: (err as Error).message }, 'lease watch failed; watching again');
        await sleep(1000, undefined, { signal }).catch(() => undefined);
      }
      if (signal.aborted) return;
      const { manager, acquired } = this.opts.lease.lease;
      current = manager.watchLeases({ signal, excludeSubnet: acquired.subnet });
    }
  }

  /**
   * Stops the watch and the reconciler. The device, routes, neighbours, FDB and subnet.env stay: pods keep
   * their connectivity across a restart. With `leave`, subnet.env goes first: no new pod gets an address from
   * a subnet the node gives back.
   */
  async stop(options: StopOptions): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    if (options.leave) this.withdraw();
    // Still a single node: nothing was brought up. Joined: a data plane coming up is finished before closing.
    if (this.opts.lease.inStandby) return;
    await this.joined;
    await this.watchLoop?.catch(() => undefined);
    await this.overlay?.close();
  }

  health(): ServiceHealth {
    if (this.opts.lease.inStandby && !this.stopped)
      return { ready: true, standby: 'until the node joins a cluster' };
    return {
      ready: this.published && !this.stopped,
      peers: this.overlay?.peers().length ?? 0,
      vtep: this.overlay ? { name: this.overlay.vtep.name, mtu: this.overlay.vtep.mtu } : undefined,
    };
  }
}
