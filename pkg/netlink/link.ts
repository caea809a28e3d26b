// Links: typed kinds (veth, bridge, vxlan, macvlan, dummy, and devices we did not create) over common
// attributes, with create, get, list, set and delete. Unknown attributes are kept raw.
import { openNetns } from '../netns/index.ts';
import {
  type Attr,
  type AttrSpec,
  attrsByType,
  bufferToIp,
  bufferToMac,
  cstring,
  decodeAttrs,
  encodeAttrs,
  ipFamily,
  ipToBuffer,
  macToBuffer,
  type NlMessage,
  readCString,
  readI32,
  readU8,
  readU16be,
  readU32,
  u8,
  u16,
  u16be,
  u32,
} from './codec.ts';
import {
  AF_BRIDGE,
  AF_UNSPEC,
  BridgeFlags,
  BridgeVlanInfo,
  IfFlags,
  Ifla,
  IflaBr,
  IflaBridge,
  IflaBrport,
  IflaInfo,
  IflaMacvlan,
  IflaVxlan,
  MacvlanMode,
  NlmFlags,
  RtmType,
  VETH_INFO_PEER,
} from './constants.ts';
import { NetlinkError, type NetlinkSocket } from './socket.ts';

export type MacvlanModeName = keyof typeof MacvlanMode;

export interface BridgeInfo {
  readonly kind: 'bridge';
  readonly stpState?: number;
  readonly vlanFiltering?: boolean;
  /** Seconds. */
  readonly ageingTime?: number;
}
export interface VethInfo {
  readonly kind: 'veth';
}
export interface VxlanInfo {
  readonly kind: 'vxlan';
  readonly vni: number;
  readonly local?: string;
  readonly group?: string;
  /** Underlay device index. */
  readonly device?: number;
  readonly port?: number;
  readonly learning?: boolean;
  readonly ttl?: number;
  readonly tos?: number;
  /** FDB ageing in seconds. */
  readonly ageing?: number;
  readonly proxy?: boolean;
  readonly l2miss?: boolean;
  readonly l3miss?: boolean;
  readonly udpCsum?: boolean;
}
export interface MacvlanInfo {
  readonly kind: 'macvlan';
  readonly mode: MacvlanModeName;
}
export interface DummyInfo {
  readonly kind: 'dummy';
}
/** A link of a kind this library has no type for, or a plain device (kindName ''), with its data kept raw. */
export interface OtherInfo {
  readonly kind: 'other';
  readonly kindName: string;
  readonly data?: readonly Attr[];
}
export type LinkInfo = BridgeInfo | VethInfo | VxlanInfo | MacvlanInfo | DummyInfo | OtherInfo;

export interface BridgePortInfo {
  readonly state?: number;
  readonly hairpin?: boolean;
  readonly learning?: boolean;
}

export interface Link {
  readonly index: number;
  readonly name: string;
  readonly flags: number;
  readonly up: boolean;
  readonly mtu: number;
  readonly mac?: string;
  readonly operState?: number;
  readonly txqlen?: number;
  /** Index of the bridge (or other master) this link is enslaved to. */
  readonly masterIndex?: number;
  /** IFLA_LINK: the parent (macvlan, vxlan underlay) or veth peer index, possibly in another namespace. */
  readonly parentIndex?: number;
  /** Set when `parentIndex` lives in another namespace. */
  readonly parentNetnsId?: number;
  readonly promiscuity?: number;
  readonly alias?: string;
  readonly info: LinkInfo;
  readonly bridgePort?: BridgePortInfo;
  /** Attributes this library does not decode, kept as received. */
  readonly unknown: readonly Attr[];
}

interface CommonSpec {
  readonly name: string;
  readonly mtu?: number;
  readonly mac?: string;
  readonly up?: boolean;
  readonly txqlen?: number;
  /** Master (bridge) index. */
  readonly masterIndex?: number;
  /** Create the link directly inside the namespace at this path. */
  readonly netns?: string;
}
export interface VethPeerSpec {
  readonly name: string;
  /** Namespace path where the peer is created and named. */
  readonly netns?: string;
  readonly mac?: string;
  readonly mtu?: number;
}
export type LinkSpec = CommonSpec &
  (
    | { readonly kind: 'veth'; readonly peer: VethPeerSpec }
    | {
        readonly kind: 'bridge';
        readonly vlanFiltering?: boolean;
        readonly stpState?: number;
        readonly ageingTime?: number;
      }
    | VxlanInfo
    | { readonly kind: 'macvlan'; readonly parentIndex: number; readonly mode?: MacvlanModeName }
    | { readonly kind: 'dummy' }
  );

