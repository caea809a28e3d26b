// Reconciliation: the kernel state of the overlay device (IPv4 routes of the main table, IPv4 neighbours, FDB
// entries) is compared with the desired peers; what is missing is added, what differs is fixed, and what no
// desired peer explains is removed. One dump of each kind per pass, whatever the number of peers.
import { NudState, RtnType, RtProtocol } from '../netlink/constants.ts';
import type { Handle } from '../netlink/handle.ts';
import type { Neighbour } from '../netlink/neigh.ts';
import type { Route } from '../netlink/route.ts';
import {
  type Peer,
  type PeerEntries,
  type PeerOptions,
  peerEntries,
  programFdb,
  programNeighbour,
  programRoute,
  TSNET_ROUTE_PROTOCOL,
  tolerateMissing,
} from './peers.ts';

export type EntryKind = 'neighbour' | 'fdb' | 'route';

export interface ReconcileChange {
  readonly kind: EntryKind;
  /** The entry as `ip`/`bridge` would print it, e.g. `10.244.5.0/24 via 10.244.5.0 onlink`. */
  readonly entry: string;
  /** The peer subnet this entry belongs to; undefined for foreign entries. */
  readonly subnet?: string;
  /** For a fix: what was wrong. */
  readonly reason?: string;
}

export interface ReconcileFailure extends ReconcileChange {
  readonly error: string;
}

export interface RejectedPeer {
  readonly peer: Peer;
  readonly reason: string;
}

export interface ReconcileReport {
  readonly added: readonly ReconcileChange[];
  readonly fixed: readonly ReconcileChange[];
  readonly removed: readonly ReconcileChange[];
  /** Operations the kernel refused; the pass went on with the others. */
  readonly failed: readonly ReconcileFailure[];
  /** Desired peers that were invalid or conflicted with an earlier one (same subnet, VTEP IP or MAC). */
  readonly rejected: readonly RejectedPeer[];
  /** Number of valid desired peers. */
  readonly peers: number;
}

/** Added + fixed + removed: how many entries the pass had to repair. */
export function repairCount(report: ReconcileReport): number {
  return report.added.length + report.fixed.length + report.removed.length;
}

/**
 * Validates peers and drops conflicts, keeping the first of each: two peers with one subnet, one VTEP IP or
 * one VTEP MAC cannot both be programmed.
 */
export function validatePeers(peers: readonly Peer[]): { entries: PeerEntries[]; rejected: RejectedPeer[] } {
  const entries: PeerEntries[] = [];
  const rejected: RejectedPeer[] = [];
  const seenIp = new Map<string, string>();
  const seenMac = new Map<string, string>();
  // Newest lease first (a node that re-leased beats its own lingering old lease); ties keep their order.
  const newestFirst = [...peers].sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0));
  for (const peer of newestFirst) {
    let e: PeerEntries;
    try {
      e = peerEntries(peer);
    } catch (err) {
      rejected.push({ peer, reason: err instanceof Error ? err.message : String(err) });
      continue;
    }
    const ipOwner = seenIp.get(e.vtepIp);
    const macOwner = seenMac.get(e.vtepMac);
    if (ipOwner !== undefined) {
      rejected.push({ peer, reason: `VTEP IP ${e.vtepIp} already belongs to peer ${ipOwner}` });
    } else if (macOwner !== undefined) {
      rejected.push({ peer, reason: `VTEP MAC ${e.vtepMac} already belongs to peer ${macOwner}` });
    } else {
      seenIp.set(e.vtepIp, e.subnet);
      seenMac.set(e.vtepMac, e.subnet);
      entries.push(e);
    }
  }
  return { entries, rejected };
}

const routeText = (r: Pick<Route, 'dst' | 'gateway' | 'onlink' | 'protocol' | 'priority'>): string =>
  `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.onlink ? ' onlink' : ''} proto ${r.protocol}${
    r.priority ? ` metric ${r.priority}` : ''
  }`;
const neighText = (ip: string | undefined, mac: string | undefined): string =>
  `${ip} lladdr ${mac ?? 'none'}`;
