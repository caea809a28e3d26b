// Interface addresses (IPv4 and IPv6): add, delete, list. Unknown attributes are kept raw.
import {
  type Attr,
  type AttrSpec,
  attrsByType,
  attrToSpec,
  bufferToIp,
  cstring,
  decodeAttrs,
  encodeAttrs,
  ipFamily,
  ipToBuffer,
  type NlMessage,
  readCString,
  readU32,
  u32,
} from './codec.ts';
import { AF_INET, AF_INET6, AF_UNSPEC, Ifa, IfaFlags, NlmFlags, RtmType, RtScope } from './constants.ts';
import type { NetlinkSocket } from './socket.ts';

export type ScopeName = 'universe' | 'site' | 'link' | 'host' | 'nowhere';

export interface Address {
  readonly index: number;
  readonly family: 4 | 6;
  /** The interface's own address: IFA_LOCAL when present, else IFA_ADDRESS. */
  readonly address: string;
  readonly prefixLength: number;
  /** `address/prefixLength`. */
  readonly cidr: string;
  /** IFA_LOCAL as received (IPv4 always; IPv6 only on point-to-point addresses). */
  readonly local?: string;
  /** The peer (IFA_ADDRESS) of a point-to-point address, when it differs from `address`. */
  readonly peer?: string;
  readonly broadcast?: string;
  readonly label?: string;
  readonly scope: number;
  /** IFA_F_* flags (the 32-bit IFA_FLAGS attribute when present). */
  readonly flags: number;
  /** Attributes this library does not decode (IFA_CACHEINFO, ...), kept as received. */
  readonly unknown: readonly Attr[];
}

export interface AddrAddOptions {
  /** IPv4 broadcast; computed from the prefix (like `brd +`) when omitted, none for /31 and /32. */
  readonly broadcast?: string;
  readonly label?: string;
  readonly scope?: ScopeName | number;
  /** IPv6: skip duplicate address detection, so the address is usable at once (not tentative). */
  readonly noDad?: boolean;
  /** Do not add the prefix route the kernel adds for the address's subnet. */
  readonly noPrefixRoute?: boolean;
  /** Update an existing address instead of failing with EEXIST. */
  readonly replace?: boolean;
}

export interface AddrFilter {
  readonly index?: number;
  readonly family?: 4 | 6;
}

const IFADDRMSG_LEN = 8;

export function familyNumber(family: 4 | 6): number {
  return family === 4 ? AF_INET : AF_INET6;
}

export function familyOf(af: number, what: string): 4 | 6 {
  if (af === AF_INET) return 4;
  if (af === AF_INET6) return 6;
  throw new Error(`${what}: address family ${af} is neither AF_INET nor AF_INET6`);
}

/** True for AF_INET and AF_INET6: an AF_UNSPEC dump also returns other families (multicast routing, ...). */
export function isIpFamily(af: number): boolean {
  return af === AF_INET || af === AF_INET6;
}

export function scopeNumber(scope: ScopeName | number): number {
  return typeof scope === 'number' ? scope : RtScope[scope];
}

/** Splits `a.b.c.d/n` or `x::y/n`, checking the address and the prefix length for its family. */
export function parseCidr(cidr: string): { ip: string; prefixLength: number; family: 4 | 6 } {
  const slash = cidr.lastIndexOf('/');
  const text = slash < 0 ? '' : cidr.slice(slash + 1);
  const ip = cidr.slice(0, slash);
  if (slash < 0 || !/^\d{1,3}$/.test(text)) {
    throw new Error(`invalid CIDR ${JSON.stringify(cidr)}: expected address/prefix-length`);
  }
  const family = ipFamily(ip);
  const prefixLength = Number(text);
  if (prefixLength > (family === 4 ? 32 : 128)) {
    throw new Error(`invalid CIDR ${JSON.stringify(cidr)}: prefix length ${prefixLength} too long`);
  }
  return { ip, prefixLength, family };
}

/** The IPv4 broadcast address of `ip/prefixLength` (host bits all ones). */
export function ipv4Broadcast(ip: string, prefixLength: number): string {
  const b = ipToBuffer(ip);
  const hostMask = prefixLength === 0 ? 0xffffffff : (1 << (32 - prefixLength)) - 1;
  b.writeUInt32BE((b.readUInt32BE(0) | hostMask) >>> 0);
  return bufferToIp(b);
}

function encodeIfaddrmsg(family: 4 | 6, prefixLength: number, flags: number, scope: number, index: number) {
  const b = Buffer.alloc(IFADDRMSG_LEN);
  b.writeUInt8(familyNumber(family), 0);
  b.writeUInt8(prefixLength, 1);
  b.writeUInt8(flags & 0xff, 2);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(index >>> 0, 4);
  return b;
}

/**
 * The ifaddrmsg and attributes describing `a`: the inverse of `decodeAddress`, and the body of the add and
 * delete requests.
 */
export function encodeAddress(a: Omit<Address, 'cidr'>): Buffer {
  const attrs: AttrSpec[] = [{ type: Ifa.ADDRESS, data: ipToBuffer(a.peer ?? a.address) }];
  if (a.local !== undefined) attrs.push({ type: Ifa.LOCAL, data: ipToBuffer(a.local) });
  if (a.broadcast !== undefined) attrs.push({ type: Ifa.BROADCAST, data: ipToBuffer(a.broadcast) });
  if (a.label !== undefined) attrs.push({ type: Ifa.LABEL, data: cstring(a.label) });
  attrs.push({ type: Ifa.FLAGS, data: u32(a.flags) });
  attrs.push(...a.unknown.map(attrToSpec));
  return Buffer.concat([
    encodeIfaddrmsg(a.family, a.prefixLength, a.flags, a.scope, a.index),
    encodeAttrs(attrs),
  ]);
}

