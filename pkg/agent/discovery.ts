// Cross-node container discovery as an agent service: this node's containers published in the store (the
// engine tells the publisher what it runs) and the whole cluster's watched into a view, which the DNS
// service answers from and tsnetctl's cluster commands read.
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import { clusterHandlers } from '../api/cluster.ts';
import { api } from '../api/proto.ts';
import { DiscoveryPublisher } from '../discovery/publisher.ts';
import { ClusterView } from '../discovery/view.ts';
import type { SubnetLease } from '../subnet/lease.ts';
import type { ApiService } from './api.ts';
import type { Service, ServiceHealth, StartContext, StopOptions } from './service.ts';
import type { StoreService } from './store.ts';

export interface DiscoveryServiceOptions {
  readonly store: StoreService;
  readonly prefix: string;
  readonly nodeName: string;
  readonly dataDir: string;
  /** TTL of the lease the node's entries are bound to (the subnet lease's TTL). */
  readonly leaseTtlSeconds: number;
  /** Where the Cluster service is served (nodes and the discovery view), with what it reads the leases from. */
  readonly api?: ApiService;
  readonly leases?: () => Promise<SubnetLease[] | undefined>;
  readonly localSubnet?: () => string | undefined;
}

export class DiscoveryService implements Service {
  readonly name = 'discovery';
  readonly dependsOn: readonly Service[];
  private readonly opts: DiscoveryServiceOptions;
  private started: { publisher: DiscoveryPublisher; view: ClusterView } | undefined;
  private readonly pendingStarts: (() => void)[] = [];

  constructor(opts: DiscoveryServiceOptions) {
    this.opts = opts;
    this.dependsOn = [opts.store];
    opts.api?.contribute({
      services: [
        [
          api().Cluster.service,
          clusterHandlers({
            nodeName: opts.nodeName,
            leases: async () => (opts.leases ? opts.leases() : undefined),
            localSubnet: () => opts.localSubnet?.(),
            containers: () => this.started?.view.entries() ?? [],
          }),
        ],
      ],
    });
  }

  registerMetrics(registry: Registry): void {
    const self = this;
    new Gauge({
      name: 'tsnet_discovery_cluster_containers',
      help: 'Containers of the whole cluster in this node’s view',
      registers: [registry],
      collect() {
        this.set(self.started?.view.stats().containers ?? 0);
      },
    });
    new Gauge({
      name: 'tsnet_discovery_published_containers',
      help: 'Containers of this node published in the store',
      registers: [registry],
      collect() {
        this.set(self.started?.publisher.stats().published ?? 0);
      },
    });
    new Counter({
      name: 'tsnet_discovery_publish_errors_total',
      help: 'Publishing passes that failed (retried)',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.started?.publisher.stats().errors ?? 0);
      },
    });
  }

  async start(ctx: StartContext): Promise<void> {
    const { store, prefix, nodeName, dataDir, leaseTtlSeconds } = this.opts;
    const log = ctx.log.child({ service: this.name });
    const publisher = new DiscoveryPublisher({
      store: store.store,
      prefix,
      node: nodeName,
      ttlSeconds: leaseTtlSeconds,
      leaseStateFile: join(dataDir, 'discovery-lease.json'),
      log,
    });
    const view = new ClusterView({ store: store.store, prefix, log });
    publisher.start();
    view.start();
    this.started = { publisher, view };
    for (const resolve of this.pendingStarts.splice(0)) resolve();
  }

  /** The publisher and the view, once started (the engine and DNS start after this service). */
  get publisher(): DiscoveryPublisher {
    if (!this.started) throw new Error('the discovery service has not started');
    return this.started.publisher;
  }

  get view(): ClusterView {
    if (!this.started) throw new Error('the discovery service has not started');
    return this.started.view;
  }

  async stop(options: StopOptions): Promise<void> {
    if (!this.started) return;
    const { publisher, view } = this.started;
    this.started = undefined;
    // --leave: the node's containers leave the cluster's view now, not after the TTL
    await publisher.stop({ revoke: options.leave });
    await view.stop();
  }

  health(): ServiceHealth {
    if (!this.started) return { ready: false };
    return {
      ready: true,
      clusterContainers: this.started.view.stats().containers,
      published: this.started.publisher.stats().published,
    };
  }
}