const fdbText = (mac: string | undefined, dst: string | undefined): string => `${mac} dst ${dst ?? 'none'}`;
const wantRouteText = (e: PeerEntries, protocol: number): string =>
  routeText({ dst: e.subnet, gateway: e.vtepIp, onlink: true, protocol });

/** The entry of kind `kind` that peer `e` needs, as `ip`/`bridge` would print it. */
export function entryText(e: PeerEntries, kind: EntryKind, protocol: number): string {
  if (kind === 'route') return wantRouteText(e, protocol);
  return kind === 'fdb' ? fdbText(e.vtepMac, e.publicIp) : neighText(e.vtepIp, e.vtepMac);
}

/** Why `r` is not the route `e` needs; undefined when it is. */
function routeDrift(r: Route, e: PeerEntries, vtepIndex: number, protocol: number): string | undefined {
  if (r.oif !== vtepIndex) return `device ${r.oif ?? 'none'} is not the VTEP`;
  if (r.gateway !== e.vtepIp) return `gateway ${r.gateway ?? 'none'} != ${e.vtepIp}`;
  if (!r.onlink) return 'not onlink';
  if (r.type !== RtnType.unicast) return `type ${r.type} is not unicast`;
  if (r.protocol !== protocol) return `protocol ${r.protocol} != ${protocol}`;
  return undefined;
}

const isPermanent = (n: Neighbour): boolean => (n.state & NudState.PERMANENT) !== 0;

interface QueuedOp {
  readonly into: ReconcileChange[] | undefined;
  readonly change: ReconcileChange;
  readonly op: () => Promise<unknown>;
}

/**
 * Collects changes and failures; every kernel operation of a pass goes through `apply`, and `run` sends them
 * all in order as netlink batches (many messages per send), each settling on its own.
 */
class Pass {
  readonly added: ReconcileChange[] = [];
  readonly fixed: ReconcileChange[] = [];
  readonly removed: ReconcileChange[] = [];
  readonly failed: ReconcileFailure[] = [];
  private readonly queued: QueuedOp[] = [];

  /** Queues `op`, to record `change` in `into` on success (nowhere when undefined) and in `failed` on error. */
  apply(into: ReconcileChange[] | undefined, change: ReconcileChange, op: () => Promise<unknown>): void {
    this.queued.push({ into, change, op });
  }

  async run(h: Handle): Promise<void> {
    const ops = this.queued.splice(0);
    await Promise.all(h.batch(() => ops.map((q) => this.settle(q))));
  }

  private async settle({ into, change, op }: QueuedOp): Promise<void> {
    try {
      await op();
      into?.push(change);
    } catch (err) {
      this.failed.push({ ...change, error: err instanceof Error ? err.message : String(err) });
    }
  }
}

export interface ReconcileOptions extends PeerOptions {
  /**
   * Remove entries no desired peer explains; true by default. False while the desired set may be incomplete
   * (an agent restarted and has not listed the leases yet): missing entries are added, nothing is taken away.
   */
  readonly prune?: boolean;
}

/**
 * Makes the overlay device's routes, neighbours and FDB entries exactly those the desired peers need.
 * Kernel routes (address prefix routes) and IPv6 neighbours on the device are left alone.
 */
