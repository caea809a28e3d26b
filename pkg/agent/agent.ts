// tsnet-agent: wires the subnet lease manager (store) to the VXLAN overlay (kernel), the way flannel's daemon
// wires a subnet manager to a backend, and keeps both converged: lease renewal, peer watch, drift repair.
// Stopping leaves the data plane and the lease as they are, so a restart disrupts no traffic.
import type { FastifyInstance } from 'fastify';
import { tsnetBridge } from '../bridge/plugin.ts';
import { type CniServer, startCniServer } from '../cni/server.ts';
import type { CniPlugin } from '../cni/skel.ts';
import { tsnetIpam } from '../ipam/plugin.ts';
import { ensureMasquerade } from '../nft/index.ts';
import { Overlay, peerFromLease, stableVtepMac } from '../overlay/index.ts';
import { isStoreError, openStore, type Store } from '../store/index.ts';
import type { NetworkConfig } from '../subnet/config.ts';
import { gatewayForm, removeSubnetEnv, type SubnetEnv, writeSubnetEnv } from '../subnet/env.ts';
import {
  type AcquiredSubnet,
  type KeeperEvent,
  type LeaseKeeper,
  type LeaseWatchEvent,
  type Logger,
  SubnetManager,
} from '../subnet/manager.ts';
import { tsnetVxlan } from '../vxlan/plugin.ts';
import { startHttpServer } from './http.ts';
import { AgentMetrics } from './metrics.ts';
import type { AgentOptions } from './options.ts';
import { readLocalState, removeLocalState, writeLocalState } from './state.ts';

const NODE_NETNS = '/proc/self/ns/net';
const MASQUERADE_NETWORK = 'tsnet-overlay';
/** The plugins the agent serves on its CNI socket, by type. */
const SERVED_PLUGINS: ReadonlyMap<string, CniPlugin> = new Map(
  [tsnetBridge, tsnetVxlan, tsnetIpam].map((p) => [p.name, p]),
);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

export class Agent {
  private readonly opts: AgentOptions;
  private readonly log: Logger;
  private readonly onFatal: (reason: string) => void;
  private readonly abort = new AbortController();
  private store: Store | undefined;
  private manager: SubnetManager | undefined;
  private acquired: AcquiredSubnet | undefined;
  private keeper: LeaseKeeper | undefined;
  private overlay: Overlay | undefined;
  private http: FastifyInstance | undefined;
  private cni: CniServer | undefined;
  private watchLoop: Promise<void> | undefined;
  private lastRenewal = 0;
  /** Set once subnet.env is written: from then on the node can serve pods. */
  private ready = false;
  private subnetEnv: SubnetEnv | undefined;
  private stopped = false;
  readonly metrics: AgentMetrics;

  /** `onFatal`: the agent cannot go on (its subnet went to another node); the caller stops and exits. */
  constructor(opts: AgentOptions, log: Logger, onFatal: (reason: string) => void = () => undefined) {
    this.opts = opts;
    this.log = log;
    this.onFatal = onFatal;
    this.metrics = new AgentMetrics({
      leaseExpiresInSeconds: () =>
        this.acquired ? Math.max(0, this.acquired.ttl - (Date.now() - this.lastRenewal) / 1000) : undefined,
      overlayStats: () => this.overlay?.stats(),
      peerCount: () => this.overlay?.peers().length ?? 0,
    });
  }

  /** The subnet held, once start() has acquired one. */
  get subnet(): string | undefined {
    return this.acquired?.subnet;
  }

