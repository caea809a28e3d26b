// A node's pod subnet as the overlay uses it: its network address is that node's VTEP IP (flannel's layout).
import { ipNum } from '../ip/ip-num.ts';

export interface IPv4Subnet {
  /** Canonical `a.b.c.d/n`. */
  readonly cidr: string;
  /** The network address, e.g. `10.244.5.0` for `10.244.5.0/24`. */
  readonly network: string;
  readonly prefixLength: number;
}

/** Parses an IPv4 CIDR whose host bits are all zero; anything else is a clear error. */
export function parseIPv4Subnet(cidr: string): IPv4Subnet {
  const [valid, problems] = ipNum().Validator.isValidIPv4CidrRange(cidr);
  if (!valid) throw new Error(`invalid subnet ${JSON.stringify(cidr)}: ${problems.join('; ')}`);
  const range = ipNum().IPv4CidrRange.fromCidr(cidr);
  const network = range.getFirst().toString();
  const prefixLength = Number(range.cidrPrefix.getValue());
  return { cidr: `${network}/${prefixLength}`, network, prefixLength };
}