const IFNAMSIZ = 16;

/** Kernel interface-name rules (dev_valid_name): 1-15 bytes, not '.'/'..', no '/', ':' or whitespace. */
export function validateLinkName(name: string): void {
  if (
    name.length === 0 ||
    Buffer.byteLength(name) >= IFNAMSIZ ||
    name === '.' ||
    name === '..' ||
    /[/:\s]/.test(name)
  ) {
    throw new Error(`invalid interface name ${JSON.stringify(name)}: 1-15 bytes, no '/', ':' or whitespace`);
  }
}

export function encodeIfinfomsg(family: number, index: number, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(family, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

const bool = (v: boolean): Buffer => u8(v ? 1 : 0);

function kindDataSpecs(spec: LinkSpec): AttrSpec[] {
  switch (spec.kind) {
    case 'bridge': {
      const a: AttrSpec[] = [];
      if (spec.stpState !== undefined) a.push({ type: IflaBr.STP_STATE, data: u32(spec.stpState) });
      // Off is the kernel default; sending it anyway fails on kernels built without VLAN filtering.
      if (spec.vlanFiltering) a.push({ type: IflaBr.VLAN_FILTERING, data: bool(true) });
      if (spec.ageingTime !== undefined)
        a.push({ type: IflaBr.AGEING_TIME, data: u32(spec.ageingTime * 100) });
      return a;
    }
    case 'vxlan': {
      const a: AttrSpec[] = [{ type: IflaVxlan.ID, data: u32(spec.vni) }];
      if (spec.local !== undefined) {
        a.push({
          type: ipFamily(spec.local) === 4 ? IflaVxlan.LOCAL : IflaVxlan.LOCAL6,
          data: ipToBuffer(spec.local),
        });
      }
      if (spec.group !== undefined) {
        a.push({
          type: ipFamily(spec.group) === 4 ? IflaVxlan.GROUP : IflaVxlan.GROUP6,
          data: ipToBuffer(spec.group),
        });
      }
      if (spec.device !== undefined) a.push({ type: IflaVxlan.LINK, data: u32(spec.device) });
      if (spec.port !== undefined) a.push({ type: IflaVxlan.PORT, data: u16be(spec.port) });
      if (spec.learning !== undefined) a.push({ type: IflaVxlan.LEARNING, data: bool(spec.learning) });
      if (spec.ttl !== undefined) a.push({ type: IflaVxlan.TTL, data: u8(spec.ttl) });
      if (spec.tos !== undefined) a.push({ type: IflaVxlan.TOS, data: u8(spec.tos) });
      if (spec.ageing !== undefined) a.push({ type: IflaVxlan.AGEING, data: u32(spec.ageing) });
      if (spec.proxy !== undefined) a.push({ type: IflaVxlan.PROXY, data: bool(spec.proxy) });
      if (spec.l2miss !== undefined) a.push({ type: IflaVxlan.L2MISS, data: bool(spec.l2miss) });
      if (spec.l3miss !== undefined) a.push({ type: IflaVxlan.L3MISS, data: bool(spec.l3miss) });
      if (spec.udpCsum !== undefined) a.push({ type: IflaVxlan.UDP_CSUM, data: bool(spec.udpCsum) });
      return a;
    }
    case 'macvlan':
      return [{ type: IflaMacvlan.MODE, data: u32(MacvlanMode[spec.mode ?? 'bridge']) }];
    default:
      return [];
  }
}

/** Builds the RTM_NEWLINK message that creates `spec`. Namespace fds are opened by the caller. */
function newLinkPayload(
  spec: LinkSpec,
  netnsFd: number | undefined,
  peerNetnsFd: number | undefined,
): Buffer {
  const up = spec.up ? IfFlags.UP : 0;
  const attrs: AttrSpec[] = [{ type: Ifla.IFNAME, data: cstring(spec.name) }];
  if (spec.mtu !== undefined) attrs.push({ type: Ifla.MTU, data: u32(spec.mtu) });
  if (spec.mac !== undefined) attrs.push({ type: Ifla.ADDRESS, data: macToBuffer(spec.mac) });
  if (spec.txqlen !== undefined) attrs.push({ type: Ifla.TXQLEN, data: u32(spec.txqlen) });
  if (spec.masterIndex !== undefined) attrs.push({ type: Ifla.MASTER, data: u32(spec.masterIndex) });
  if (spec.kind === 'macvlan') attrs.push({ type: Ifla.LINK, data: u32(spec.parentIndex) });
  if (netnsFd !== undefined) attrs.push({ type: Ifla.NET_NS_FD, data: u32(netnsFd) });

  const info: AttrSpec[] = [{ type: IflaInfo.KIND, data: cstring(spec.kind) }];
  if (spec.kind === 'veth') {
    const peer = spec.peer;
    const peerAttrs: AttrSpec[] = [{ type: Ifla.IFNAME, data: cstring(peer.name) }];
    if (peer.mtu !== undefined || spec.mtu !== undefined) {
      peerAttrs.push({ type: Ifla.MTU, data: u32(peer.mtu ?? spec.mtu ?? 0) });
    }
    if (peer.mac !== undefined) peerAttrs.push({ type: Ifla.ADDRESS, data: macToBuffer(peer.mac) });
    if (peerNetnsFd !== undefined) peerAttrs.push({ type: Ifla.NET_NS_FD, data: u32(peerNetnsFd) });
    // VETH_INFO_PEER carries a whole ifinfomsg followed by the peer's attributes. The peer is brought up
    // afterwards in its own namespace: UP inside VETH_INFO_PEER fails (ENOTCONN) for a peer moved elsewhere.
    const peerPayload = Buffer.concat([encodeIfinfomsg(AF_UNSPEC, 0), encodeAttrs(peerAttrs)]);
    info.push({ type: IflaInfo.DATA, attrs: [{ type: VETH_INFO_PEER, data: peerPayload }] });
  } else {
    const data = kindDataSpecs(spec);
    if (data.length > 0) info.push({ type: IflaInfo.DATA, attrs: data });
  }
  attrs.push({ type: Ifla.LINKINFO, attrs: info });
  return Buffer.concat([encodeIfinfomsg(AF_UNSPEC, 0, up, up), encodeAttrs(attrs)]);
}

function describeSpec(spec: LinkSpec): string {
  const peer =
    spec.kind === 'veth' ? ` peer ${spec.peer.name}${spec.peer.netns ? ` in ${spec.peer.netns}` : ''}` : '';
  return `add link ${spec.name} (${spec.kind}${peer})`;
}

/** Creates a link. Fails with EEXIST when the name is taken (no silent reuse). */
export async function linkAdd(sock: NetlinkSocket, spec: LinkSpec): Promise<void> {
  validateLinkName(spec.name);
  if (spec.kind === 'veth') validateLinkName(spec.peer.name);
  const ns = spec.netns ? openNetns(spec.netns) : undefined;
  let peerNs: ReturnType<typeof openNetns> | undefined;
  try {
    peerNs = spec.kind === 'veth' && spec.peer.netns ? openNetns(spec.peer.netns) : undefined;
    await sock.request({
      type: RtmType.NEWLINK,
      flags: NlmFlags.CREATE | NlmFlags.EXCL,
      payload: newLinkPayload(spec, ns?.fd, peerNs?.fd),
      describe: describeSpec(spec),
    });
  } finally {
    ns?.close();
    peerNs?.close();
  }
}

function decodeKindData(kind: string, data: Attr | undefined): LinkInfo {
  const d = data ? attrsByType(decodeAttrs(data.data)) : new Map<number, Attr>();
  const flag = (t: number): boolean | undefined => {
    const a = d.get(t);
    return a ? readU8(a.data) !== 0 : undefined;
  };
  const num32 = (t: number): number | undefined => {
    const a = d.get(t);
    return a ? readU32(a.data) : undefined;
  };
  switch (kind) {
    case 'bridge': {
      const ageing = num32(IflaBr.AGEING_TIME);
      return {
        kind,
        stpState: num32(IflaBr.STP_STATE),
        vlanFiltering: flag(IflaBr.VLAN_FILTERING),
        ageingTime: ageing === undefined ? undefined : ageing / 100,
      };
    }
    case 'veth':
      return { kind };
    case 'dummy':
      return { kind };
    case 'macvlan': {
      const mode = num32(IflaMacvlan.MODE) ?? MacvlanMode.vepa;
      const name =
        (Object.keys(MacvlanMode) as MacvlanModeName[]).find((k) => MacvlanMode[k] === mode) ?? 'vepa';
      return { kind, mode: name };
    }
    case 'vxlan': {
      const ip = (t4: number, t6: number): string | undefined => {
        const a = d.get(t4) ?? d.get(t6);
        return a ? bufferToIp(a.data) : undefined;
      };
      const port = d.get(IflaVxlan.PORT);
      const ttl = d.get(IflaVxlan.TTL);
      const tos = d.get(IflaVxlan.TOS);
      return {
        kind,
        vni: num32(IflaVxlan.ID) ?? 0,
        local: ip(IflaVxlan.LOCAL, IflaVxlan.LOCAL6),
        group: ip(IflaVxlan.GROUP, IflaVxlan.GROUP6),
        device: num32(IflaVxlan.LINK) || undefined,
        port: port ? readU16be(port.data) : undefined,
        learning: flag(IflaVxlan.LEARNING),
        ttl: ttl ? readU8(ttl.data) : undefined,
        tos: tos ? readU8(tos.data) : undefined,
        ageing: num32(IflaVxlan.AGEING),
        proxy: flag(IflaVxlan.PROXY),
        l2miss: flag(IflaVxlan.L2MISS),
        l3miss: flag(IflaVxlan.L3MISS),
        udpCsum: flag(IflaVxlan.UDP_CSUM),
      };
    }
    default:
      return { kind: 'other', kindName: kind, data: data ? decodeAttrs(data.data) : undefined };
  }
}

function decodeBridgePort(data: Attr | undefined): BridgePortInfo {
  const d = data ? attrsByType(decodeAttrs(data.data)) : new Map<number, Attr>();
  const state = d.get(IflaBrport.STATE);
  const mode = d.get(IflaBrport.MODE);
  const learning = d.get(IflaBrport.LEARNING);
  return {
    state: state ? readU8(state.data) : undefined,
    hairpin: mode ? readU8(mode.data) !== 0 : undefined,
    learning: learning ? readU8(learning.data) !== 0 : undefined,
  };
}

const DECODED_IFLA = new Set<number>([
  Ifla.IFNAME,
  Ifla.MTU,
  Ifla.ADDRESS,
  Ifla.OPERSTATE,
  Ifla.TXQLEN,
  Ifla.MASTER,
  Ifla.LINK,
  Ifla.LINK_NETNSID,
  Ifla.PROMISCUITY,
  Ifla.IFALIAS,
  Ifla.LINKINFO,
]);

/** Decodes an RTM_NEWLINK message (a reply, a dump entry or an event). */
export function decodeLink(msg: NlMessage): Link {
  const p = msg.payload;
  const index = p.readInt32LE(4);
  const flags = p.readUInt32LE(8);
  const attrs = decodeAttrs(p.subarray(16));
  const a = attrsByType(attrs);
  const u32of = (t: number): number | undefined => {
    const x = a.get(t);
    return x ? readU32(x.data) : undefined;
  };
  const linkinfo = a.get(Ifla.LINKINFO);
  const li = linkinfo ? attrsByType(decodeAttrs(linkinfo.data)) : new Map<number, Attr>();
  const kindAttr = li.get(IflaInfo.KIND);
  const kind = kindAttr ? readCString(kindAttr.data) : '';
  const slaveKind = li.get(IflaInfo.SLAVE_KIND);
  const mac = a.get(Ifla.ADDRESS);
  const operState = a.get(Ifla.OPERSTATE);
  const alias = a.get(Ifla.IFALIAS);
  const netnsId = a.get(Ifla.LINK_NETNSID);
  return {
    index,
    name: readCString(a.get(Ifla.IFNAME)?.data ?? Buffer.alloc(0)),
    flags,
    up: (flags & IfFlags.UP) !== 0,
    mtu: u32of(Ifla.MTU) ?? 0,
    mac: mac && mac.data.length === 6 ? bufferToMac(mac.data) : undefined,
    operState: operState ? readU8(operState.data) : undefined,
    txqlen: u32of(Ifla.TXQLEN),
    masterIndex: u32of(Ifla.MASTER),
    parentIndex: u32of(Ifla.LINK),
    parentNetnsId: netnsId ? readI32(netnsId.data) : undefined,
    promiscuity: u32of(Ifla.PROMISCUITY),
    alias: alias ? readCString(alias.data) : undefined,
    info: decodeKindData(kind, li.get(IflaInfo.DATA)),
    bridgePort:
      slaveKind && readCString(slaveKind.data) === 'bridge'
        ? decodeBridgePort(li.get(IflaInfo.SLAVE_DATA))
        : undefined,
    unknown: attrs.filter((x) => !DECODED_IFLA.has(x.type)),
  };
}

/** All links of the socket's namespace with their kind-specific attributes. */
export async function linkList(sock: NetlinkSocket): Promise<Link[]> {
  const replies = await sock.request({
    type: RtmType.GETLINK,
    flags: NlmFlags.DUMP,
    payload: encodeIfinfomsg(AF_UNSPEC, 0),
    describe: 'list links',
  });
  return replies.filter((m) => m.type === RtmType.NEWLINK).map(decodeLink);
}

/** One link by name or index; undefined when it does not exist. */
export async function linkFind(sock: NetlinkSocket, nameOrIndex: string | number): Promise<Link | undefined> {
  try {
    return await linkGet(sock, nameOrIndex);
  } catch (err) {
    if (err instanceof NetlinkError && err.code === 'ENODEV') return undefined;
    throw err;
  }
}

/** One link by name or index; throws NetlinkError ENODEV when missing. */
export async function linkGet(sock: NetlinkSocket, nameOrIndex: string | number): Promise<Link> {
  const byName = typeof nameOrIndex === 'string';
  if (byName) validateLinkName(nameOrIndex);
  const payload = Buffer.concat([
    encodeIfinfomsg(AF_UNSPEC, byName ? 0 : nameOrIndex),
    byName ? encodeAttrs([{ type: Ifla.IFNAME, data: cstring(nameOrIndex) }]) : Buffer.alloc(0),
  ]);
  const replies = await sock.request({
    type: RtmType.GETLINK,
    flags: 0,
    payload,
    describe: `get link ${nameOrIndex}`,
  });
  const msg = replies.find((m) => m.type === RtmType.NEWLINK);
  if (!msg) throw new NetlinkError(19 /* ENODEV */, `get link ${nameOrIndex}`, 'no reply');
  return decodeLink(msg);
}

export async function linkDel(
  sock: NetlinkSocket,
  index: number,
  describe = `delete link ${index}`,
): Promise<void> {
  await sock.request({
    type: RtmType.DELLINK,
    flags: 0,
    payload: encodeIfinfomsg(AF_UNSPEC, index),
    describe,
  });
}

/** Changes to an existing link, applied in one RTM_NEWLINK request. */
export interface LinkChange {
  readonly up?: boolean;
  readonly promisc?: boolean;
  readonly mtu?: number;
  readonly mac?: string;
  readonly name?: string;
  /** Master index; 0 removes the link from its master. */
  readonly masterIndex?: number;
  /** Move the link into the namespace at this path. */
  readonly netns?: string;
  readonly txqlen?: number;
  readonly alias?: string;
}

export async function linkSet(sock: NetlinkSocket, index: number, change: LinkChange): Promise<void> {
  let flags = 0;
  let mask = 0;
  if (change.up !== undefined) {
    mask |= IfFlags.UP;
    if (change.up) flags |= IfFlags.UP;
  }
  if (change.promisc !== undefined) {
    mask |= IfFlags.PROMISC;
    if (change.promisc) flags |= IfFlags.PROMISC;
  }
  const attrs: AttrSpec[] = [];
  if (change.name !== undefined) {
    validateLinkName(change.name);
    attrs.push({ type: Ifla.IFNAME, data: cstring(change.name) });
  }
  if (change.mtu !== undefined) attrs.push({ type: Ifla.MTU, data: u32(change.mtu) });
  if (change.mac !== undefined) attrs.push({ type: Ifla.ADDRESS, data: macToBuffer(change.mac) });
  if (change.masterIndex !== undefined) attrs.push({ type: Ifla.MASTER, data: u32(change.masterIndex) });
  if (change.txqlen !== undefined) attrs.push({ type: Ifla.TXQLEN, data: u32(change.txqlen) });
  if (change.alias !== undefined) attrs.push({ type: Ifla.IFALIAS, data: cstring(change.alias) });
  const ns = change.netns ? openNetns(change.netns) : undefined;
  if (ns) attrs.push({ type: Ifla.NET_NS_FD, data: u32(ns.fd) });
  try {
    await sock.request({
      type: RtmType.NEWLINK,
      flags: 0,
      payload: Buffer.concat([encodeIfinfomsg(AF_UNSPEC, index, flags, mask), encodeAttrs(attrs)]),
      describe: `set link ${index} ${JSON.stringify(change)}`,
    });
  } finally {
    ns?.close();
  }
}

/** Bridge-port settings of a link enslaved to a bridge (hairpin, learning), as `bridge link set` does. */
export async function bridgePortSet(
  sock: NetlinkSocket,
  index: number,
  port: { readonly hairpin?: boolean; readonly learning?: boolean },
): Promise<void> {
  const protinfo: AttrSpec[] = [];
  if (port.hairpin !== undefined) protinfo.push({ type: IflaBrport.MODE, data: bool(port.hairpin) });
  if (port.learning !== undefined) protinfo.push({ type: IflaBrport.LEARNING, data: bool(port.learning) });
  await sock.request({
    type: RtmType.SETLINK,
    flags: 0,
    payload: Buffer.concat([
      encodeIfinfomsg(AF_BRIDGE, index),
      encodeAttrs([{ type: Ifla.PROTINFO, attrs: protinfo }]),
    ]),
    describe: `set bridge port ${index} ${JSON.stringify(port)}`,
  });
}

export interface BridgeVlanSpec {
  readonly vid: number;
  /** Untagged ingress goes to this VLAN. */
  readonly pvid?: boolean;
  /** Egress leaves untagged. */
  readonly untagged?: boolean;
  /** Configure the bridge device itself (`bridge vlan add ... self`), not one of its ports. */
  readonly self?: boolean;
}

/**
 * Adds a VLAN to a bridge port (or, with `self`, to the bridge device), as `bridge vlan add dev X vid N pvid
 * untagged [self]` does. Needs a bridge with VLAN filtering on.
 */
export async function bridgeVlanAdd(sock: NetlinkSocket, index: number, vlan: BridgeVlanSpec): Promise<void> {
  if (!Number.isInteger(vlan.vid) || vlan.vid < 1 || vlan.vid > 4094)
    throw new Error(`invalid VLAN id ${vlan.vid}`);
  const info = Buffer.alloc(4);
  info.writeUInt16LE(
    (vlan.pvid ? BridgeVlanInfo.PVID : 0) | (vlan.untagged ? BridgeVlanInfo.UNTAGGED : 0),
    0,
  );
  info.writeUInt16LE(vlan.vid, 2);
  await sock.request({
    type: RtmType.SETLINK,
    flags: 0,
    payload: Buffer.concat([
      encodeIfinfomsg(AF_BRIDGE, index),
      encodeAttrs([
        {
          type: Ifla.AF_SPEC,
          attrs: [
            { type: IflaBridge.FLAGS, data: u16(vlan.self ? BridgeFlags.SELF : BridgeFlags.MASTER) },
            { type: IflaBridge.VLAN_INFO, data: info },
          ],
        },
      ]),
    ]),
    describe: `add bridge vlan ${vlan.vid} on ${index}${vlan.self ? ' (self)' : ''}`,
  });
}
