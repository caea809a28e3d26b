// This node's containers in the cluster's discovery registry: at start, exactly the engine's records
// (replaceAll: nothing stale or duplicated after a SIGKILL between two writes); then each container event
// (create, start, die, stop, pause, rename, connect, disconnect, destroy, ...) republishes that container
// from its record. Also the engine's clusterDns: the DNS service listens on the gateway of every network a
// container joins, and the container's resolv.conf points there.
import type { NetworkAttachment } from '../container/networking.ts';
import type { ContainerRecord } from '../container/record.ts';
import type { ContainerEntry } from '../discovery/entry.ts';
import type { EventBus } from '../events/bus.ts';
import type { ContainerService } from './containers.ts';
import type { DiscoveryService } from './discovery.ts';
import type { DnsService } from './dns.ts';
import type { Service, ServiceHealth, StartContext } from './service.ts';

export interface ContainerDiscoveryOptions {
  readonly nodeName: string;
  readonly containers: ContainerService;
  readonly discovery: DiscoveryService;
  readonly dns: DnsService;
  readonly events: EventBus;
  /** networks spanning the cluster (the overlay); the others are this node's alone */
  readonly isClusterNetwork: (network: string) => boolean;
}

/** The entry of a container with an address on some network; undefined when it has none (not published). */
export function entryOfRecord(
  record: ContainerRecord,
  node: string,
  isClusterNetwork: (network: string) => boolean,
  sandbox?: string,
): ContainerEntry | undefined {
  const endpoints = record.networks
    .filter((n) => n.ipAddress)
    .map((n) => ({
      network: n.network,
      networkId: n.networkId,
      ...(n.ipAddress && { ipv4: n.ipAddress }),
      ...(n.macAddress && { mac: n.macAddress }),
      aliases: [...n.aliases],
      scope: isClusterNetwork(n.network) ? ('cluster' as const) : ('local' as const),
    }));
  if (endpoints.length === 0 || record.state.status === 'removing') return undefined;
  return {
    id: record.id,
    name: record.name,
    node,
    image: record.image.ref,
    state: record.state.status,
    labels: { ...(record.spec.Labels ?? {}) },
    endpoints,
    ports: record.networks.flatMap((n) =>
      n.ports.map((p) => ({
        hostIp: p.hostIp,
        hostPort: p.hostPort,
        containerPort: p.containerPort,
        protocol: p.protocol,
      })),
    ),
    ...(sandbox && { sandbox }),
  };
}

export class ContainerDiscoveryService implements Service {
  readonly name = 'container-discovery';
  readonly dependsOn: readonly Service[];
  private readonly opts: ContainerDiscoveryOptions;
  private unsubscribe: (() => void) | undefined;
  private published = 0;

  constructor(opts: ContainerDiscoveryOptions) {
    this.opts = opts;
    this.dependsOn = [opts.containers, opts.discovery, opts.dns];
  }

  /** For the engine: the cluster DNS on this network's gateway, once it listens there. */
  async clusterDnsFor(
    network: NetworkAttachment,
  ): Promise<{ nameserver: string; search: string[] } | undefined> {
    if (!network.gateway) return undefined;
    const listening = await this.opts.dns.listenOn(network.gateway);
    return listening ? { nameserver: network.gateway, search: [this.opts.dns.domain] } : undefined;
  }

  async start(ctx: StartContext): Promise<void> {
    const { containers, discovery, events } = this.opts;
    // subscribed first: a container that changes while the snapshot is taken is published again after it
    this.unsubscribe = events.subscribe(new Map(), 0n, (e) => {
      const id = e.type === 'container' ? e.id : e.type === 'network' ? e.attributes['container'] : undefined;
      if (id) this.sync(id);
    });
    const records = containers.records();
    const entries = records.flatMap((r) => {
      const e = this.entryOf(r);
      return e ? [e] : [];
    });
    discovery.publisher.replaceAll(entries);
    this.published = entries.length;
    // containers running since before this start: their gateways answer again
    for (const r of records)
      for (const n of r.networks)
        if (n.gateway && r.state.status === 'running') void this.opts.dns.listenOn(n.gateway);
    ctx.log.info({ service: this.name, published: entries.length }, 'containers published');
  }

  private entryOf(record: ContainerRecord): ContainerEntry | undefined {
    const sandbox = record.networks.length ? this.opts.containers.netnsPathOf(record.id) : undefined;
    return entryOfRecord(record, this.opts.nodeName, this.opts.isClusterNetwork, sandbox);
  }

  private sync(id: string): void {
    const record = this.opts.containers.records().find((r) => r.id === id);
    const entry = record ? this.entryOf(record) : undefined;
    if (entry) this.opts.discovery.publisher.set(entry);
    else this.opts.discovery.publisher.remove(id);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  health(): ServiceHealth {
    return { ready: this.unsubscribe !== undefined, publishedAtStart: this.published };
  }
}
