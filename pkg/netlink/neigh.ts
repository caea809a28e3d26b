// Neighbours: ARP/NDP entries (permanent ones included) and bridge FDB entries (self/master, with `dst`
// for vxlan devices). Unknown attributes are kept raw.
import { familyNumber } from './addr.ts';
import {
  type Attr,
  type AttrSpec,
  attrsByType,
  attrToSpec,
  bufferToIp,
  bufferToMac,
  decodeAttrs,
  encodeAttrs,
  ipFamily,
  ipToBuffer,
  macToBuffer,
  type NlMessage,
  readU16,
  readU16be,
  readU32,
  u16,
  u16be,
  u32,
} from './codec.ts';
import {
  AF_BRIDGE,
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  Nda,
  NlmFlags,
  NtfFlags,
  NudState,
  RtmType,
} from './constants.ts';
import type { NetlinkSocket } from './socket.ts';

export type NeighFamily = 4 | 6 | 'bridge';

export interface Neighbour {
  readonly family: NeighFamily;
  readonly index: number;
  /** The neighbour's IP (NDA_DST) of an ARP/NDP entry. */
  readonly ip?: string;
  /** The remote endpoint (NDA_DST) of an FDB entry on a vxlan device. */
  readonly dst?: string;
  readonly mac?: string;
  /** NUD_* state bits. */
  readonly state: number;
  /** NTF_* flags. */
  readonly flags: number;
  /** ndm_type (an RTN_* route type). */
  readonly type: number;
  readonly vlan?: number;
  readonly vni?: number;
  /** Remote UDP port of a vxlan FDB entry. */
  readonly port?: number;
  /** Index of the bridge (master) that holds this FDB entry. */
  readonly master?: number;
  /** Attributes this library does not decode (NDA_CACHEINFO, NDA_PROBES, ...), kept as received. */
  readonly unknown: readonly Attr[];
}

export interface NeighSpec {
  readonly index: number;
  readonly ip: string;
  readonly mac: string;
  /** NUD_* state; PERMANENT by default. */
  readonly state?: number;
}

export interface NeighFilter {
  readonly index?: number;
  readonly family?: 4 | 6;
}

export interface FdbSpec {
  /** The device that holds the entry (a vxlan device, or a bridge port). */
  readonly index: number;
  readonly mac: string;
  /** Remote VTEP (underlay) address of a vxlan entry. */
  readonly dst?: string;
  /** The device's own FDB (NTF_SELF). Assumed when neither `self` nor `master` is set, as iproute2 does. */
  readonly self?: boolean;
  /** The master bridge's FDB (NTF_MASTER). */
  readonly master?: boolean;
  /** NUD_* state; NOARP|PERMANENT by default, as `bridge fdb ... permanent` sends it. */
  readonly state?: number;
  readonly vlan?: number;
  readonly vni?: number;
  readonly port?: number;
}

export type FdbDelSpec = Pick<FdbSpec, 'index' | 'mac' | 'dst' | 'self' | 'master' | 'vlan' | 'vni' | 'port'>;

const NDMSG_LEN = 12;

function neighFamilyNumber(family: NeighFamily): number {
  return family === 'bridge' ? AF_BRIDGE : familyNumber(family);
}

function neighFamilyOf(af: number): NeighFamily | undefined {
  if (af === AF_INET) return 4;
  if (af === AF_INET6) return 6;
  if (af === AF_BRIDGE) return 'bridge';
  return undefined;
}

/** The ndmsg and attributes describing `n`: the inverse of `decodeNeighbour`, and the body of every request. */
export function encodeNeighbour(n: Neighbour): Buffer {
  const header = Buffer.alloc(NDMSG_LEN);
  header.writeUInt8(neighFamilyNumber(n.family), 0);
  header.writeInt32LE(n.index, 4);
  header.writeUInt16LE(n.state, 8);
  header.writeUInt8(n.flags, 10);
  header.writeUInt8(n.type, 11);
  const attrs: AttrSpec[] = [];
  const dst = n.family === 'bridge' ? n.dst : n.ip;
  if (dst !== undefined) attrs.push({ type: Nda.DST, data: ipToBuffer(dst) });
  if (n.mac !== undefined) attrs.push({ type: Nda.LLADDR, data: macToBuffer(n.mac) });
  if (n.vlan !== undefined) attrs.push({ type: Nda.VLAN, data: u16(n.vlan) });
  if (n.port !== undefined) attrs.push({ type: Nda.PORT, data: u16be(n.port) });
  if (n.vni !== undefined) attrs.push({ type: Nda.VNI, data: u32(n.vni) });
  if (n.master !== undefined) attrs.push({ type: Nda.MASTER, data: u32(n.master) });
  attrs.push(...n.unknown.map(attrToSpec));
  return Buffer.concat([header, encodeAttrs(attrs)]);
}

