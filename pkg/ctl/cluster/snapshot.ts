// The cluster as the store holds it at one moment: every subnet lease (with the TTL it has left) and every
// container entry the agents published. Read directly, so it answers while agents are down. A node's name is
// the one its lease records; a lease written before leases recorded it is named by its containers' entries
// (the node their addresses inside its subnet say).
import { type ContainerEntry, containersPrefix, decodeEntry } from '../../discovery/entry.ts';
import { parseCidr, parseIp, subnetContains, subnetOf } from '../../ip/address.ts';
import type { Store } from '../../store/index.ts';
import type { SubnetLease } from '../../subnet/lease.ts';
import { SubnetManager } from '../../subnet/manager.ts';
import { byCodeUnits } from '../../text/order.ts';

export interface LeaseView {
  readonly subnet: string;
  readonly publicIp: string;
  readonly vtepMac: string;
  readonly backend: string;
  /** As the lease records it; undefined in leases written before tsnet recorded names. */
  readonly nodeName: string | undefined;
  /** The store lease the key is bound to; undefined for a key without one (it never expires). */
  readonly leaseId: string | undefined;
  /** Seconds left; undefined when the key has no lease or the lease is already gone. */
  readonly ttlLeft: number | undefined;
  readonly modRevision: number;
}

export interface NodeView {
  /** From the lease; for an older lease from its containers' entries (undefined while none is published). */
  readonly name: string | undefined;
  readonly subnet: string | undefined;
  readonly publicIp: string | undefined;
  readonly vtepMac: string | undefined;
  readonly leaseId: string | undefined;
  readonly ttlLeft: number | undefined;
  readonly containers: number;
  /** Its subnet lease is alive: the other nodes program their overlay entries for it. */
  readonly ready: boolean;
}

export interface ClusterSnapshot {
  readonly leases: readonly LeaseView[];
  readonly containers: readonly ContainerEntry[];
  /** Entries no node could decode (another agent's bug): reported, not fatal. */
  readonly malformed: readonly string[];
  readonly nodes: readonly NodeView[];
}

export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const a = parseIp(ip);
  return c !== undefined && a !== undefined && subnetContains(subnetOf(c.address, c.prefix), a);
}

async function leaseView(store: Store, l: SubnetLease): Promise<LeaseView> {
  return {
    subnet: l.subnet,
    publicIp: l.attrs.PublicIP,
    vtepMac: l.attrs.BackendData.VtepMAC,
    backend: l.attrs.BackendType,
    nodeName: l.attrs.NodeName,
    leaseId: l.lease,
    ttlLeft: l.lease === undefined ? undefined : await store.leaseTimeLeft(l.lease),
    modRevision: l.modRevision,
  };
}

/** The lease whose subnet holds one of the container's addresses: the node that gave it out. */
export function leaseOfContainer(leases: readonly LeaseView[], entry: ContainerEntry): LeaseView | undefined {
  for (const e of entry.endpoints) {
    const ip = e.ipv4;
    const lease = ip ? leases.find((l) => cidrContains(l.subnet, ip)) : undefined;
    if (lease) return lease;
  }
  return undefined;
}

/** Node names for leases: the lease's own, else the one most of its containers say. */
function namesOfLeases(leases: readonly LeaseView[], containers: readonly ContainerEntry[]) {
  const names = new Map<string, string>();
  for (const l of leases) if (l.nodeName !== undefined) names.set(l.subnet, l.nodeName);
  const votes = new Map<string, Map<string, number>>();
  for (const c of containers) {
    const lease = leaseOfContainer(leases, c);
    if (!lease || names.has(lease.subnet)) continue;
    const forLease = votes.get(lease.subnet) ?? new Map<string, number>();
    forLease.set(c.node, (forLease.get(c.node) ?? 0) + 1);
    votes.set(lease.subnet, forLease);
  }
  for (const [subnet, counts] of votes) {
    const best = [...counts].sort((a, b) => b[1] - a[1] || byCodeUnits(a[0], b[0]))[0];
    if (best) names.set(subnet, best[0]);
  }
  return names;
}

export function nodesOf(leases: readonly LeaseView[], containers: readonly ContainerEntry[]): NodeView[] {
  const names = namesOfLeases(leases, containers);
  const count = (name: string | undefined) =>
    name === undefined ? 0 : containers.filter((c) => c.node === name).length;
  const nodes: NodeView[] = leases.map((l) => {
    const name = names.get(l.subnet);
    return {
      name,
      subnet: l.subnet,
      publicIp: l.publicIp,
      vtepMac: l.vtepMac,
      leaseId: l.leaseId,
      ttlLeft: l.ttlLeft,
      containers: count(name),
      ready: l.leaseId === undefined || (l.ttlLeft ?? 0) > 0,
    };
  });
  // A node whose containers are published but which holds no subnet lease (yet, or any more).
  const named = new Set(names.values());
  for (const name of new Set(containers.map((c) => c.node)))
    if (!named.has(name))
      nodes.push({
        name,
        subnet: undefined,
        publicIp: undefined,
        vtepMac: undefined,
        leaseId: undefined,
        ttlLeft: undefined,
        containers: count(name),
        ready: false,
      });
  return nodes.sort((a, b) => byCodeUnits(a.name ?? '~', b.name ?? '~'));
}

export async function readClusterSnapshot(store: Store, prefix: string): Promise<ClusterSnapshot> {
  const { leases } = await new SubnetManager({ store, prefix }).listLeases();
  const views = await Promise.all(leases.map((l) => leaseView(store, l)));
  const listed = await store.list(containersPrefix(prefix));
  const containers: ContainerEntry[] = [];
  const malformed: string[] = [];
  for (const kv of listed.items) {
    try {
      containers.push(decodeEntry(prefix, kv.key, kv.value));
    } catch (err) {
      malformed.push(`${kv.key}: ${(err as Error).message}`);
    }
  }
  containers.sort((a, b) => byCodeUnits(a.node, b.node) || byCodeUnits(a.name, b.name));
  return { leases: views, containers, malformed, nodes: nodesOf(views, containers) };
}

export class ContainerLookupError extends Error {
  override name = 'ContainerLookupError';
}

/** A container by name, full ID or unique ID prefix, as docker resolves them. */
export function findContainer(containers: readonly ContainerEntry[], ref: string): ContainerEntry {
  const byName = containers.filter((c) => c.name === ref.replace(/^\//, ''));
  if (byName.length === 1 && byName[0]) return byName[0];
  if (byName.length > 1)
    throw new ContainerLookupError(
      `container name ${ref} is on several nodes (${byName.map((c) => c.node).join(', ')}): give its ID`,
    );
  const byId = /^[0-9a-f]+$/.test(ref) ? containers.filter((c) => c.id.startsWith(ref)) : [];
  if (byId.length === 1 && byId[0]) return byId[0];
  if (byId.length > 1) throw new ContainerLookupError(`container ID prefix ${ref} is ambiguous`);
  throw new ContainerLookupError(`no container ${ref} in the cluster's discovery entries`);
}
