// The data plane for one remote node is three kernel entries on the local VTEP, added in flannel's order so that
// a route never points at a next hop the kernel cannot resolve: neighbour (remote VTEP IP -> remote VTEP MAC),
// FDB (remote VTEP MAC -> remote underlay IP), route (remote pod subnet via remote VTEP IP, onlink). Removal
// runs in reverse. All operations use replace semantics and tolerate entries that are already gone. The three
// requests of one peer go to the kernel in one send (Handle.batch), which handles them in order.
import { isIPv4 } from 'node:net';
import { isUnicastMac } from '../netlink/codec.ts';
import type { Handle } from '../netlink/handle.ts';
import { NetlinkError } from '../netlink/socket.ts';
import { parseIPv4Subnet } from './subnet.ts';

/**
 * The routing protocol id on every route tsnet installs (`ip route show proto 116`), so that our routes are
 * recognisable among others on the overlay device. 116 is unassigned in iproute2's rt_protos.
 */
export const TSNET_ROUTE_PROTOCOL = 116;

/** A remote node as its subnet lease describes it. */
export interface Peer {
  /** The remote node's pod subnet, e.g. `10.244.5.0/24`. */
  readonly subnet: string;
  /** The remote node's underlay address (the outer destination of packets to it). */
  readonly publicIp: string;
  /** The remote node's VTEP MAC. */
  readonly vtepMac: string;
  /** Store revision of the lease: when two peers claim one VTEP MAC or IP, the newer one is programmed. */
  readonly revision?: number;
}

/** The kernel entries one peer needs, in canonical form. */
export interface PeerEntries {
  /** Canonical subnet CIDR: the route's destination. */
  readonly subnet: string;
  /** The remote VTEP IP: the subnet's network address, the route's gateway and the neighbour's IP. */
  readonly vtepIp: string;
  readonly vtepMac: string;
  readonly publicIp: string;
  readonly revision?: number;
}

export interface PeerOptions {
  /** Route protocol id; TSNET_ROUTE_PROTOCOL by default. */
  readonly protocol?: number;
}

/** Validates a peer and derives its entries; throws a clear error on bad input. */
export function peerEntries(peer: Peer): PeerEntries {
  const subnet = parseIPv4Subnet(peer.subnet);
  if (subnet.prefixLength === 0)
    throw new Error(`peer ${peer.subnet}: a /0 subnet would capture every route`);
  if (!isIPv4(peer.publicIp)) {
    throw new Error(`peer ${peer.subnet}: public IP ${JSON.stringify(peer.publicIp)} is not IPv4`);
  }
  const mac = peer.vtepMac.toLowerCase();
  if (!isUnicastMac(mac)) {
    throw new Error(`peer ${peer.subnet}: VTEP MAC ${JSON.stringify(peer.vtepMac)} is not a unicast MAC`);
  }
  return {
    subnet: subnet.cidr,
    vtepIp: subnet.network,
    vtepMac: mac,
    publicIp: peer.publicIp,
    ...(peer.revision !== undefined ? { revision: peer.revision } : {}),
  };
}

/** Runs a delete, treating "already gone" as done; false when there was nothing to delete. */
export async function tolerateMissing(op: Promise<void>): Promise<boolean> {
  try {
    await op;
    return true;
  } catch (err) {
    if (
      err instanceof NetlinkError &&
      (err.code === 'ENOENT' || err.code === 'ESRCH' || err.code === 'ENODEV')
    ) {
      return false;
    }
    throw err;
  }
}

export function programNeighbour(h: Handle, vtepIndex: number, e: PeerEntries): Promise<void> {
  return h.neighSet({ index: vtepIndex, ip: e.vtepIp, mac: e.vtepMac });
}

export function programFdb(h: Handle, vtepIndex: number, e: PeerEntries): Promise<void> {
  return h.fdbSet({ index: vtepIndex, mac: e.vtepMac, dst: e.publicIp, self: true });
}

export function programRoute(h: Handle, vtepIndex: number, e: PeerEntries, protocol: number): Promise<void> {
  return h.routeReplace({ dst: e.subnet, gateway: e.vtepIp, oif: vtepIndex, onlink: true, protocol });
}

/** Programs neighbour, FDB entry and route for one remote node (idempotent). */
export async function programPeer(
  h: Handle,
  vtepIndex: number,
  peer: Peer,
  opts: PeerOptions = {},
): Promise<void> {
  const e = peerEntries(peer);
  // One send, handled by the kernel in this order.
  await Promise.all(
    h.batch(() => [
      programNeighbour(h, vtepIndex, e),
      programFdb(h, vtepIndex, e),
      programRoute(h, vtepIndex, e, opts.protocol ?? TSNET_ROUTE_PROTOCOL),
    ]),
  );
}

/**
 * Removes route, FDB entry and neighbour of one remote node, in that order; entries already missing are fine.
 * Only the route on the VTEP is touched, whatever else routes the same subnet.
 */
export async function removePeer(h: Handle, vtepIndex: number, peer: Peer): Promise<void> {
  const e = peerEntries(peer);
  await Promise.all(
    h.batch(() => [
      tolerateMissing(h.routeDel({ dst: e.subnet, oif: vtepIndex })),
      tolerateMissing(h.fdbDel({ index: vtepIndex, mac: e.vtepMac, dst: e.publicIp, self: true })),
      tolerateMissing(h.neighDel({ index: vtepIndex, ip: e.vtepIp })),
    ]),
  );
}