/** Decodes an RTM_NEWNEIGH message (a dump entry or an event) of family AF_INET, AF_INET6 or AF_BRIDGE. */
export function decodeNeighbour(msg: NlMessage): Neighbour {
  const p = msg.payload;
  if (p.length < NDMSG_LEN) throw new RangeError(`neighbour message of ${p.length} bytes is too short`);
  const family = neighFamilyOf(p.readUInt8(0));
  if (family === undefined) throw new Error(`decode neighbour: unsupported address family ${p.readUInt8(0)}`);
  const attrs = decodeAttrs(p.subarray(NDMSG_LEN));
  const a = attrsByType(attrs);
  const decoded = new Set<Attr>();
  const take = <T>(t: number, read: (b: Buffer) => T, valid = (_: Buffer) => true): T | undefined => {
    const x = a.get(t);
    if (!x || !valid(x.data)) return undefined;
    decoded.add(x);
    return read(x.data);
  };
  const dst = take(Nda.DST, bufferToIp, (b) => b.length === 4 || b.length === 16);
  return {
    family,
    index: p.readInt32LE(4),
    ip: family === 'bridge' ? undefined : dst,
    dst: family === 'bridge' ? dst : undefined,
    // A link-layer address that is not Ethernet (e.g. an IPv4 tunnel's) stays raw in `unknown`.
    mac: take(Nda.LLADDR, bufferToMac, (b) => b.length === 6),
    state: p.readUInt16LE(8),
    flags: p.readUInt8(10),
    type: p.readUInt8(11),
    vlan: take(Nda.VLAN, readU16, (b) => b.length >= 2),
    vni: take(Nda.VNI, readU32, (b) => b.length >= 4),
    port: take(Nda.PORT, readU16be, (b) => b.length >= 2),
    master: take(Nda.MASTER, readU32, (b) => b.length >= 4),
    unknown: attrs.filter((x) => !decoded.has(x)),
  };
}

/** The entry a spec asks for; a delete names no MAC. PERMANENT by default, as iproute2 sends it. */
function neighbourFromSpec(spec: Omit<NeighSpec, 'mac'> & { mac?: string }): Neighbour {
  return {
    family: ipFamily(spec.ip),
    index: spec.index,
    ip: spec.ip,
    mac: spec.mac,
    state: spec.state ?? NudState.PERMANENT,
    flags: 0,
    type: 0,
    unknown: [],
  };
}

function sendNeighbour(sock: NetlinkSocket, type: number, flags: number, n: Neighbour, describe: string) {
  return sock.request({ type, flags, payload: encodeNeighbour(n), describe });
}

/** Creates or updates an ARP/NDP entry (idempotent, like `ip neigh replace`). */
export async function neighSet(sock: NetlinkSocket, spec: NeighSpec): Promise<void> {
  const describe = `replace neighbour ${spec.ip} lladdr ${spec.mac} dev ${spec.index}`;
  const flags = NlmFlags.CREATE | NlmFlags.REPLACE;
  await sendNeighbour(sock, RtmType.NEWNEIGH, flags, neighbourFromSpec(spec), describe);
}

/** Creates an ARP/NDP entry; EEXIST when one exists for this IP on this device. */
export async function neighAdd(sock: NetlinkSocket, spec: NeighSpec): Promise<void> {
  const describe = `add neighbour ${spec.ip} lladdr ${spec.mac} dev ${spec.index}`;
  const flags = NlmFlags.CREATE | NlmFlags.EXCL;
  await sendNeighbour(sock, RtmType.NEWNEIGH, flags, neighbourFromSpec(spec), describe);
}

/** Deletes the ARP/NDP entry for `ip` on the device; ENOENT when there is none. */
export async function neighDel(sock: NetlinkSocket, spec: { index: number; ip: string }): Promise<void> {
  const describe = `delete neighbour ${spec.ip} dev ${spec.index}`;
  await sendNeighbour(sock, RtmType.DELNEIGH, 0, neighbourFromSpec(spec), describe);
}

