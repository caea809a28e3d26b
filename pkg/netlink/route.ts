// Routes (IPv4 and IPv6): add, replace, delete, list; destination, gateway, device, onlink, scope, table,
// metric, preferred source, protocol, type, MTU/advmss metrics. Unknown attributes are kept raw.
import { familyNumber, familyOf, isIpFamily, parseCidr, type ScopeName, scopeNumber } from './addr.ts';
import {
  type Attr,
  type AttrSpec,
  attrsByType,
  attrToSpec,
  bufferToIp,
  decodeAttrs,
  encodeAttrs,
  ipFamily,
  ipToBuffer,
  type NlMessage,
  readU32,
  u32,
} from './codec.ts';
import {
  NlmFlags,
  RTNH_F_ONLINK,
  Rta,
  Rtax,
  RtmType,
  RtnType,
  RtProtocol,
  RtScope,
  RtTable,
} from './constants.ts';
import type { NetlinkSocket } from './socket.ts';

export type RouteTypeName = keyof typeof RtnType;
export type TableName = keyof typeof RtTable;

export interface Route {
  readonly family: 4 | 6;
  /** Destination prefix in canonical form; the default route is `0.0.0.0/0` or `::/0`. */
  readonly dst: string;
  readonly tos: number;
  readonly gateway?: string;
  /** Output interface index. */
  readonly oif?: number;
  /** Preferred source address (RTA_PREFSRC). */
  readonly prefsrc?: string;
  readonly table: number;
  readonly protocol: number;
  readonly scope: number;
  readonly type: number;
  /** The route metric (RTA_PRIORITY). */
  readonly priority?: number;
  readonly onlink: boolean;
  /** All rtm_flags (RTNH_F_*, RTM_F_*), `onlink` included. */
  readonly flags: number;
  readonly mtu?: number;
  readonly advmss?: number;
  /** RTA_METRICS entries other than MTU and ADVMSS, kept as received. */
  readonly otherMetrics: readonly Attr[];
  /** Attributes this library does not decode (RTA_CACHEINFO, RTA_PREF, ...), kept as received. */
  readonly unknown: readonly Attr[];
}

export interface RouteSpec {
  /** `10.1.0.0/24`, `fd00:1::/64`, or `default` (IPv4 unless the gateway or `family` says IPv6). */
  readonly dst: string;
  readonly family?: 4 | 6;
  readonly gateway?: string;
  readonly oif?: number;
  /** Use the gateway even though no address of the device covers it (the VXLAN overlay's routes). */
  readonly onlink?: boolean;
  /** Default as iproute2: `link` without a gateway, `universe` with one; `host` for local routes. */
  readonly scope?: ScopeName | number;
  /** Table id or name; `main` by default. */
  readonly table?: TableName | number;
  readonly metric?: number;
  /** Preferred source address (RTA_PREFSRC). */
  readonly src?: string;
  /** Routing protocol id; `boot` (3) by default, as `ip route add` does. Daemons may use their own. */
  readonly protocol?: number;
  readonly type?: RouteTypeName;
  readonly tos?: number;
  readonly mtu?: number;
  readonly advmss?: number;
}

export interface RouteFilter {
  readonly family?: 4 | 6;
  /** Table id or name; `main` by default, `all` for every table. */
  readonly table?: TableName | number | 'all';
  readonly oif?: number;
}

const RTMSG_LEN = 12;

function tableNumber(table: TableName | number): number {
  return typeof table === 'number' ? table : RtTable[table];
}

/** The destination of `spec` as family, address and prefix length, checking that no host bits are set. */
function parseDst(spec: RouteSpec): { family: 4 | 6; ip: string; prefixLength: number } {
  if (spec.dst === 'default') {
    const family = spec.family ?? (spec.gateway !== undefined ? ipFamily(spec.gateway) : 4);
    return { family, ip: family === 4 ? '0.0.0.0' : '::', prefixLength: 0 };
  }
  const { ip, prefixLength, family } = parseCidr(spec.dst);
  const canonical = maskPrefix(ipToBuffer(ip), prefixLength);
  if (!canonical.equals(ipToBuffer(ip))) {
    throw new Error(
      `route ${spec.dst}: host bits set (did you mean ${bufferToIp(canonical)}/${prefixLength}?)`,
    );
  }
  if (spec.family !== undefined && spec.family !== family) {
    throw new Error(`route ${spec.dst}: destination is not IPv${spec.family}`);
  }
  return { family, ip, prefixLength };
}