  /**
   * Brings the node up: HTTP server, store, network config, subnet lease, overlay with the current peers,
   * masquerade, subnet.env, then renewal and the peer watch. Resolves once the node serves pods.
   */
  async start(): Promise<void> {
    const signal = this.abort.signal;
    if (this.opts.http) {
      this.http = await startHttpServer(this.opts.http, () => this.health(), this.metrics.registry);
      this.log.info({ listen: this.opts.http }, 'http server listening');
    }
    if (this.opts.cniSocket) {
      // Served from the start: before subnet.env exists tsnet-vxlan answers "try again later" either way.
      this.cni = await startCniServer(this.opts.cniSocket, {
        plugins: SERVED_PLUGINS,
        onServed: (plugin, command, out) =>
          this.metrics.cniRequests.inc({ plugin, command, result: out.exitCode === 0 ? 'ok' : 'error' }),
      });
      this.log.info({ socket: this.opts.cniSocket }, 'serving CNI plugins');
    }
    this.store = await openStore({
      etcd: this.opts.etcd ? { ...this.opts.etcd, keyPrefix: '' } : undefined,
      embedded: { dataDir: this.opts.dataDir },
    });
    this.log.info({ store: this.store.kind, location: this.store.location }, 'store opened');
    const manager = new SubnetManager({
      store: this.store,
      prefix: this.opts.prefix,
      leaseTtlSeconds: this.opts.leaseTtlSeconds,
      logger: this.log,
    });
    this.manager = manager;

    const config = await this.waitForNetworkConfig(manager, signal);
    const previous = readLocalState(this.opts.dataDir);
    const vtepMac = previous?.vtepMac ?? stableVtepMac(`${this.opts.nodeName}/${config.Network}`);
    const acquired = await manager.acquire(
      this.opts.publicIp,
      { VtepMAC: vtepMac },
      { previousSubnet: previous?.subnet, signal },
    );
    this.acquired = acquired;
    this.lastRenewal = Date.now();
    // A subnet.env left by the previous run names the old subnet: withdrawn until the new one is written.
    if (acquired.subnet !== previous?.subnet) removeSubnetEnv(this.opts.subnetFile);
    writeLocalState(this.opts.dataDir, { subnet: acquired.subnet, publicIp: this.opts.publicIp, vtepMac });
    this.log.info({ subnet: acquired.subnet, origin: acquired.origin, vtepMac }, 'subnet acquired');

    // Peers first, then the overlay: starting with an empty peer set would drop every route for a moment.
    const watch = manager.watchLeases({ signal, excludeSubnet: acquired.subnet });
    const first = await watch.next();
    const overlay = new Overlay(undefined, {
      name: this.opts.vxlanName,
      vni: config.Backend.VNI,
      port: config.Backend.Port,
      localIp: this.opts.publicIp,
      mac: vtepMac,
      subnet: acquired.subnet,
      reconcileIntervalMs: this.opts.reconcileIntervalSeconds * 1000,
      logger: this.log,
      hooks: {
        // Passes with changes are logged by the overlay itself; here only what the node's pods must learn.
        onReconcile: (_report, _trigger, vtepChanges) => {
          if (vtepChanges.length > 0) this.followVtepMtu();
        },
        onError: (error, context) => this.log.warn({ err: error.message, context }, 'overlay error'),
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
    writeSubnetEnv(this.opts.subnetFile, this.subnetEnv);
    this.ready = true;
    this.log.info(
      { subnetFile: this.opts.subnetFile, mtu: overlay.vtep.mtu, vtep: overlay.vtep.name },
      'node ready',
    );

    this.keeper = manager.keepAlive(acquired, (e) => this.onKeeperEvent(e));
    this.watchLoop = this.consumeWatch(overlay, watch, signal);
  }

  private async waitForNetworkConfig(manager: SubnetManager, signal: AbortSignal): Promise<NetworkConfig> {
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        return await manager.getNetworkConfig(signal);
      } catch (err) {
        if (signal.aborted) throw err;
        this.log.warn(
          { err: (err as Error).message, prefix: this.opts.prefix, retryInMs: delay },
          'network config not available (run tsnet-agent init-network); retrying',
        );
        await sleep(delay, signal);
      }
    }
  }

  /** The underlay MTU changed and the VTEP followed: new pods get the new MTU through subnet.env. */
  private followVtepMtu(): void {
    const mtu = this.overlay?.vtep.mtu;
    if (!this.subnetEnv || mtu === undefined || mtu === this.subnetEnv.mtu) return;
    this.log.info({ from: this.subnetEnv.mtu, to: mtu }, 'overlay MTU changed; subnet.env updated');
    this.subnetEnv = { ...this.subnetEnv, mtu };
    if (this.ready) writeSubnetEnv(this.opts.subnetFile, this.subnetEnv);
  }

  private onKeeperEvent(e: KeeperEvent): void {
    this.metrics.leaseEvents.inc({ event: e.type });
    switch (e.type) {
      case 'renewed':
        this.lastRenewal = Date.now();
        if (!this.ready && this.subnetEnv && !this.stopped) {
          // Renewed after an outage longer than the TTL: the lease survived, the subnet is still ours.
          writeSubnetEnv(this.opts.subnetFile, this.subnetEnv);
          this.ready = true;
          this.log.info(
            { subnet: this.acquired?.subnet },
            'lease renewed after an outage; subnet.env restored',
          );
        }
        return;
      case 'store-error':
        this.metrics.storeErrors.inc({ operation: 'lease-renew' });
        this.log.warn({ err: e.error.message, kind: e.error.kind }, 'lease renewal failed; retrying');
        return;
      case 'lost':
        // Until the subnet is ours again no pod may get an address from it: CNI answers "try again later".
        this.ready = false;
        removeSubnetEnv(this.opts.subnetFile);
        this.log.warn({ reason: e.reason }, 'lease lost; subnet.env withdrawn while taking the subnet back');
        return;
      case 'reacquire-failed':
        this.metrics.storeErrors.inc({ operation: 'lease-reacquire' });
        return;
      case 'reacquired':
        this.acquired = e.acquired;
        this.lastRenewal = Date.now();
        if (this.subnetEnv) writeSubnetEnv(this.opts.subnetFile, this.subnetEnv);
        this.ready = !this.stopped;
        this.log.info({ subnet: e.acquired.subnet }, 'subnet lease taken back; subnet.env restored');
        return;
      case 'subnet-changed':
        // The node's pods live in the old subnet, now another node's: this node must not hand out addresses
        // from it. The new subnet is recorded; a restart (with the pods) brings the node up on it.
        this.ready = false;
        removeSubnetEnv(this.opts.subnetFile);
        writeLocalState(this.opts.dataDir, {
          subnet: e.acquired.subnet,
          publicIp: this.opts.publicIp,
          vtepMac: e.acquired.attrs.BackendData.VtepMAC,
        });
        this.log.error(
          { previous: e.previous, subnet: e.acquired.subnet },
          'subnet taken by another node; stopping',
        );
        this.onFatal('subnet taken by another node');
        return;
    }
  }

  private async applyLeaseEvent(overlay: Overlay, e: LeaseWatchEvent, initial = false): Promise<void> {
    switch (e.type) {
      case 'snapshot':
        await overlay.setPeers(e.leases.map(peerFromLease));
        this.log.info({ peers: e.leases.length, revision: e.revision, initial }, 'peers synchronised');
        return;
      case 'added':
      case 'changed':
        await overlay.upsertPeer(peerFromLease(e.lease));
        this.log.info(
          { subnet: e.lease.subnet, publicIp: e.lease.attrs.PublicIP, event: e.type },
          'peer programmed',
        );
        return;
      case 'removed':
        await overlay.removePeer(e.subnet);
        this.log.info({ subnet: e.subnet }, 'peer removed');
        return;
    }
  }

  private async consumeWatch(
    overlay: Overlay,
    watch: AsyncGenerator<LeaseWatchEvent>,
    signal: AbortSignal,
  ): Promise<void> {
    let current = watch;
    while (!signal.aborted) {
      try {
        for await (const e of current) {
          if (signal.aborted) return;
          await this.applyLeaseEvent(overlay, e).catch((err: unknown) =>
            this.log.warn(
              { err: (err as Error).message, event: e.type },
              'peer update failed; the reconciler retries',
            ),
          );
        }
      } catch (err) {
        if (signal.aborted) return;
        if (isStoreError(err)) this.metrics.storeErrors.inc({ operation: 'watch' });
        this.log.warn({ err: (err as Error).message }, 'lease watch failed; watching again');
        await sleep(1000, signal);
      }
      if (signal.aborted || !this.manager || !this.acquired) return;
      current = this.manager.watchLeases({ signal, excludeSubnet: this.acquired.subnet });
    }
  }

  health(): {
    healthy: boolean;
    subnet?: string;
    peers: number;
    store?: string;
    leaseExpiresInSeconds?: number;
  } {
    const expires = this.acquired ? this.acquired.ttl - (Date.now() - this.lastRenewal) / 1000 : undefined;
    return {
      healthy: this.ready && !this.stopped,
      subnet: this.acquired?.subnet,
      peers: this.overlay?.peers().length ?? 0,
      store: this.store?.kind,
      leaseExpiresInSeconds: expires === undefined ? undefined : Math.round(expires),
    };
  }

  /**
   * Stops loops and connections. The data plane (device, routes, neighbours, FDB), the lease (left to expire
   * or to be renewed by the next start) and subnet.env stay: pods keep their connectivity across a restart.
   * With `leave`, the node's lease is deleted so peers drop it, and local state and subnet.env go.
   */
  async stop(options: { leave?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    if (options.leave && this.manager && this.acquired) {
      try {
        const left = await this.manager.leave(this.acquired, this.keeper);
        this.log.info({ subnet: this.acquired.subnet, left }, 'node left the cluster');
        removeLocalState(this.opts.dataDir);
        removeSubnetEnv(this.opts.subnetFile);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'leave failed: the lease will expire after its TTL');
      }
    } else {
      await this.keeper?.stop();
    }
    await this.watchLoop?.catch(() => undefined);
    await this.cni?.close();
    await this.overlay?.close();
    await this.http?.close();
    await this.store?.close();
  }
}