async function dumpNeighbours(sock: NetlinkSocket, af: number, describe: string): Promise<Neighbour[]> {
  const header = Buffer.alloc(NDMSG_LEN);
  header.writeUInt8(af, 0);
  const replies = await sock.request({
    type: RtmType.GETNEIGH,
    flags: NlmFlags.DUMP,
    payload: header,
    describe,
  });
  return replies
    .filter((m) => m.type === RtmType.NEWNEIGH && neighFamilyOf(m.payload.readUInt8(0)) !== undefined)
    .map(decodeNeighbour);
}

/** ARP and NDP entries (not FDB entries), optionally of one device and one family. */
export async function neighList(sock: NetlinkSocket, filter: NeighFilter = {}): Promise<Neighbour[]> {
  const af = filter.family === undefined ? AF_UNSPEC : familyNumber(filter.family);
  const all = await dumpNeighbours(
    sock,
    af,
    `list neighbours${filter.index === undefined ? '' : ` dev ${filter.index}`}`,
  );
  return all.filter(
    (n) =>
      n.family !== 'bridge' &&
      (filter.family === undefined || n.family === filter.family) &&
      (filter.index === undefined || n.index === filter.index),
  );
}

function fdbFlags(spec: Pick<FdbSpec, 'self' | 'master'>): number {
  const self = spec.self ?? !spec.master;
  return (self ? NtfFlags.SELF : 0) | (spec.master ? NtfFlags.MASTER : 0);
}

function fdbEntry(spec: FdbSpec, state: number): Neighbour {
  return {
    family: 'bridge',
    index: spec.index,
    dst: spec.dst,
    mac: spec.mac,
    state,
    flags: fdbFlags(spec),
    type: 0,
    vlan: spec.vlan,
    vni: spec.vni,
    port: spec.port,
    unknown: [],
  };
}

function describeFdb(verb: string, spec: FdbDelSpec): string {
  const flags = fdbFlags(spec);
  const parts = [verb, 'fdb', spec.mac, 'dev', String(spec.index)];
  if (spec.dst !== undefined) parts.push('dst', spec.dst);
  if (flags & NtfFlags.SELF) parts.push('self');
  if (flags & NtfFlags.MASTER) parts.push('master');
  return parts.join(' ');
}

const FDB_PERMANENT = NudState.NOARP | NudState.PERMANENT;

/** Creates or replaces the FDB entry for `mac` (`bridge fdb replace ... self permanent`). */
export async function fdbSet(sock: NetlinkSocket, spec: FdbSpec): Promise<void> {
  const entry = fdbEntry(spec, spec.state ?? FDB_PERMANENT);
  const flags = NlmFlags.CREATE | NlmFlags.REPLACE;
  await sendNeighbour(sock, RtmType.NEWNEIGH, flags, entry, describeFdb('replace', spec));
}

/**
 * Adds one more destination for `mac` (`bridge fdb append`): on a vxlan device the all-zeros MAC with
 * several `dst`s is the flood list for broadcast and unknown unicast.
 */
export async function fdbAppend(sock: NetlinkSocket, spec: FdbSpec): Promise<void> {
  const entry = fdbEntry(spec, spec.state ?? FDB_PERMANENT);
  const flags = NlmFlags.CREATE | NlmFlags.APPEND;
  await sendNeighbour(sock, RtmType.NEWNEIGH, flags, entry, describeFdb('append', spec));
}

/** Deletes the FDB entry for `mac` (only its `dst` destination when given); ENOENT when missing. */
export async function fdbDel(sock: NetlinkSocket, spec: FdbDelSpec): Promise<void> {
  const entry = fdbEntry(spec, FDB_PERMANENT);
  await sendNeighbour(sock, RtmType.DELNEIGH, 0, entry, describeFdb('delete', spec));
}

/** Bridge FDB entries of every device (bridges and vxlan devices), optionally of one device. */
export async function fdbList(sock: NetlinkSocket, filter: { index?: number } = {}): Promise<Neighbour[]> {
  const all = await dumpNeighbours(
    sock,
    AF_BRIDGE,
    `list fdb${filter.index === undefined ? '' : ` dev ${filter.index}`}`,
  );
  return all.filter((n) => n.family === 'bridge' && (filter.index === undefined || n.index === filter.index));
}
