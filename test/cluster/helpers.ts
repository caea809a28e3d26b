// Shared pieces of the cluster tests: a cluster per test (torn down whatever happens), and iproute2 as the
// independent view of what an agent programmed for a peer on its node.
import type { ExecutionContext } from 'ava';
import {
  type Cluster,
  type ClusterOptions,
  ETCD_PREFIX,
  ipJson,
  startCluster,
  subnetNetwork,
  VTEP_NAME,
} from '../../pkg/cluster/index.ts';
import { EtcdStore } from '../../pkg/store/etcd.ts';
import { leaseFromKeyValue, type SubnetLease, subnetsPrefix } from '../../pkg/subnet/lease.ts';

/** Starts a cluster, runs `fn`, tears the cluster down even when `fn` fails; logs agent logs on failure. */
export async function withCluster<T>(
  t: ExecutionContext,
  options: ClusterOptions,
  fn: (cluster: Cluster) => Promise<T>,
): Promise<T> {
  const cluster = await startCluster(options);
  let ok = false;
  try {
    const result = await fn(cluster);
    ok = true;
    return result;
  } finally {
    if (!ok)
      for (const n of cluster.nodes) t.log(`node${n.index} agent.log:\n${cluster.agentLogTail(n.index, 15)}`);
    await cluster.teardown();
  }
}

/** The network address of a subnet: the remote VTEP IP the overlay uses for a peer. */
export const vtepIpOf = (cidr: string): string => cidr.split('/')[0] ?? '';

export interface PeerEntriesSeen {
  route: boolean;
  neighbour: boolean;
  fdb: boolean;
}

interface OverlayEntries {
  routes: { dst: string; gateway?: string; flags?: string[] }[];
  neigh: { dst: string; lladdr?: string }[];
  fdb: { mac: string; dst?: string }[];
}

async function overlayEntries(nodeNs: string): Promise<OverlayEntries> {
  return {
    routes: await ipJson(nodeNs, ['route', 'show', 'dev', VTEP_NAME]),
    neigh: await ipJson(nodeNs, ['-4', 'neigh', 'show', 'dev', VTEP_NAME]),
    fdb: await ipJson(nodeNs, ['fdb', 'show', 'dev', VTEP_NAME], 'bridge'),
  };
}

/**
 * Which of a peer's entries `nodeNs` holds on tsnet.1, exactly as programmed: route via the VTEP IP onlink,
 * neighbour VTEP IP -> VTEP MAC, FDB VTEP MAC -> underlay IP. Read with ip/bridge -j.
 */
export async function peerEntriesOn(
  nodeNs: string,
  peer: { subnet: string; vtepMac: string; publicIp: string },
): Promise<PeerEntriesSeen> {
  const { routes, neigh, fdb } = await overlayEntries(nodeNs);
  const vtepIp = vtepIpOf(peer.subnet);
  return {
    route: routes.some(
      (r) => r.dst === peer.subnet && r.gateway === vtepIp && (r.flags ?? []).includes('onlink'),
    ),
    neighbour: neigh.some((n) => n.dst === vtepIp && n.lladdr === peer.vtepMac),
    fdb: fdb.some((f) => f.mac === peer.vtepMac && f.dst === peer.publicIp),
  };
}

/** True while anything on tsnet.1 still refers to the peer (its subnet, VTEP IP, VTEP MAC or underlay IP). */
export async function peerTracesOn(
  nodeNs: string,
  peer: { subnet: string; vtepMac: string; publicIp: string },
): Promise<boolean> {
  const { routes, neigh, fdb } = await overlayEntries(nodeNs);
  const vtepIp = vtepIpOf(peer.subnet);
  return (
    routes.some((r) => r.dst === peer.subnet) ||
    neigh.some((n) => n.dst === vtepIp || n.lladdr === peer.vtepMac) ||
    fdb.some((f) => f.mac === peer.vtepMac || f.dst === peer.publicIp)
  );
}

/** Node i as a peer: its subnet (network form), VTEP MAC and underlay IP. */
export async function peerOf(
  cluster: Cluster,
  i: number,
): Promise<{ subnet: string; vtepMac: string; publicIp: string }> {
  const env = cluster.subnetEnv(i);
  if (!env) throw new Error(`node ${i} has no subnet.env`);
  const vtep = await cluster.vtepOf(i);
  return { subnet: subnetNetwork(env.subnet), vtepMac: vtep.mac, publicIp: cluster.nodes[i]?.publicIp ?? '' };
}

/** Every subnet lease in the cluster's etcd, read from the test process over the unix socket. */
export async function leasesInEtcd(cluster: Cluster): Promise<SubnetLease[]> {
  const store = new EtcdStore({ endpoints: [cluster.etcdEndpoint], dialTimeoutMs: 3000 });
  try {
    const listed = await store.list(subnetsPrefix(ETCD_PREFIX));
    return listed.items.map((kv) => leaseFromKeyValue(ETCD_PREFIX, kv));
  } finally {
    await store.close();
  }
}
