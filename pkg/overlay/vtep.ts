// The node's VXLAN tunnel endpoint (VTEP): one vxlan device, learning off, with a MAC derived from the node's
// identity so that it survives restarts and reboots (flannel's changes on reboot and leaves peers with stale
// ARP/FDB entries). ensureVtep creates the device or adopts the one already there, repairing drift in place
// where the kernel allows it and recreating the device only when its tunnel identity is wrong.

import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { isUnicastMac } from '../netlink/codec.ts';
import type { Handle } from '../netlink/handle.ts';
import type { Link, VxlanInfo } from '../netlink/link.ts';
import { NetlinkError } from '../netlink/socket.ts';
import { DEFAULT_VXLAN_PORT } from '../subnet/config.ts';
import { parseIPv4Subnet } from './subnet.ts';

export { DEFAULT_VXLAN_PORT };
export const DEFAULT_VTEP_NAME = 'tsnet.1';
/** The Linux kernel's historical VXLAN port, the one flannel uses (IANA's is 4789). */
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers. */
export const VXLAN_IPV4_OVERHEAD = 50;

export interface VtepOptions {
  /** Device name; `tsnet.1` by default. */
  readonly name?: string;
  readonly vni: number;
  /** UDP port; 8472 by default. */
  readonly port?: number;
  /** The node's underlay IPv4 address: the outer source of every encapsulated packet. */
  readonly localIp: string;
  /** Underlay device; by default the device that holds `localIp`. */
  readonly underlayIndex?: number;
  /** Device MTU; by default the underlay's MTU minus the VXLAN overhead (50). */
  readonly mtu?: number;
  /** The VTEP MAC peers know us by: use stableVtepMac(). */
  readonly mac: string;
  /** This node's pod subnet (e.g. `10.244.3.0/24`): its network address goes on the device as a /32. */
  readonly subnet?: string;
}

export interface Vtep {
  readonly index: number;
  readonly name: string;
  readonly vni: number;
  readonly port: number;
  readonly localIp: string;
  readonly underlayIndex: number;
  readonly mtu: number;
  readonly mac: string;
  /** The /32 address on the device (the subnet's network address), when a subnet was given. */
  readonly address?: string;
}

export interface EnsureVtepResult {
  readonly vtep: Vtep;
  /** True when the device did not exist or had to be recreated (its neighbours, FDB and routes are gone). */
  readonly created: boolean;
  /** What was changed, e.g. `mtu 1500 -> 1450`, `recreated: vni 9 != 1`; empty when nothing drifted. */
  readonly changes: readonly string[];
}

/**
 * A locally administered unicast MAC derived from a stable identity (e.g. `node-a/10.244.0.0/16`): the same
 * key gives the same MAC on every start, so peers' neighbour and FDB entries for this node stay valid.
 */
