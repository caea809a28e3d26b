// What an operator asks of a node: which lease is its own, which peers the store says exist, and whether this
// node's kernel holds the overlay entries each one needs (neighbour, FDB, route), plus entries nobody explains.
import { Handle } from '../netlink/handle.ts';
import { type Peer, peerEntries, TSNET_ROUTE_PROTOCOL } from '../overlay/index.ts';
import { identifyLocalNode, type LocalNode } from './local-node.ts';

export interface PeerDiagnosis {
  readonly subnet: string;
  readonly publicIp: string;
  readonly vtepMac: string;
  readonly neighbour: boolean;
  readonly fdb: boolean;
  readonly route: boolean;
}

export interface NodeDiagnosis {
  readonly vtep:
    | { name: string; index: number; mac?: string; mtu: number; up: boolean; local?: string }
    | undefined;
  /** This node's own lease(s), told by the kernel; undefined when no lease matches this node. */
  readonly local: LocalNode | undefined;
  readonly peers: PeerDiagnosis[];
  /** Overlay routes (our protocol) for subnets no lease explains. */
  readonly foreignRoutes: string[];
  /** Neighbours on the VTEP no lease explains (IP -> MAC). */
  readonly foreignNeighbours: { ip: string; mac: string }[];
  /** Remote FDB entries on the VTEP no lease explains (MAC -> underlay IP). */
  readonly foreignFdb: { mac: string; dst: string }[];
}

/**
 * Compares the kernel of the namespace at `netnsPath` (current when undefined) with every lease but this
 * node's own. `subnetFromFile` (network form, from a subnet.env the operator named) identifies this node only
 * when its kernel does not.
 */
export async function diagnoseNode(
  netnsPath: string | undefined,
  vtepName: string,
  leases: readonly Peer[],
  subnetFromFile?: string,
): Promise<NodeDiagnosis> {
  return Handle.with(netnsPath, async (h) => {
    const vtep = await h.linkFind(vtepName);
    const vtepLocal = vtep?.info.kind === 'vxlan' ? vtep.info.local : undefined;
    const addresses = (await h.addrList({ family: 4 })).map((a) => a.address);
    const local = identifyLocalNode(leases, { vtepLocal, addresses, subnetFromFile });
    const peers = leases.filter((l) => !local?.subnets.includes(l.subnet));
    if (!vtep) {
      return {
        vtep: undefined,
        local,
        peers: peers.map((p) => ({ ...p, neighbour: false, fdb: false, route: false })),
        foreignRoutes: [],
        foreignNeighbours: [],
        foreignFdb: [],
      };
    }
    const [neighbours, fdb, routes] = await Promise.all([
      h.neighList({ index: vtep.index, family: 4 }),
      h.fdbList({ index: vtep.index }),
      h.routeList({ family: 4, oif: vtep.index }),
    ]);
    const ours = routes.filter((r) => r.protocol === TSNET_ROUTE_PROTOCOL);
    const result: PeerDiagnosis[] = peers.map((p) => {
      const e = peerEntries(p);
      return {
        ...p,
        neighbour: neighbours.some((n) => n.ip === e.vtepIp && n.mac === e.vtepMac),
        fdb: fdb.some((f) => f.mac === e.vtepMac && f.dst === e.publicIp),
        route: ours.some((r) => r.dst === e.subnet && r.gateway === e.vtepIp),
      };
    });
    const wanted = peers.map(peerEntries);
    const expected = new Set(wanted.map((e) => e.subnet));
    const explained = (ip: string | undefined, mac: string | undefined, key: 'vtepIp' | 'publicIp') =>
      wanted.some((e) => e[key] === ip && e.vtepMac === mac) || local?.publicIp === ip;
    return {
      vtep: {
        name: vtep.name,
        index: vtep.index,
        mac: vtep.mac,
        mtu: vtep.mtu,
        up: vtep.up,
        local: vtepLocal,
      },
      local,
      peers: result,
      foreignRoutes: ours.map((r) => r.dst).filter((d) => !expected.has(d)),
      foreignNeighbours: neighbours
        .filter((n) => n.ip && n.mac && !explained(n.ip, n.mac, 'vtepIp'))
        .map((n) => ({ ip: n.ip ?? '', mac: n.mac ?? '' })),
      foreignFdb: fdb
        .filter((f) => f.dst && f.mac && !explained(f.dst, f.mac, 'publicIp'))
        .map((f) => ({ mac: f.mac ?? '', dst: f.dst ?? '' })),
    };
  });
}
