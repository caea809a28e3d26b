// The agent's Prometheus metrics (prom-client): lease expiry, peers, reconcile repairs, store errors, CNI
// requests served.
import { Counter, Gauge, Registry } from 'prom-client';
import type { OverlayStats } from '../overlay/index.ts';

export interface AgentMetricsSource {
  /** Seconds until the node's lease expires if not renewed; undefined before a lease is held. */
  leaseExpiresInSeconds(): number | undefined;
  /** Overlay counters; undefined before the overlay started. */
  overlayStats(): OverlayStats | undefined;
  peerCount(): number;
}

export class AgentMetrics {
  readonly registry = new Registry();
  readonly storeErrors: Counter<'operation'>;
  readonly leaseEvents: Counter<'event'>;
  readonly cniRequests: Counter<'plugin' | 'command' | 'result'>;

  constructor(source: AgentMetricsSource) {
    const registers = [this.registry];
    new Gauge({
      name: 'tsnet_lease_expiry_seconds',
      help: 'Seconds until the node subnet lease expires unless renewed',
      registers,
      collect() {
        const s = source.leaseExpiresInSeconds();
        if (s !== undefined) this.set(s);
      },
    });
    new Gauge({
      name: 'tsnet_peers',
      help: 'Remote nodes programmed on the overlay',
      registers,
      collect() {
        this.set(source.peerCount());
      },
    });
    const stat = (pick: (s: OverlayStats) => number) => () => {
      const s = source.overlayStats();
      return s ? pick(s) : 0;
    };
    const repairs = new Gauge({
      name: 'tsnet_reconcile_repairs_total',
      help: 'Overlay entries repaired by drift reconciliation (added, fixed, removed) since start',
      labelNames: ['action'] as const,
      registers,
      collect() {
        const s = source.overlayStats();
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
      const read = stat(pick);
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    }
    this.storeErrors = new Counter({
      name: 'tsnet_store_errors_total',
      help: 'Store (etcd) operations that failed, by operation',
      labelNames: ['operation'] as const,
      registers,
    });
    this.leaseEvents = new Counter({
      name: 'tsnet_lease_events_total',
      help: 'Lease keeper events (renewed, lost, reacquired, subnet-changed, store-error)',
      labelNames: ['event'] as const,
      registers,
    });
    this.cniRequests = new Counter({
      name: 'tsnet_cni_requests_total',
      help: 'CNI requests served on the agent socket, by plugin, command and result (ok, error)',
      labelNames: ['plugin', 'command', 'result'] as const,
      registers,
    });
  }
}
