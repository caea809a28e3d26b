// Address and prefix parsing for rule elements: one canonical text form per address, so what we ask nft for
// and what nft lists back compare equal.

import { formatIp, lastAddressOf, parseIp, subnetOf as subnetOfIp } from '../ip/address.ts';
import { ipFamilyOf as isIP } from '../ip/parse.ts';

export type IpFamily = 4 | 6;

/** A network prefix with its host bits cleared: `10.1.0.0/24`, `fd00:1::/64`. */
export interface Cidr {
  readonly family: IpFamily;
  readonly network: string;
  readonly prefix: number;
}

/** An interface address, with the prefix of its subnet (full length when none was given). */
export interface HostAddress {
  readonly family: IpFamily;
  readonly address: string;
  readonly prefix: number;
}

/** Canonical text of an IP address (IPv6 compressed, lower case); throws on anything else. */
export function canonicalAddress(text: string, what = 'address'): string {
  const family = isIP(text);
  if (family === 4) return text;
  // The WHATWG URL parser prints IPv6 hosts in RFC 5952 form.
  if (family === 6) return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  throw new Error(`invalid ${what} ${JSON.stringify(text)}: not an IPv4 or IPv6 address`);
}

function splitPrefix(
  text: string,
  what: string,
): { address: string; family: IpFamily; prefix: number | null } {
  const [address = '', prefixText, extra] = text.split('/');
  const family = isIP(address);
  if ((family !== 4 && family !== 6) || extra !== undefined) {
    throw new Error(`invalid ${what} ${JSON.stringify(text)}: expected ADDRESS or ADDRESS/PREFIX`);
  }
  if (prefixText === undefined) return { address, family, prefix: null };
  const max = family === 4 ? 32 : 128;
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= max)) {
    throw new Error(`invalid ${what} ${JSON.stringify(text)}: prefix length must be 0..${max}`);
  }
  return { address, family, prefix };
}

/** Parses `ADDRESS/PREFIX` (or a bare address, as a host prefix) and clears the host bits. */
export function parseCidr(text: string, what = 'subnet'): Cidr {
  const { address, family, prefix } = splitPrefix(text, what);
  const len = prefix ?? (family === 4 ? 32 : 128);
  const ip = parseIp(address);
  if (!ip) throw new Error(`invalid ${what} ${JSON.stringify(text)}: not an IPv4 or IPv6 address`);
  const subnet = subnetOfIp(ip, len);
  return { family, network: formatIp({ family, value: subnet.network }), prefix: len };
}

/** Parses an interface address `ADDRESS[/PREFIX]`, keeping the host bits. */
export function parseHostAddress(text: string, what = 'address'): HostAddress {
  const { address, family, prefix } = splitPrefix(text, what);
  return { family, address: canonicalAddress(address), prefix: prefix ?? (family === 4 ? 32 : 128) };
}

export function cidrText(c: Cidr): string {
  return `${c.network}/${c.prefix}`;
}

/** The subnet an interface address lies in. */
export function subnetOf(a: HostAddress): Cidr {
  return parseCidr(`${a.address}/${a.prefix}`);
}

function bounds(c: Cidr): [bigint, bigint] {
  const ip = parseIp(c.network);
  if (!ip) throw new Error(`invalid prefix ${cidrText(c)}`);
  const subnet = subnetOfIp(ip, c.prefix);
  return [subnet.network, lastAddressOf(subnet)];
}

/** True when `inner` lies entirely inside `outer` (same family). */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family) return false;
  const [oFirst, oLast] = bounds(outer);
  const [iFirst, iLast] = bounds(inner);
  return oFirst <= iFirst && iLast <= oLast;
}

/** Drops every prefix covered by another one of the list (and duplicates): the smallest equivalent list. */
export function coveringCidrs(list: readonly Cidr[]): Cidr[] {
  const out: Cidr[] = [];
  list.forEach((c, i) => {
    const covered = list.some(
      (other, j) => j !== i && cidrContains(other, c) && (!cidrContains(c, other) || j < i),
    );
    if (!covered) out.push(c);
  });
  return out;
}