function maskPrefix(addr: Buffer, prefixLength: number): Buffer {
  const out = Buffer.from(addr);
  for (let i = 0; i < out.length; i++) {
    const bits = Math.min(8, Math.max(0, prefixLength - i * 8));
    out[i] = (out[i] ?? 0) & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/** The rtmsg and attributes describing `r`: the inverse of `decodeRoute`, and the body of every request. */
export function encodeRoute(r: Route): Buffer {
  const { ip, prefixLength } = parseCidr(r.dst);
  const header = Buffer.alloc(RTMSG_LEN);
  header.writeUInt8(familyNumber(r.family), 0);
  header.writeUInt8(prefixLength, 1);
  header.writeUInt8(0, 2); // src_len: source routing is not supported
  header.writeUInt8(r.tos, 3);
  // Tables above 255 travel in RTA_TABLE only; rtm_table then says RT_TABLE_UNSPEC, as iproute2 sends it.
  header.writeUInt8(r.table < 256 ? r.table : RtTable.unspec, 4);
  header.writeUInt8(r.protocol, 5);
  header.writeUInt8(r.scope, 6);
  header.writeUInt8(r.type, 7);
  header.writeUInt32LE((r.flags | (r.onlink ? RTNH_F_ONLINK : 0)) >>> 0, 8);
  const attrs: AttrSpec[] = [{ type: Rta.TABLE, data: u32(r.table) }];
  if (prefixLength > 0) attrs.push({ type: Rta.DST, data: ipToBuffer(ip) });
  if (r.gateway !== undefined) attrs.push({ type: Rta.GATEWAY, data: ipToBuffer(r.gateway) });
  if (r.oif !== undefined) attrs.push({ type: Rta.OIF, data: u32(r.oif) });
  if (r.prefsrc !== undefined) attrs.push({ type: Rta.PREFSRC, data: ipToBuffer(r.prefsrc) });
  if (r.priority !== undefined) attrs.push({ type: Rta.PRIORITY, data: u32(r.priority) });
  const metrics: AttrSpec[] = [];
  if (r.mtu !== undefined) metrics.push({ type: Rtax.MTU, data: u32(r.mtu) });
  if (r.advmss !== undefined) metrics.push({ type: Rtax.ADVMSS, data: u32(r.advmss) });
  metrics.push(...r.otherMetrics.map(attrToSpec));
  // The kernel parses RTA_METRICS without requiring NLA_F_NESTED, and iproute2 does not set it.
  if (metrics.length > 0) attrs.push({ type: Rta.METRICS, attrs: metrics, nestedFlag: false });
  attrs.push(...r.unknown.map(attrToSpec));
  return Buffer.concat([header, encodeAttrs(attrs)]);
}

const DECODED_RTA = new Set<number>([
  Rta.TABLE,
  Rta.DST,
  Rta.GATEWAY,
  Rta.OIF,
  Rta.PREFSRC,
  Rta.PRIORITY,
  Rta.METRICS,
]);

/** Decodes an RTM_NEWROUTE message (a dump entry or an event). */
export function decodeRoute(msg: NlMessage): Route {
  const p = msg.payload;
  if (p.length < RTMSG_LEN) throw new RangeError(`route message of ${p.length} bytes is too short`);
  const family = familyOf(p.readUInt8(0), 'decode route');
  const dstLen = p.readUInt8(1);
  const flags = p.readUInt32LE(8);
  const attrs = decodeAttrs(p.subarray(RTMSG_LEN));
  const a = attrsByType(attrs);
  const ip = (t: number): string | undefined => {
    const x = a.get(t);
    return x ? bufferToIp(x.data) : undefined;
  };
  const num = (t: number, from = a): number | undefined => {
    const x = from.get(t);
    return x ? readU32(x.data) : undefined;
  };
  const metricsAttr = a.get(Rta.METRICS);
  const metricAttrs = metricsAttr ? decodeAttrs(metricsAttr.data) : [];
  const m = attrsByType(metricAttrs);
  return {
    family,
    dst: `${ip(Rta.DST) ?? (family === 4 ? '0.0.0.0' : '::')}/${dstLen}`,
    tos: p.readUInt8(3),
    gateway: ip(Rta.GATEWAY),
    oif: num(Rta.OIF),
    prefsrc: ip(Rta.PREFSRC),
    table: num(Rta.TABLE) ?? p.readUInt8(4),
    protocol: p.readUInt8(5),
    scope: p.readUInt8(6),
    type: p.readUInt8(7),
    priority: num(Rta.PRIORITY),
    onlink: (flags & RTNH_F_ONLINK) !== 0,
    flags,
    mtu: num(Rtax.MTU, m),
    advmss: num(Rtax.ADVMSS, m),
    otherMetrics: metricAttrs.filter((x) => x.type !== Rtax.MTU && x.type !== Rtax.ADVMSS),
    unknown: attrs.filter((x) => !DECODED_RTA.has(x.type)),
  };
}

/** The route a spec asks for, with iproute2's defaults filled in. */
function routeFromSpec(spec: RouteSpec): Route {
  const { family, ip, prefixLength } = parseDst(spec);
  if (spec.gateway !== undefined && ipFamily(spec.gateway) !== family) {
    throw new Error(
      `route ${spec.dst}: gateway ${spec.gateway} is not IPv${family} (RTA_VIA is not supported)`,
    );
  }
  if (spec.src !== undefined && ipFamily(spec.src) !== family) {
    throw new Error(`route ${spec.dst}: source ${spec.src} is not IPv${family}`);
  }
  const type = spec.type ?? 'unicast';
  const defaultScope: ScopeName =
    type === 'local' ? 'host' : spec.gateway === undefined && type === 'unicast' ? 'link' : 'universe';
  return {
    family,
    dst: `${ip}/${prefixLength}`,
    tos: spec.tos ?? 0,
    gateway: spec.gateway,
    oif: spec.oif,
    prefsrc: spec.src,
    table: tableNumber(spec.table ?? 'main'),
    protocol: spec.protocol ?? RtProtocol.boot,
    scope: scopeNumber(spec.scope ?? defaultScope),
    type: RtnType[type],
    priority: spec.metric,
    onlink: spec.onlink ?? false,
    flags: 0,
    mtu: spec.mtu,
    advmss: spec.advmss,
    otherMetrics: [],
    unknown: [],
  };
}

function describeRoute(verb: string, spec: RouteSpec): string {
  const parts = [verb, 'route', spec.dst];
  if (spec.gateway !== undefined) parts.push('via', spec.gateway);
  if (spec.oif !== undefined) parts.push('dev', String(spec.oif));
  if (spec.onlink) parts.push('onlink');
  if (spec.table !== undefined) parts.push('table', String(spec.table));
  if (spec.metric !== undefined) parts.push('metric', String(spec.metric));
  return parts.join(' ');
}

function sendRoute(sock: NetlinkSocket, type: number, flags: number, route: Route, describe: string) {
  return sock.request({ type, flags, payload: encodeRoute(route), describe });
}

/** Adds a route; EEXIST when an identical destination (same table, tos and metric) exists. */
export async function routeAdd(sock: NetlinkSocket, spec: RouteSpec): Promise<void> {
  const flags = NlmFlags.CREATE | NlmFlags.EXCL;
  await sendRoute(sock, RtmType.NEWROUTE, flags, routeFromSpec(spec), describeRoute('add', spec));
}

/** Adds the route or replaces the one with the same destination, table, tos and metric (idempotent). */
export async function routeReplace(sock: NetlinkSocket, spec: RouteSpec): Promise<void> {
  const flags = NlmFlags.CREATE | NlmFlags.REPLACE;
  await sendRoute(sock, RtmType.NEWROUTE, flags, routeFromSpec(spec), describeRoute('replace', spec));
}

/**
 * Deletes the first route matching `spec`; what the spec leaves out matches anything (as `ip route del`).
 * ESRCH when none matches.
 */
export async function routeDel(sock: NetlinkSocket, spec: RouteSpec): Promise<void> {
  const route = routeFromSpec(spec);
  const match: Route = {
    ...route,
    // Zero protocol and type, and scope "nowhere", are the kernel's wildcards for a delete.
    protocol: spec.protocol ?? RtProtocol.unspec,
    type: spec.type === undefined ? RtnType.unspec : route.type,
    scope: spec.scope === undefined ? RtScope.nowhere : route.scope,
  };
  await sendRoute(sock, RtmType.DELROUTE, 0, match, describeRoute('delete', spec));
}

/** Routes of one table (main by default) in the socket's namespace, optionally of one family and device. */
export async function routeList(sock: NetlinkSocket, filter: RouteFilter = {}): Promise<Route[]> {
  const header = Buffer.alloc(RTMSG_LEN);
  header.writeUInt8(filter.family === undefined ? 0 : familyNumber(filter.family), 0);
  const table = filter.table ?? 'main';
  const tableId = table === 'all' ? undefined : tableNumber(table);
  // A dump returns every table of the family (or of all families): filtered here.
  const replies = await sock.request({
    type: RtmType.GETROUTE,
    flags: NlmFlags.DUMP,
    payload: header,
    describe: `list routes table ${table}`,
  });
  return replies
    .filter((msg) => msg.type === RtmType.NEWROUTE && isIpFamily(msg.payload.readUInt8(0)))
    .map(decodeRoute)
    .filter(
      (r) =>
        (tableId === undefined || r.table === tableId) &&
        (filter.family === undefined || r.family === filter.family) &&
        (filter.oif === undefined || r.oif === filter.oif),
    );
}
