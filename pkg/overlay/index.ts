// The overlay data plane of one node, as the agent drives it: the VTEP, the desired peers (one per remote
// lease), and a repair loop that keeps the kernel equal to them: a peer entry deleted by hand is programmed
// again as soon as its netlink event arrives; other events on the overlay device trigger a debounced full
// pass, and so do a resync of the event stream, a periodic timer and reconcile(). close() stops the loop and
// leaves every kernel entry in place: an agent restart must not disturb traffic.

import { type Logger, silentLogger } from '../log/index.ts';
import { NudState } from '../netlink/constants.ts';
import { EventStream, type NetlinkEvent } from '../netlink/events.ts';
import { Handle } from '../netlink/handle.ts';
import type { SubnetLease } from '../subnet/lease.ts';
import {
  type Peer,
  type PeerEntries,
  peerEntries,
  programPeer,
  removePeer,
  TSNET_ROUTE_PROTOCOL,
  tolerateMissing,
} from './peers.ts';
import { type EntryKind, entryText, type ReconcileReport, reconcile, repairCount } from './reconcile.ts';
import { parseIPv4Subnet } from './subnet.ts';
import { ensureVtep, type Vtep, type VtepOptions } from './vtep.ts';

export type { Peer, PeerEntries } from './peers.ts';
export { peerEntries, programPeer, removePeer, TSNET_ROUTE_PROTOCOL } from './peers.ts';
export type { ReconcileChange, ReconcileOptions, ReconcileReport, RejectedPeer } from './reconcile.ts';
export { reconcile, repairCount, validatePeers } from './reconcile.ts';
export type { EnsureVtepResult, Vtep, VtepOptions } from './vtep.ts';
export {
  DEFAULT_VTEP_NAME,
  DEFAULT_VXLAN_PORT,
  ensureVtep,
  stableVtepMac,
  VXLAN_IPV4_OVERHEAD,
} from './vtep.ts';

/** Why a reconcile pass ran. `event`, `resync` and `timer` passes repair drift; the others apply intent. */
export type ReconcileTrigger = 'start' | 'manual' | 'peers' | 'event' | 'resync' | 'timer';

export interface OverlayHooks {
  /** After every pass, with what the VTEP check changed and what the peer pass changed. */
  onReconcile?(report: ReconcileReport, trigger: ReconcileTrigger, vtepChanges: readonly string[]): void;
  /** A failure the loop survived (a pass, the event stream). */
  onError?(error: Error, context: string): void;
}

export interface OverlayOptions extends Omit<VtepOptions, 'subnet'> {
  /** This node's pod subnet; its network address goes on the VTEP and no peer may claim it. */
  readonly subnet: string;
  /** Route protocol id of overlay routes; TSNET_ROUTE_PROTOCOL by default. */
  readonly routeProtocol?: number;
  /** Period of the safety-net reconcile; 60 s by default, 0 to disable. */
  readonly reconcileIntervalMs?: number;
  /** Delay that merges a burst of netlink events into one pass; 100 ms by default. */
  readonly debounceMs?: number;
  /** Watch netlink events on the overlay device; true by default. */
  readonly watchEvents?: boolean;
  /** Delay before the event stream is opened again after it failed; 1 s by default. */
  readonly rewatchDelayMs?: number;
  readonly hooks?: OverlayHooks;
  readonly logger?: Logger;
}

/** Counters for metrics; cumulative since start(). */
export interface OverlayStats {
  /** Passes completed. */
  reconciles: number;
  /** Entries added, fixed and removed by drift-repair passes (event, resync, timer). */
  repairs: { added: number; fixed: number; removed: number };
  /** Entries changed by any pass, intent included (start, peers, manual). */
  changes: number;
  /** VTEP corrections (MTU, MAC, state, address, recreation) by drift-repair passes. */
  vtepRepairs: number;
  /** Kernel operations refused during passes, and passes that failed outright. */
  failures: number;
  /** Netlink events that concerned the overlay device. */
  events: number;
  /** Resyncs of the event stream (the kernel dropped notifications) and stream restarts. */
  resyncs: number;
}

