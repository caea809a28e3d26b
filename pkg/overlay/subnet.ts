// A node's pod subnet as the overlay uses it: its network address is that node's VTEP IP (flannel's layout).
// Parsed with pkg/ip: every peer's lease goes through here, on the path of the agent's start.
import { formatIp, hasHostBits, parseCidr } from '../ip/address.ts';

export interface IPv4Subnet {
  /** Canonical `a.b.c.d/n`. */
  readonly cidr: string;
  /** The network address, e.g. `10.244.5.0` for `10.244.5.0/24`. */
  readonly network: string;
  readonly prefixLength: number;
}

/** Parses an IPv4 CIDR whose host bits are all zero; anything else is a clear error. */
export function parseIPv4Subnet(cidr: string): IPv4Subnet {
  const parsed = parseCidr(cidr);
  if (parsed?.address.family !== 4)
    throw new Error(`invalid subnet ${JSON.stringify(cidr)}: not an IPv4 CIDR like 10.244.5.0/24`);
  if (hasHostBits(parsed.address, parsed.prefix))
    throw new Error(
      `invalid subnet ${JSON.stringify(cidr)}: host bits set (a subnet is its network address)`,
    );
  const network = formatIp(parsed.address);
  return { cidr: `${network}/${parsed.prefix}`, network, prefixLength: parsed.prefix };
}
