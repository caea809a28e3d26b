// Which lease is this node's own. The kernel says it: the VTEP sends from the node's public IP (its
// IFLA_VXLAN_LOCAL), and without a VTEP the node's own addresses still hold it. A subnet.env path is only a
// hint the operator gave: the default one may belong to no agent (a node whose agent keeps it elsewhere) or to
// another node's agent, and trusting it lists the node's own subnet as a peer with every entry missing.
import type { Peer } from '../overlay/index.ts';

export type LocalNodeEvidence = 'vtep-local-address' | 'node-address' | 'subnet-file';

export interface LocalNode {
  /** The node's public IP as its lease names it. */
  readonly publicIp: string;
  /** This node's lease subnets: one, or more while a lease from an earlier run lingers. */
  readonly subnets: string[];
  readonly identifiedBy: LocalNodeEvidence;
}

export interface LocalFacts {
  /** IFLA_VXLAN_LOCAL of the VTEP, when there is one and it has a local address. */
  readonly vtepLocal: string | undefined;
  /** Every IPv4 address in the node's namespace. */
  readonly addresses: readonly string[];
  /** The subnet (network form) of a subnet.env the operator named, when readable. */
  readonly subnetFromFile: string | undefined;
}

/** This node among the leases, or undefined when nothing ties any lease to it. */
export function identifyLocalNode(leases: readonly Peer[], facts: LocalFacts): LocalNode | undefined {
  const leasedFrom = (ip: string): string[] => leases.filter((l) => l.publicIp === ip).map((l) => l.subnet);
  if (facts.vtepLocal) {
    const subnets = leasedFrom(facts.vtepLocal);
    if (subnets.length > 0) return { publicIp: facts.vtepLocal, subnets, identifiedBy: 'vtep-local-address' };
  }
  for (const address of facts.addresses) {
    const subnets = leasedFrom(address);
    if (subnets.length > 0) return { publicIp: address, subnets, identifiedBy: 'node-address' };
  }
  const named = leases.find((l) => l.subnet === facts.subnetFromFile);
  return named
    ? { publicIp: named.publicIp, subnets: [named.subnet], identifiedBy: 'subnet-file' }
    : undefined;
}