/** A remote node's lease as the peer the overlay programs. */
export function peerFromLease(lease: SubnetLease): Peer {
  return {
    subnet: lease.subnet,
    publicIp: lease.attrs.PublicIP,
    vtepMac: lease.attrs.BackendData.VtepMAC,
    revision: lease.modRevision,
  };
}

/** A peer waiting for its programming turn, with the caller of upsertPeer waiting for it. */
interface QueuedPeer {
  readonly e: PeerEntries;
  readonly previous: PeerEntries | undefined;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
const DRIFT_TRIGGERS = new Set<ReconcileTrigger>(['event', 'resync', 'timer']);

export class Overlay {
  readonly netnsPath: string | undefined;
  private options: OverlayOptions;
  private readonly protocol: number;
  private readonly log: Logger;
  private readonly desired = new Map<string, PeerEntries>();
  /** Desired peers not programmed because they clash with another one (same VTEP MAC or IP). */
  private readonly conflicted = new Set<string>();
  /** Whether the desired set is complete (setPeers was called): only then are foreign entries removed. */
  private peersKnown = false;
  /** `desired` by VTEP IP and MAC, for events; built on first use, kept along with `desired`. */
  private index: { byIp: Map<string, PeerEntries>; byMac: Map<string, PeerEntries> } | undefined;
  /** Upserted peers waiting for their programming turn, and whether that turn still takes more. */
  private toProgram: QueuedPeer[] = [];
  private programTurnOpen = false;
  /** Peers whose entries an event repair is about to program again. */
  private readonly repairing = new Set<string>();
  private handle: Handle | undefined;
  private current: Vtep | undefined;
  private stream: EventStream | undefined;
  private watching: Promise<void> | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private debounceTrigger: ReconcileTrigger = 'event';
  private periodic: NodeJS.Timeout | undefined;
  private rewatch: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly counters: OverlayStats = {
    reconciles: 0,
    repairs: { added: 0, fixed: 0, removed: 0 },
    changes: 0,
    vtepRepairs: 0,
    failures: 0,
    events: 0,
    resyncs: 0,
  };

  /** `netnsPath`: the node's network namespace, or undefined for the current one. Nothing happens before start(). */
  constructor(netnsPath: string | undefined, options: OverlayOptions) {
    parseIPv4Subnet(options.subnet);
    this.netnsPath = netnsPath;
    this.options = options;
    this.protocol = options.routeProtocol ?? TSNET_ROUTE_PROTOCOL;
    this.log = options.logger ?? silentLogger;
  }

  /** The VTEP as last ensured; throws before start(). */
  get vtep(): Vtep {
    if (!this.current) throw new Error('overlay: not started');
    return this.current;
  }

  /** The desired peers, by subnet. */
  peers(): Peer[] {
    return [...this.desired.values()].map((e) => ({
      subnet: e.subnet,
      publicIp: e.publicIp,
      vtepMac: e.vtepMac,
      ...(e.revision !== undefined ? { revision: e.revision } : {}),
    }));
  }

  stats(): OverlayStats {
    return { ...this.counters, repairs: { ...this.counters.repairs } };
  }

  /**
   * Ensures the VTEP and programs the peers given so far, then starts the event watch and the periodic timer
   * (the event stream is opened first, so no change is missed). Until setPeers() gives the complete set, no
   * entry is removed: a restarted agent that has not listed the leases yet must not cut traffic to anyone.
   * On failure the loops are stopped and start() may be called again.
   */
  async start(): Promise<ReconcileReport> {
    if (this.handle) throw new Error('overlay: already started');
    if (this.closed) throw new Error('overlay: closed');
    this.handle = Handle.open(this.netnsPath);
    try {
      if (this.options.watchEvents ?? true) this.openWatch();
      const report = await this.reconcile('start');
      const interval = this.options.reconcileIntervalMs ?? 60_000;
      if (interval > 0) {
        this.periodic = setInterval(() => void this.reconcileQuietly('timer'), interval);
        this.periodic.unref();
      }
      return report;
    } catch (err) {
      // Nothing kernel-side to undo (the data plane stays as far as it got); start() may be called again.
      await this.stopLoops();
      throw err;
    }
  }

