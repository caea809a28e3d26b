// The node's DNS for its containers as an agent service: answers from the discovery view, forwards the rest
// to the node's resolvers. It listens where containers can reach it — each network's gateway on this node —
// as the networks come and go (listenOn / stopListening), on port 53 unless told otherwise.
import { Counter, type Registry } from 'prom-client';
import { Forwarder, type Upstream } from '../dns/forwarder.ts';
import { ClusterNames, DEFAULT_CLUSTER_DOMAIN } from '../dns/names.ts';
import { upstreamsFromResolvConf } from '../dns/resolv-conf.ts';
import { DnsServer } from '../dns/server.ts';
import type { Logger } from '../log/index.ts';
import type { DiscoveryService } from './discovery.ts';
import type { Service, ServiceHealth, StartContext } from './service.ts';

export interface DnsServiceOptions {
  readonly discovery: DiscoveryService;
  /** the cluster domain (NAME.<domain>); default "tsnet" */
  readonly domain?: string;
  /** default: the nameservers of `resolvConf` */
  readonly upstreams?: readonly Upstream[];
  /** the node's resolv.conf, read at start; default /etc/resolv.conf */
  readonly resolvConf?: string;
  readonly port?: number;
}

export class DnsService implements Service {
  readonly name = 'dns';
  readonly dependsOn: readonly Service[];
  private readonly opts: DnsServiceOptions;
  private server: DnsServer | undefined;
  private forwarder: Forwarder | undefined;
  private log: Logger | undefined;
  private readonly wanted = new Set<string>();
  private readonly failures = new Map<string, string>();

  constructor(opts: DnsServiceOptions) {
    this.opts = opts;
    this.dependsOn = [opts.discovery];
  }

  get domain(): string {
    return this.opts.domain ?? DEFAULT_CLUSTER_DOMAIN;
  }

  get port(): number {
    return this.opts.port ?? 53;
  }

  registerMetrics(registry: Registry): void {
    const self = this;
    const counter = (
      name: string,
      help: string,
      read: (s: NonNullable<ReturnType<DnsServer['stats']>>) => number,
    ) =>
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          const stats = self.server?.stats();
          if (stats) this.inc(read(stats));
        },
      });
    counter('tsnet_dns_queries_total', 'DNS queries received', (s) => s.queries);
    counter(
      'tsnet_dns_cluster_answers_total',
      'Queries answered from the cluster view',
      (s) => s.clusterAnswers,
    );
    counter('tsnet_dns_forwarded_total', 'Queries forwarded to the upstream resolvers', (s) => s.forwarded);
    counter(
      'tsnet_dns_servfail_total',
      'Queries answered SERVFAIL (no upstream answered)',
      (s) => s.servfail,
    );
  }

  async start(ctx: StartContext): Promise<void> {
    this.log = ctx.log.child({ service: this.name });
    const upstreams = this.opts.upstreams ?? upstreamsFromResolvConf(this.opts.resolvConf);
    this.forwarder = new Forwarder({ upstreams });
    const names = new ClusterNames(this.opts.discovery.view, this.domain);
    this.server = new DnsServer({ names, forwarder: this.forwarder, log: this.log });
    this.log.info({ upstreams: upstreams.map((u) => u.address), domain: this.domain }, 'cluster DNS ready');
    for (const address of this.wanted) await this.listenOn(address);
  }

  /**
   * Serves on `address` (a gateway of this node). A failure is logged and kept in health, not thrown: a
   * container without the cluster's names is better than one that cannot start.
   */
  async listenOn(address: string): Promise<boolean> {
    this.wanted.add(address);
    if (!this.server) return false;
    try {
      await this.server.listen(address, this.port);
      this.failures.delete(address);
      return true;
    } catch (err) {
      this.failures.set(address, (err as Error).message);
      this.log?.warn({ err, address }, 'cluster DNS cannot listen there');
      return false;
    }
  }

  async stopListening(address: string): Promise<void> {
    this.wanted.delete(address);
    this.failures.delete(address);
    await this.server?.unlisten(address, this.port);
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  health(): ServiceHealth {
    return {
      ready: this.server !== undefined,
      listening: this.server?.stats().listening ?? [],
      ...(this.failures.size ? { failures: Object.fromEntries(this.failures) } : {}),
      forwarder: this.forwarder?.stats(),
    };
  }
}