export async function reconcile(
  h: Handle,
  vtep: { readonly index: number },
  desiredPeers: readonly Peer[],
  opts: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const protocol = opts.protocol ?? TSNET_ROUTE_PROTOCOL;
  const prune = opts.prune ?? true;
  const { entries, rejected } = validatePeers(desiredPeers);
  const bySubnet = new Map(entries.map((e) => [e.subnet, e]));
  const byIp = new Map(entries.map((e) => [e.vtepIp, e]));
  const byMac = new Map(entries.map((e) => [e.vtepMac, e]));
  const [routes, neighbours, fdb] = await Promise.all([
    h.routeList({ family: 4 }),
    h.neighList({ index: vtep.index, family: 4 }),
    h.fdbList({ index: vtep.index }),
  ]);
  const pass = new Pass();

  // Removals first (routes, FDB, neighbours: the reverse of programming order), then each peer in order.
  const currentRoute = new Map<string, Route>();
  for (const r of routes) {
    const want = bySubnet.get(r.dst);
    // The route a peer's routeReplace would replace: same destination, table, tos and metric, any device.
    if (want && r.tos === 0 && (r.priority ?? 0) === 0) {
      currentRoute.set(r.dst, r);
    } else if (prune && r.oif === vtep.index && r.protocol !== RtProtocol.kernel) {
      pass.apply(pass.removed, { kind: 'route', entry: routeText(r) }, () =>
        tolerateMissing(
          h.routeDel({
            dst: r.dst,
            oif: r.oif,
            gateway: r.gateway,
            metric: r.priority,
            tos: r.tos,
            protocol: r.protocol,
          }),
        ),
      );
    }
  }

  const fdbExact = (f: Neighbour, want: PeerEntries | undefined): boolean =>
    want !== undefined &&
    f.dst === want.publicIp &&
    f.vni === undefined &&
    f.port === undefined &&
    isPermanent(f);
  const fdbOk = new Set(fdb.filter((f) => f.mac && fdbExact(f, byMac.get(f.mac))).map((f) => f.mac));
  const fdbStale = new Set<string>();
  for (const f of fdb) {
    if (f.mac === undefined) continue;
    const want = byMac.get(f.mac);
    if (fdbExact(f, want)) continue;
    const mac = f.mac;
    const change = { kind: 'fdb' as const, entry: fdbText(mac, f.dst), subnet: want?.subnet };
    const del = () =>
      tolerateMissing(h.fdbDel({ index: vtep.index, mac, dst: f.dst, vni: f.vni, port: f.port, self: true }));
    if (want && !fdbOk.has(mac)) {
      // The desired MAC with a stale destination or state: deleted here and set again below, as one fix.
      fdbStale.add(mac);
      pass.apply(undefined, change, del);
    } else if (prune) {
      pass.apply(pass.removed, change, del);
    }
  }

  const neighCurrent = new Map<string, Neighbour>();
  for (const n of neighbours) {
    if (n.ip === undefined) continue;
    if (byIp.has(n.ip)) {
      neighCurrent.set(n.ip, n);
      continue;
    }
    if (!prune) continue;
    pass.apply(pass.removed, { kind: 'neighbour', entry: neighText(n.ip, n.mac) }, () =>
      tolerateMissing(h.neighDel({ index: vtep.index, ip: n.ip ?? '' })),
    );
  }

  for (const e of entries) {
    const n = neighCurrent.get(e.vtepIp);
    const neigh = { kind: 'neighbour' as const, entry: neighText(e.vtepIp, e.vtepMac), subnet: e.subnet };
    if (!n) pass.apply(pass.added, neigh, () => programNeighbour(h, vtep.index, e));
    else if (n.mac !== e.vtepMac || !isPermanent(n)) {
      const reason = n.mac !== e.vtepMac ? `lladdr ${n.mac ?? 'none'}` : `state ${n.state} not permanent`;
      pass.apply(pass.fixed, { ...neigh, reason }, () => programNeighbour(h, vtep.index, e));
    }

    if (!fdbOk.has(e.vtepMac)) {
      const fdbChange = { kind: 'fdb' as const, entry: fdbText(e.vtepMac, e.publicIp), subnet: e.subnet };
      if (fdbStale.has(e.vtepMac)) {
        pass.apply(pass.fixed, { ...fdbChange, reason: 'wrong destination or state' }, () =>
          programFdb(h, vtep.index, e),
        );
      } else {
        pass.apply(pass.added, fdbChange, () => programFdb(h, vtep.index, e));
      }
    }

    const r = currentRoute.get(e.subnet);
    const route = { kind: 'route' as const, entry: wantRouteText(e, protocol), subnet: e.subnet };
    if (!r) pass.apply(pass.added, route, () => programRoute(h, vtep.index, e, protocol));
    else {
      const reason = routeDrift(r, e, vtep.index, protocol);
      if (reason)
        pass.apply(pass.fixed, { ...route, reason }, () => programRoute(h, vtep.index, e, protocol));
    }
  }

  await pass.run(h);
  return {
    added: pass.added,
    fixed: pass.fixed,
    removed: pass.removed,
    failed: pass.failed,
    rejected,
    peers: entries.length,
  };
}