  /**
   * Replaces the desired peers (a lease snapshot) and reconciles to exactly them. Before start() (and for
   * upsertPeer and removePeer too) only the desired set changes; start() programs it.
   */
  async setPeers(peers: readonly Peer[]): Promise<ReconcileReport> {
    const next = new Map<string, PeerEntries>();
    for (const p of peers) {
      const e = this.checkPeer(p);
      next.set(e.subnet, e);
    }
    this.desired.clear();
    for (const [k, v] of next) this.desired.set(k, v);
    this.index = undefined;
    this.peersKnown = true;
    if (!this.handle)
      return { added: [], fixed: [], removed: [], failed: [], rejected: [], peers: next.size };
    return this.reconcile('peers');
  }

  /**
   * Adds or updates one peer and programs it at once; a changed MAC or underlay IP drops the old FDB entry.
   * When the kernel refuses, the error is thrown and the peer stays desired: the next pass programs it.
   */
  async upsertPeer(peer: Peer): Promise<void> {
    const e = this.checkPeer(peer);
    const previous = this.desired.get(e.subnet);
    this.desired.set(e.subnet, e);
    if (previous) this.unindex(previous);
    if (this.index) {
      this.index.byIp.set(e.vtepIp, e);
      this.index.byMac.set(e.vtepMac, e);
    }
    for (const other of this.desired.values()) {
      if (other.subnet !== e.subnet && (other.vtepMac === e.vtepMac || other.vtepIp === e.vtepIp)) {
        // Typically a node that re-leased while its old lease still lingers. Both stay desired; a full pass
        // programs the newer lease and holds the other back until the conflict is gone.
        this.conflicted.add(e.subnet);
        this.conflicted.add(other.subnet);
        this.log.warn(
          { subnet: e.subnet, conflictsWith: other.subnet },
          'overlay: peers share a VTEP MAC or IP; the newer lease is programmed',
        );
        if (this.handle) await this.reconcile('peers');
        return;
      }
    }
    if (!this.handle) return;
    await this.programSoon(e, previous);
  }

