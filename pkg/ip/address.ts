// IP addresses and subnets as numbers: a family and a bigint value, so range arithmetic is plain addition
// and a range is never enumerated into memory. Text form is the canonical one Go's net.IP.String() prints
// (RFC 5952 for IPv6), because host-local names its allocation files that way.
// Parsing is done here rather than with ip-num: CNI plugins parse a handful of addresses per run, and loading
// ip-num costs each plugin start several milliseconds. The agent's subnet arithmetic uses ip-num.
import { parseIpBytes } from './parse.ts';

export type Family = 4 | 6;

export interface IpAddress {
  readonly family: Family;
  readonly value: bigint;
}

export interface Subnet {
  readonly family: Family;
  /** The network address (host bits zero). */
  readonly network: bigint;
  readonly prefix: number;
}

const V4_MAPPED_PREFIX = 0xffffn << 32n;

export function familyBits(family: Family): number {
  return family === 4 ? 32 : 128;
}

/** Parses an IPv4 or IPv6 address; undefined when `text` is not one (zones such as `%eth0` are refused). */
export function parseIp(text: string): IpAddress | undefined {
  const bytes = parseIpBytes(text);
  if (!bytes) return undefined;
  return { family: bytes.length === 4 ? 4 : 6, value: BigInt(`0x${bytes.toString('hex')}`) };
}

/** IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) become IPv4, as host-local canonicalizes requested IPs. */
export function unmapIpv4(ip: IpAddress): IpAddress {
  if (ip.family === 6 && ip.value >> 32n === V4_MAPPED_PREFIX >> 32n) {
    return { family: 4, value: ip.value & 0xffffffffn };
  }
  return ip;
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest run of 2+ zero groups as `::`). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((shift) => String((v >> shift) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((ip.value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** Parses `address/prefix`; the address keeps its host bits (callers decide whether those are allowed). */
export function parseCidr(text: string): { address: IpAddress; prefix: number } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > familyBits(address.family)) return undefined;
  return { address, prefix };
}

function hostMask(family: Family, prefix: number): bigint {
  return (1n << BigInt(familyBits(family) - prefix)) - 1n;
}

/** The subnet `address/prefix` belongs to. */
export function subnetOf(address: IpAddress, prefix: number): Subnet {
  return { family: address.family, network: address.value & ~hostMask(address.family, prefix), prefix };
}

export function hasHostBits(address: IpAddress, prefix: number): boolean {
  return (address.value & hostMask(address.family, prefix)) !== 0n;
}

/** The last address of the subnet (the IPv4 broadcast address). */
export function lastAddressOf(subnet: Subnet): bigint {
  return subnet.network | hostMask(subnet.family, subnet.prefix);
}

export function subnetContains(subnet: Subnet, ip: IpAddress): boolean {
  return (
    ip.family === subnet.family && (ip.value & ~hostMask(subnet.family, subnet.prefix)) === subnet.network
  );
}

export function formatSubnet(subnet: Subnet): string {
  return `${formatIp({ family: subnet.family, value: subnet.network })}/${subnet.prefix}`;
}
