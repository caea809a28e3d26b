// Netlink wire format: message headers, type-length-value attributes (nested or not), and the scalar
// encodings rtnetlink uses. Pure functions over Buffers; no sockets here.
import { formatIp } from '../ip/address.ts';
import { ipFamilyOf, parseIpBytes } from '../ip/parse.ts';
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_HDRLEN } from './constants.ts';

export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** A decoded attribute. `data` is the payload without header; unknown attributes are kept this way. */
export interface Attr {
  readonly type: number;
  readonly nested: boolean;
  readonly netByteOrder: boolean;
  readonly data: Buffer;
}

/** An attribute to encode: a raw payload, or a list of child attributes. */
export type AttrSpec =
  | { readonly type: number; readonly data: Buffer; readonly netByteOrder?: boolean }
  | { readonly type: number; readonly attrs: readonly AttrSpec[]; readonly nestedFlag?: boolean };

export function encodedAttrsLength(specs: readonly AttrSpec[]): number {
  let len = 0;
  for (const spec of specs) len += align4(NLA_HDRLEN + payloadLength(spec));
  return len;
}

function payloadLength(spec: AttrSpec): number {
  return 'data' in spec ? spec.data.length : encodedAttrsLength(spec.attrs);
}

function writeAttrs(specs: readonly AttrSpec[], out: Buffer, offset: number): number {
  let pos = offset;
  for (const spec of specs) {
    const len = NLA_HDRLEN + payloadLength(spec);
    if (len > 0xffff) throw new RangeError(`netlink attribute ${spec.type} too long (${len} bytes)`);
    let type = spec.type;
    if ('data' in spec) {
      if (spec.netByteOrder) type |= NLA_F_NET_BYTEORDER;
      out.writeUInt16LE(len, pos);
      out.writeUInt16LE(type, pos + 2);
      spec.data.copy(out, pos + NLA_HDRLEN);
    } else {
      if (spec.nestedFlag !== false) type |= NLA_F_NESTED;
      out.writeUInt16LE(len, pos);
      out.writeUInt16LE(type, pos + 2);
      writeAttrs(spec.attrs, out, pos + NLA_HDRLEN);
    }
    const padded = align4(len);
    out.fill(0, pos + len, pos + padded);
    pos += padded;
  }
  return pos;
}

export function encodeAttrs(specs: readonly AttrSpec[]): Buffer {
  const out = Buffer.alloc(encodedAttrsLength(specs));
  writeAttrs(specs, out, 0);
  return out;
}

/** Decodes a run of attributes. Malformed lengths throw: a kernel message must never be misread silently. */
export function decodeAttrs(buf: Buffer): Attr[] {
  const attrs: Attr[] = [];
  let pos = 0;
  while (pos + NLA_HDRLEN <= buf.length) {
    const len = buf.readUInt16LE(pos);
    const rawType = buf.readUInt16LE(pos + 2);
    if (len < NLA_HDRLEN || pos + len > buf.length) {
      throw new RangeError(
        `malformed netlink attribute at offset ${pos}: length ${len}, ${buf.length - pos} left`,
      );
    }
    attrs.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
      data: buf.subarray(pos + NLA_HDRLEN, pos + len),
    });
    pos += align4(len);
  }
  return attrs;
}

/** Re-encodes decoded attributes exactly (flags included): unknown attributes survive a decode. */
export function attrToSpec(attr: Attr): AttrSpec {
  if (attr.nested)
    return { type: attr.type, attrs: decodeAttrs(attr.data).map(attrToSpec), nestedFlag: true };
  return { type: attr.type, data: attr.data, netByteOrder: attr.netByteOrder };
}

/** Attributes by type; the last one wins, as in the kernel's nla_parse. */
export function attrsByType(attrs: readonly Attr[]): Map<number, Attr> {
  const map = new Map<number, Attr>();
  for (const a of attrs) map.set(a.type, a);
  return map;
}

// Scalar payloads.
export const u8 = (v: number): Buffer => Buffer.from([v & 0xff]);
export function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
}
export function u16be(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}
export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}
export function i32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}
export function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}
export function cstring(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]);
}

export const readU8 = (b: Buffer): number => b.readUInt8(0);
export const readU16 = (b: Buffer): number => b.readUInt16LE(0);
export const readU16be = (b: Buffer): number => b.readUInt16BE(0);
export const readU32 = (b: Buffer): number => b.readUInt32LE(0);
export const readI32 = (b: Buffer): number => b.readInt32LE(0);
export const readU64 = (b: Buffer): bigint => b.readBigUInt64LE(0);
export function readCString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

/** Binary form of an IPv4 (4 bytes) or IPv6 (16 bytes) address string. */
export function ipToBuffer(ip: string): Buffer {
  const bytes = parseIpBytes(ip);
  if (!bytes) throw new Error(`invalid IP address ${JSON.stringify(ip)}`);
  return bytes;
}

/** Text form of a 4- or 16-byte address, IPv6 in RFC 5952 canonical form. */
export function bufferToIp(b: Buffer): string {
  if (b.length !== 4 && b.length !== 16)
    throw new RangeError(`address of ${b.length} bytes is neither IPv4 nor IPv6`);
  return formatIp({ family: b.length === 4 ? 4 : 6, value: BigInt(`0x${b.toString('hex')}`) });
}

export function ipFamily(ip: string): 4 | 6 {
  const family = ipFamilyOf(ip);
  if (family === 0) throw new Error(`invalid IP address ${JSON.stringify(ip)}`);
  return family;
}

const MAC_RE = /^([0-9a-fA-F]{2})(:[0-9a-fA-F]{2}){5}$/;

/** `02:42:ac:11:00:02` form (either case). */
export function isMac(text: string): boolean {
  return MAC_RE.test(text);
}

/** A MAC an interface may carry: well-formed, not all zeros, not multicast (the kernel refuses those). */
export function isUnicastMac(text: string): boolean {
  return isMac(text) && !/^(00:){5}00$/.test(text) && (Number.parseInt(text.slice(0, 2), 16) & 1) === 0;
}

export function macToBuffer(mac: string): Buffer {
  if (!MAC_RE.test(mac)) throw new Error(`invalid MAC address ${JSON.stringify(mac)}`);
  return Buffer.from(mac.split(':').map((h) => Number.parseInt(h, 16)));
}

export function bufferToMac(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** One netlink message: header fields and the payload after the 16-byte header. */
export interface NlMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  readonly payload: Buffer;
}

export function encodeMessage(msg: NlMessage): Buffer {
  const len = NLMSG_HDRLEN + msg.payload.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(msg.type, 4);
  out.writeUInt16LE(msg.flags, 6);
  out.writeUInt32LE(msg.seq >>> 0, 8);
  out.writeUInt32LE(msg.pid >>> 0, 12);
  msg.payload.copy(out, NLMSG_HDRLEN);
  return out;
}

/** Splits one datagram into messages. */
export function decodeMessages(buf: Buffer): NlMessage[] {
  const msgs: NlMessage[] = [];
  let pos = 0;
  while (pos + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(pos);
    if (len < NLMSG_HDRLEN || pos + len > buf.length) {
      throw new RangeError(
        `malformed netlink message at offset ${pos}: length ${len}, ${buf.length - pos} left`,
      );
    }
    msgs.push({
      type: buf.readUInt16LE(pos + 4),
      flags: buf.readUInt16LE(pos + 6),
      seq: buf.readUInt32LE(pos + 8),
      pid: buf.readUInt32LE(pos + 12),
      payload: buf.subarray(pos + NLMSG_HDRLEN, pos + len),
    });
    pos += align4(len);
  }
  return msgs;
}