  /**
   * Queues a peer for the next programming turn: the peers upserted while other kernel work runs (a burst of
   * lease events) are programmed together, in one netlink batch. A turn takes new peers only while no other
   * kernel work was queued after it, so the order of upserts and removals holds.
   */
  private programSoon(e: PeerEntries, previous: PeerEntries | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.toProgram.push({ e, previous, resolve, reject });
      if (this.programTurnOpen) return;
      const turn = this.toProgram;
      this.exclusive((h, vtep = this.vtep) => {
        // Running: later upserts wait for the next turn.
        this.toProgram = [];
        this.programTurnOpen = false;
        return Promise.all(h.batch(() => turn.map((item) => this.programQueued(h, vtep.index, item))));
      }).catch((err: unknown) => {
        // The turn never ran (closed meanwhile): its peers stay desired, for a later start() to program.
        if (this.toProgram === turn) {
          this.toProgram = [];
          this.programTurnOpen = false;
        }
        for (const item of turn) item.reject(asError(err));
      });
      this.programTurnOpen = true;
    });
  }

  /** One queued peer: the FDB entry of its old MAC or underlay IP goes, then its entries are programmed. */
  private async programQueued(h: Handle, vtepIndex: number, item: QueuedPeer): Promise<void> {
    const { e, previous } = item;
    try {
      // Both requests are made before the first await: they join the turn's batch.
      await Promise.all([
        previous && (previous.vtepMac !== e.vtepMac || previous.publicIp !== e.publicIp)
          ? tolerateMissing(
              h.fdbDel({ index: vtepIndex, mac: previous.vtepMac, dst: previous.publicIp, self: true }),
            )
          : undefined,
        programPeer(h, vtepIndex, e, { protocol: this.protocol }),
      ]);
      item.resolve();
    } catch (err) {
      item.reject(asError(err));
    }
  }

  /** Forgets one peer (by subnet or peer) and removes its route, FDB entry and neighbour. */
  async removePeer(peerOrSubnet: Peer | string): Promise<void> {
    const subnet = parseIPv4Subnet(
      typeof peerOrSubnet === 'string' ? peerOrSubnet : peerOrSubnet.subnet,
    ).cidr;
    const previous = this.desired.get(subnet);
    if (!previous) return;
    this.desired.delete(subnet);
    this.unindex(previous);
    const wasConflicted = this.conflicted.delete(subnet);
    if (!this.handle) return;
    if (!wasConflicted && this.conflicted.size === 0) {
      await this.exclusive((h, vtep = this.vtep) => removePeer(h, vtep.index, previous));
      return;
    }
    // Entries shared by clashing peers (one VTEP MAC or IP): a full pass removes what nobody explains any more
    // and programs the peer that was held back.
    this.conflicted.clear();
    await this.reconcile('peers');
  }

  /** Checks the VTEP, then makes the device's routes, neighbours and FDB entries exactly the desired peers'. */
  reconcile(trigger: ReconcileTrigger = 'manual'): Promise<ReconcileReport> {
    return this.exclusive(async (h) => {
      try {
        const ensured = await ensureVtep(h, this.options);
        this.current = ensured.vtep;
        const report = await reconcile(h, ensured.vtep, [...this.desired.values()], {
          protocol: this.protocol,
          prune: this.peersKnown,
        });
        this.record(report, trigger, ensured.changes);
        return report;
      } catch (err) {
        this.counters.failures++;
        throw err;
      }
    });
  }

  /**
   * Stops the watch and the timers, waits for a running pass, and releases the netlink socket. The VTEP and
   * every peer entry stay as they are.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.stopLoops();
  }

  private async stopLoops(): Promise<void> {
    clearTimeout(this.debounce);
    this.debounce = undefined;
    clearInterval(this.periodic);
    clearTimeout(this.rewatch);
    const stream = this.stream;
    this.stream = undefined;
    stream?.close();
    await this.watching;
    this.watching = undefined;
    await this.queue.catch(() => undefined);
    this.handle?.close();
    this.handle = undefined;
  }

  private checkPeer(peer: Peer): PeerEntries {
    const e = peerEntries(peer);
    if (e.subnet === parseIPv4Subnet(this.options.subnet).cidr) {
      throw new Error(`overlay: peer ${e.subnet} is this node's own subnet`);
    }
    return e;
  }

  /** Runs kernel work one operation at a time, on the started handle and VTEP. */
  private exclusive<T>(fn: (h: Handle, vtep: Vtep | undefined) => Promise<T>): Promise<T> {
    // Work queued after a programming turn: later upserts go to a new turn, after this work.
    this.programTurnOpen = false;
    const run = async (): Promise<T> => {
      const h = this.handle;
      if (!h || this.closed) throw new Error('overlay: not started, or closed');
      return fn(h, this.current);
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private record(report: ReconcileReport, trigger: ReconcileTrigger, vtepChanges: readonly string[]): void {
    const c = this.counters;
    c.reconciles++;
    c.changes += repairCount(report) + vtepChanges.length;
    c.failures += report.failed.length;
    if (DRIFT_TRIGGERS.has(trigger)) {
      c.vtepRepairs += vtepChanges.length;
      c.repairs.added += report.added.length;
      c.repairs.fixed += report.fixed.length;
      c.repairs.removed += report.removed.length;
    }
    const summary = {
      trigger,
      peers: report.peers,
      added: report.added.length,
      fixed: report.fixed.length,
      removed: report.removed.length,
      failed: report.failed.length,
      rejected: report.rejected.length,
    };
    if (repairCount(report) + vtepChanges.length + report.failed.length + report.rejected.length > 0) {
      const sample = (xs: readonly { kind: string; entry: string }[]) =>
        xs.slice(0, 10).map((c) => `${c.kind} ${c.entry}`);
      this.log.info(
        {
          ...summary,
          vtepChanges,
          addedSample: sample(report.added),
          fixedSample: sample(report.fixed),
          removedSample: sample(report.removed),
          failures: report.failed.slice(0, 10),
          rejectedPeers: report.rejected.slice(0, 10),
        },
        'overlay reconciled with changes',
      );
    } else {
      this.log.debug(summary, 'overlay in sync');
    }
    this.options.hooks?.onReconcile?.(report, trigger, vtepChanges);
  }

  private reportError(err: unknown, context: string): void {
    const error = asError(err);
    this.log.error({ err: error, context }, `overlay: ${context} failed`);
    this.options.hooks?.onError?.(error, context);
  }

  private async reconcileQuietly(trigger: ReconcileTrigger): Promise<void> {
    if (this.closed) return;
    try {
      await this.reconcile(trigger);
    } catch (err) {
      if (!this.closed) this.reportError(err, `${trigger} reconcile`);
    }
  }

  /** Merges a burst of triggers into one pass; a resync wins over a plain event in the label. */
  private schedule(trigger: ReconcileTrigger): void {
    if (this.closed) return;
    if (this.debounce) {
      if (trigger === 'resync') this.debounceTrigger = trigger;
      return;
    }
    this.debounceTrigger = trigger;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.reconcileQuietly(this.debounceTrigger);
    }, this.options.debounceMs ?? 100);
  }

  private openWatch(): void {
    const stream = EventStream.open(this.netnsPath, ['link', 'route', 'neighbour']);
    this.stream = stream;
    this.watching = this.consume(stream);
  }

  private async consume(stream: EventStream): Promise<void> {
    try {
      for await (const event of stream) {
        if (this.closed) break;
        if (event.type === 'resync') {
          this.counters.resyncs++;
          this.log.warn({ reason: event.reason }, 'overlay: netlink event stream resync');
          this.schedule('resync');
        } else if (this.concerns(event)) {
          this.counters.events++;
          this.react(event);
        }
      }
    } catch (err) {
      this.reportError(err, 'netlink event stream');
    }
    if (this.closed) return;
    // The stream ended without close(): events may have been missed. Watch again, then reconcile fully.
    this.counters.resyncs++;
    this.rewatch = setTimeout(() => {
      if (this.closed) return;
      try {
        this.openWatch();
        this.schedule('resync');
      } catch (err) {
        this.reportError(err, 'reopen netlink event stream');
      }
    }, this.options.rewatchDelayMs ?? 1000);
  }

  /**
   * A desired peer's entry deleted by someone else is programmed again at once, without waiting for a pass;
   * an event that reports an entry exactly as desired (our own programming) needs nothing; anything else (the
   * device, a foreign or changed entry) goes to a debounced full pass.
   */
  private react(event: NetlinkEvent): void {
    const drift = this.peerDrift(event);
    if (drift === 'in-sync') return;
    if (drift === undefined || this.conflicted.has(drift.peer.subnet)) this.schedule('event');
    else this.repairPeer(drift.peer, drift.kind);
  }

  /**
   * The desired peer whose entry an event deleted; 'in-sync' when it reports an entry exactly as desired;
   * undefined for anything else (a foreign or changed entry, the device), which a full pass looks at.
   */
  private peerDrift(event: NetlinkEvent): { peer: PeerEntries; kind: EntryKind } | 'in-sync' | undefined {
    const vtep = this.current;
    if (!vtep) return undefined;
    let peer: PeerEntries | undefined;
    let kind: EntryKind;
    let exact: boolean;
    if (event.type === 'route') {
      const r = event.route;
      peer = r.family === 4 ? this.desired.get(r.dst) : undefined;
      kind = 'route';
      exact =
        peer !== undefined &&
        r.oif === vtep.index &&
        r.gateway === peer.vtepIp &&
        r.onlink &&
        r.protocol === this.protocol;
    } else if (event.type === 'neighbour' && event.neighbour.index === vtep.index) {
      const n = event.neighbour;
      const permanent = (n.state & NudState.PERMANENT) !== 0;
      if (n.family === 'bridge') {
        peer = n.mac !== undefined ? this.peerIndex().byMac.get(n.mac) : undefined;
        kind = 'fdb';
        exact = peer !== undefined && n.dst === peer.publicIp && n.vni === undefined && n.port === undefined;
      } else {
        peer = n.ip !== undefined ? this.peerIndex().byIp.get(n.ip) : undefined;
        kind = 'neighbour';
        // A deleted neighbour is reported in state FAILED, without its MAC.
        exact = peer !== undefined && (event.action === 'del' || n.mac === peer.vtepMac);
      }
      exact &&= event.action === 'del' || permanent;
    } else {
      return undefined;
    }
    if (!peer || !exact) return undefined;
    return event.action === 'new' ? 'in-sync' : { peer, kind };
  }

  /** The desired peers by VTEP IP and by VTEP MAC, built again after the desired set changed. */
  private peerIndex(): { byIp: Map<string, PeerEntries>; byMac: Map<string, PeerEntries> } {
    if (!this.index) {
      const byIp = new Map<string, PeerEntries>();
      const byMac = new Map<string, PeerEntries>();
      for (const e of this.desired.values()) {
        byIp.set(e.vtepIp, e);
        byMac.set(e.vtepMac, e);
      }
      this.index = { byIp, byMac };
    }
    return this.index;
  }

  private unindex(e: PeerEntries): void {
    if (this.index?.byIp.get(e.vtepIp) === e) this.index.byIp.delete(e.vtepIp);
    if (this.index?.byMac.get(e.vtepMac) === e) this.index.byMac.delete(e.vtepMac);
  }

  /** Programs one peer's entries again (replace: idempotent) and reports the one that drifted. */
  private repairPeer(peer: PeerEntries, kind: EntryKind): void {
    if (this.repairing.has(peer.subnet)) return;
    this.repairing.add(peer.subnet);
    const run = async (h: Handle, vtep: Vtep | undefined): Promise<void> => {
      this.repairing.delete(peer.subnet);
      // Gone or replaced meanwhile: what is desired now was programmed by whoever changed it.
      if (!vtep || this.desired.get(peer.subnet) !== peer) return;
      await programPeer(h, vtep.index, peer, { protocol: this.protocol });
      const change = { kind, entry: entryText(peer, kind, this.protocol), subnet: peer.subnet };
      this.record(
        { added: [change], fixed: [], removed: [], failed: [], rejected: [], peers: this.desired.size },
        'event',
        [],
      );
    };
    this.exclusive(run).catch((err: unknown) => {
      this.repairing.delete(peer.subnet);
      this.counters.failures++;
      if (this.closed) return;
      this.reportError(err, `repair of peer ${peer.subnet}`);
      this.schedule('event');
    });
  }

  /** Whether an event is about the overlay device, its underlay, or a desired peer's route. */
  private concerns(event: NetlinkEvent): boolean {
    const vtep = this.current;
    if (!vtep) return true;
    switch (event.type) {
      case 'link':
        return (
          event.link.index === vtep.index ||
          event.link.name === vtep.name ||
          event.link.index === vtep.underlayIndex
        );
      case 'route':
        return (
          event.route.oif === vtep.index || (event.route.family === 4 && this.desired.has(event.route.dst))
        );
      case 'neighbour':
        return event.neighbour.index === vtep.index;
      default:
        return false;
    }
  }
}
