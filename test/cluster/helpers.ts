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

/** What `nodeNs` holds on tsnet.1 for a peer (its subnet, VTEP MAC and underlay IP), read with ip/bridge -j. */
export async function peerEntriesOn(
  nodeNs: string,
  peer: { subnet: string; vtepMac: string; publicIp: string },
): Promise<PeerEntriesSeen> {
  const routes = await ipJson<{ dst: string; dev?: string }[]>(nodeNs, ['route', 'show', 'dev', VTEP_NAME]);
  const neigh = await ipJson<{ dst: string; lladdr?: string }[]>(nodeNs, [
    '-4',
    'neigh',
    'show',
    'dev',
    VTEP_NAME,
  ]);
  const fdb = await ipJson<{ mac: string; dst?: string }[]>(
    nodeNs,
    ['fdb', 'show', 'dev', VTEP_NAME],
    'bridge',
  );
  return {
    route: routes.some((r) => r.dst === peer.subnet),
    neighbour: neigh.some((n) => n.dst === vtepIpOf(peer.subnet) || n.lladdr === peer.vtepMac),
    fdb: fdb.some((f) => f.mac === peer.vtepMac || f.dst === peer.publicIp),
  };
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