export function stableVtepMac(key: string): string {
  if (key.length === 0) throw new Error('stableVtepMac: the identity key is empty');
  const b = createHash('sha256').update(`tsnet-vtep\0${key}`).digest().subarray(0, 6);
  // Bit 0 of the first octet clear: unicast; bit 1 set: locally administered (never a vendor's address).
  b[0] = ((b[0] ?? 0) & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** The options with every default filled in: the VTEP to be, without its index. */
type ResolvedOptions = Omit<Vtep, 'index'>;

function validateOptions(opts: VtepOptions): void {
  if (!Number.isInteger(opts.vni) || opts.vni < 1 || opts.vni > 0xffffff) {
    throw new Error(`vtep: VNI ${opts.vni} out of range 1-16777215`);
  }
  const port = opts.port ?? DEFAULT_VXLAN_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`vtep: port ${port} out of range`);
  if (!isIPv4(opts.localIp)) throw new Error(`vtep: local IP ${JSON.stringify(opts.localIp)} is not IPv4`);
  if (!isUnicastMac(opts.mac.toLowerCase()))
    throw new Error(`vtep: MAC ${JSON.stringify(opts.mac)} is invalid`);
  if (opts.mtu !== undefined && (!Number.isInteger(opts.mtu) || opts.mtu < 68 || opts.mtu > 65535)) {
    throw new Error(`vtep: MTU ${opts.mtu} out of range 68-65535`);
  }
}

/** The device that holds `localIp` in the handle's namespace. */
async function findUnderlay(h: Handle, localIp: string): Promise<Link> {
  const addr = (await h.addrList({ family: 4 })).find((a) => a.address === localIp);
  if (!addr) throw new Error(`vtep: local IP ${localIp} is not assigned to any device in this namespace`);
  return h.linkGet(addr.index);
}

async function resolveOptions(h: Handle, opts: VtepOptions): Promise<ResolvedOptions> {
  validateOptions(opts);
  const underlay =
    opts.underlayIndex === undefined
      ? await findUnderlay(h, opts.localIp)
      : await h.linkGet(opts.underlayIndex);
  const mtu = opts.mtu ?? underlay.mtu - VXLAN_IPV4_OVERHEAD;
  return {
    name: opts.name ?? DEFAULT_VTEP_NAME,
    vni: opts.vni,
    port: opts.port ?? DEFAULT_VXLAN_PORT,
    localIp: opts.localIp,
    underlayIndex: underlay.index,
    mtu,
    mac: opts.mac.toLowerCase(),
    address: opts.subnet === undefined ? undefined : `${parseIPv4Subnet(opts.subnet).network}/32`,
  };
}

/** Why the existing device cannot be adjusted in place; undefined when it can. */
function identityMismatch(link: Link, want: ResolvedOptions): string | undefined {
  if (link.info.kind !== 'vxlan') {
    return `kind ${link.info.kind === 'other' ? link.info.kindName || 'plain' : link.info.kind} is not vxlan`;
  }
  const vx: VxlanInfo = link.info;
  if (vx.vni !== want.vni) return `vni ${vx.vni} != ${want.vni}`;
  if (vx.local !== want.localIp) return `local ${vx.local ?? 'unset'} != ${want.localIp}`;
  if ((vx.port ?? 0) !== want.port) return `port ${vx.port ?? 'unset'} != ${want.port}`;
  if ((vx.device ?? 0) !== want.underlayIndex)
    return `underlay device ${vx.device ?? 'unset'} != ${want.underlayIndex}`;
  if (vx.learning !== false) return 'learning is on';
  if (vx.group !== undefined && vx.group !== '0.0.0.0') return `multicast group ${vx.group} is set`;
  return undefined;
}

async function createVtep(h: Handle, want: ResolvedOptions): Promise<Link> {
  await h.linkAdd({
    kind: 'vxlan',
    name: want.name,
    vni: want.vni,
    local: want.localIp,
    device: want.underlayIndex,
    port: want.port,
    learning: false,
    mtu: want.mtu,
    mac: want.mac,
    up: true,
  });
  return h.linkGet(want.name);
}

/** Corrects MTU, MAC and admin state in place; returns what it changed. */
async function repairInPlace(h: Handle, link: Link, want: ResolvedOptions): Promise<string[]> {
  const changes: string[] = [];
  if (link.mtu !== want.mtu) {
    await h.linkSet(link.index, { mtu: want.mtu });
    changes.push(`mtu ${link.mtu} -> ${want.mtu}`);
  }
  if (link.mac !== want.mac) {
    try {
      await h.linkSet(link.index, { mac: want.mac });
    } catch (err) {
      // Devices without live address change refuse while up: take it down for the change.
      if (!(err instanceof NetlinkError && err.code === 'EBUSY')) throw err;
      await h.linkSet(link.index, { up: false });
      await h.linkSet(link.index, { mac: want.mac });
    }
    changes.push(`mac ${link.mac ?? 'unset'} -> ${want.mac}`);
  }
  const now = changes.length > 0 ? await h.linkGet(link.index) : link;
  if (!now.up) {
    await h.linkSet(link.index, { up: true });
    if (link.up === false) changes.push('down -> up');
  }
  return changes;
}

/** Puts `address` (a /32) on the device and removes any other IPv4 address (a previous lease's). */
async function ensureAddress(h: Handle, index: number, address: string): Promise<string[]> {
  const changes: string[] = [];
  const present = await h.addrList({ index, family: 4 });
  for (const a of present) {
    if (a.cidr !== address) {
      await h.addrDel(index, a.cidr);
      changes.push(`address ${a.cidr} removed`);
    }
  }
  if (!present.some((a) => a.cidr === address)) {
    await h.addrAdd(index, address, { replace: true });
    changes.push(`address ${address} added`);
  }
  return changes;
}

/**
 * Creates the VTEP or adopts the existing one: MTU, MAC and admin state are corrected in place; a device whose
 * VNI, local address, port, underlay or learning differ (or that is not vxlan) is deleted and recreated.
 */
export async function ensureVtep(h: Handle, opts: VtepOptions): Promise<EnsureVtepResult> {
  const want = await resolveOptions(h, opts);
  const changes: string[] = [];
  let created = false;
  let link = await h.linkFind(want.name);
  if (link) {
    const mismatch = identityMismatch(link, want);
    if (mismatch) {
      await h.linkDel(link.index);
      changes.push(`recreated: ${mismatch}`);
      link = undefined;
    }
  }
  if (!link) {
    link = await createVtep(h, want);
    created = true;
    if (changes.length === 0) changes.push('created');
  } else {
    changes.push(...(await repairInPlace(h, link, want)));
  }
  if (want.address !== undefined) changes.push(...(await ensureAddress(h, link.index, want.address)));
  return {
    created,
    changes,
    vtep: { index: link.index, ...want },
  };
}