const DECODED_IFA = new Set<number>([Ifa.ADDRESS, Ifa.LOCAL, Ifa.BROADCAST, Ifa.LABEL, Ifa.FLAGS]);

/** Decodes an RTM_NEWADDR message (a dump entry or an event). */
export function decodeAddress(msg: NlMessage): Address {
  const p = msg.payload;
  if (p.length < IFADDRMSG_LEN) throw new RangeError(`address message of ${p.length} bytes is too short`);
  const family = familyOf(p.readUInt8(0), 'decode address');
  const prefixLength = p.readUInt8(1);
  const attrs = decodeAttrs(p.subarray(IFADDRMSG_LEN));
  const a = attrsByType(attrs);
  const ip = (t: number): string | undefined => {
    const x = a.get(t);
    return x ? bufferToIp(x.data) : undefined;
  };
  const local = ip(Ifa.LOCAL);
  const ifaAddress = ip(Ifa.ADDRESS);
  const address = local ?? ifaAddress;
  if (address === undefined)
    throw new Error('decode address: message carries neither IFA_LOCAL nor IFA_ADDRESS');
  const flagsAttr = a.get(Ifa.FLAGS);
  const label = a.get(Ifa.LABEL);
  return {
    index: p.readUInt32LE(4),
    family,
    address,
    prefixLength,
    cidr: `${address}/${prefixLength}`,
    local,
    peer: ifaAddress !== undefined && ifaAddress !== address ? ifaAddress : undefined,
    broadcast: ip(Ifa.BROADCAST),
    label: label ? readCString(label.data) : undefined,
    scope: p.readUInt8(3),
    flags: flagsAttr ? readU32(flagsAttr.data) : p.readUInt8(2),
    unknown: attrs.filter((x) => !DECODED_IFA.has(x.type)),
  };
}

/** The bare address of a request, before options. */
function addressOf(index: number, ip: string, prefixLength: number, family: 4 | 6): Omit<Address, 'cidr'> {
  return {
    index,
    family,
    address: ip,
    prefixLength,
    // IPv4 carries the address twice, as iproute2 sends it: IFA_LOCAL (own) and IFA_ADDRESS (peer = own).
    local: family === 4 ? ip : undefined,
    scope: 0,
    flags: 0,
    unknown: [],
  };
}

/** Adds `cidr` (e.g. `10.1.0.2/24`, `fd00::2/64`) to the link `index`. EEXIST when present (unless replace). */
export async function addrAdd(
  sock: NetlinkSocket,
  index: number,
  cidr: string,
  opts: AddrAddOptions = {},
): Promise<void> {
  const { ip, prefixLength, family } = parseCidr(cidr);
  let broadcast = opts.broadcast;
  if (broadcast === undefined && family === 4 && prefixLength < 31)
    broadcast = ipv4Broadcast(ip, prefixLength);
  if (broadcast !== undefined && (family !== 4 || ipFamily(broadcast) !== 4)) {
    throw new Error(`add address ${cidr}: broadcast ${broadcast} needs an IPv4 address`);
  }
  await sock.request({
    type: RtmType.NEWADDR,
    flags: NlmFlags.CREATE | (opts.replace ? NlmFlags.REPLACE : NlmFlags.EXCL),
    payload: encodeAddress({
      ...addressOf(index, ip, prefixLength, family),
      broadcast,
      label: opts.label,
      scope: scopeNumber(opts.scope ?? 'universe'),
      flags: (opts.noDad ? IfaFlags.NODAD : 0) | (opts.noPrefixRoute ? IfaFlags.NOPREFIXROUTE : 0),
    }),
    describe: `add address ${cidr} dev ${index}`,
  });
}

/** Removes `cidr` from the link `index`; the kernel answers EADDRNOTAVAIL when it is not there. */
export async function addrDel(sock: NetlinkSocket, index: number, cidr: string): Promise<void> {
  const { ip, prefixLength, family } = parseCidr(cidr);
  await sock.request({
    type: RtmType.DELADDR,
    flags: 0,
    payload: encodeAddress(addressOf(index, ip, prefixLength, family)),
    describe: `delete address ${cidr} dev ${index}`,
  });
}

/** Addresses of the socket's namespace, optionally of one link and one family. */
export async function addrList(sock: NetlinkSocket, filter: AddrFilter = {}): Promise<Address[]> {
  const af = filter.family === undefined ? AF_UNSPEC : familyNumber(filter.family);
  const header = Buffer.alloc(IFADDRMSG_LEN);
  header.writeUInt8(af, 0);
  const replies = await sock.request({
    type: RtmType.GETADDR,
    flags: NlmFlags.DUMP,
    payload: header,
    describe: `list addresses${filter.index === undefined ? '' : ` dev ${filter.index}`}`,
  });
  return replies
    .filter((m) => m.type === RtmType.NEWADDR && isIpFamily(m.payload.readUInt8(0)))
    .map(decodeAddress)
    .filter(
      (a) =>
        (filter.index === undefined || a.index === filter.index) &&
        (filter.family === undefined || a.family === filter.family),
    );
}
