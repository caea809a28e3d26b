// The docker0-style data plane: a Linux bridge on the node, one veth pair per container (the container end
// created and named directly in its namespace), the gateway address on the bridge, and the container's
// link setup. Each function creating something has its undo beside it.

import { CniError, ErrorCode } from '../cni/errors.ts';
import type { IPConfig } from '../cni/types.ts';
import { formatIp, formatSubnet, parseCidr, parseIp, subnetContains, subnetOf } from '../ip/address.ts';
import type { Handle } from '../netlink/handle.ts';
import type { Link } from '../netlink/link.ts';
import { NetlinkError } from '../netlink/socket.ts';
import { writeSysctl } from '../netns/index.ts';
import { randomBytes, randomHex } from '../random/index.ts';

export interface BridgeOptions {
  readonly name: string;
  readonly mtu?: number;
  readonly promisc: boolean;
  readonly vlanFiltering: boolean;
}

/**
 * Finds or creates the bridge and brings it up; `created` tells whether this call made it (for the undo). A
 * non-bridge link holding the name is an error.
 */
export async function ensureBridge(
  h: Handle,
  opts: BridgeOptions,
): Promise<{ bridge: Link; created: boolean }> {
  let br = await h.linkFind(opts.name);
  let created = false;
  if (!br) {
    try {
      await h.linkAdd({
        kind: 'bridge',
        name: opts.name,
        // An address given at creation is kept (NET_ADDR_SET); without one the bridge takes the lowest MAC of
        // its ports, which changes as containers come and go, and every container's neighbour entry for the
        // gateway goes stale: packets are lost until it is probed again (Docker's docker0 is given one too).
        mac: randomBridgeMac(),
        mtu: opts.mtu,
        vlanFiltering: opts.vlanFiltering,
        up: true,
      });
      created = true;
    } catch (err) {
      if (opts.vlanFiltering && err instanceof NetlinkError && err.code === 'EOPNOTSUPP') {
        throw new CniError(
          ErrorCode.UnsupportedField,
          `vlan: this kernel has no bridge VLAN filtering, so bridge ${opts.name} cannot tag ports`,
        );
      }
      // A concurrent ADD created it first: use theirs.
      if (!(err instanceof NetlinkError && err.code === 'EEXIST')) {
        throw new CniError(
          ErrorCode.Internal,
          `failed to create bridge ${opts.name}: ${(err as Error).message}`,
        );
      }
    }
    try {
      br = await h.linkGet(opts.name);
    } catch (err) {
      if (created) await h.linkDelByName(opts.name).catch(() => undefined); // made here, not handed out
      throw err;
    }
  }
  if (br.info.kind === 'bridge' && opts.vlanFiltering && !br.info.vlanFiltering) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `bridge ${opts.name} exists without VLAN filtering, which "vlan" needs`,
      'use another bridge name for the tagged network',
    );
  }
  if (br.info.kind !== 'bridge') {
    const kind = br.info.kind === 'other' ? br.info.kindName || 'device' : br.info.kind;
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `${opts.name} already exists but is not a bridge (it is a ${kind})`,
      'choose another "bridge" name or remove that link',
    );
  }
  if (!br.up || (opts.promisc && (br.promiscuity ?? 0) === 0)) {
    await h.linkSet(br.index, { up: true, ...(opts.promisc ? { promisc: true } : {}) });
    br = await h.linkGet(br.index);
  }
  return { bridge: br, created };
}

/** A random locally administered unicast MAC. */
export function randomBridgeMac(): string {
  const b = randomBytes(6);
  b[0] = ((b[0] ?? 0) & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Undo of a bridge this ADD created: removed unless another container's port joined it meanwhile. */
export async function deleteBridgeIfUnused(h: Handle, bridge: Link): Promise<void> {
  const ports = (await h.linkList()).filter((l) => l.masterIndex === bridge.index);
  if (ports.length === 0) await h.linkDelByName(bridge.name);
}

export interface VethPair {
  readonly host: Link;
  readonly container: Link;
}

/** A host-side name like the reference's: `veth` and 8 random hex digits. */
function hostVethName(): string {
  return `veth${randomHex(4)}`;
}

export interface VethOptions {
  readonly containerNetns: string;
  readonly ifname: string;
  readonly mtu?: number;
  readonly mac?: string;
}

/**
 * Creates the veth pair: the host end in the node namespace (handle `node`), born up and a port of the bridge
 * at `masterIndex` in one request (so a veth of ours is never seen off its bridge, which is how DEL tells it
 * apart), the container end created and named `ifname` directly inside `containerNetns` (brought up once it
 * has its addresses). Retries on a random-name clash. `ifname` must be free in the container: the caller
 * checks that first (requireFreeIfname), before anything of the ADD exists.
 */
export async function createVethPair(
  node: Handle,
  container: Handle,
  opts: VethOptions & { masterIndex: number },
): Promise<VethPair> {
  for (let attempt = 0; ; attempt++) {
    const name = hostVethName();
    try {
      await node.linkAdd({
        kind: 'veth',
        name,
        mtu: opts.mtu,
        masterIndex: opts.masterIndex,
        up: true,
        peer: { name: opts.ifname, netns: opts.containerNetns, mtu: opts.mtu, mac: opts.mac },
      });
    } catch (err) {
      if (
        err instanceof NetlinkError &&
        err.code === 'EEXIST' &&
        attempt < 5 &&
        !(await container.linkFind(opts.ifname))
      ) {
        continue;
      }
      throw new CniError(
        ErrorCode.Internal,
        `failed to create veth pair for ${opts.ifname}: ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    }
    try {
      const [host, peer] = await Promise.all([node.linkGet(name), container.linkGet(opts.ifname)]);
      return { host, container: peer };
    } catch (err) {
      await deleteVethPair(node, name).catch(() => undefined); // made but not returned: undo here
      throw err;
    }
  }
}

/** Undo of createVethPair: deleting one end removes both. Missing is fine. */
export async function deleteVethPair(node: Handle, hostName: string): Promise<void> {
  await node.linkDelByName(hostName);
}

/**
 * createVethPair on `bridge`, tolerating a bridge that vanished meanwhile (a concurrent ADD that had created
 * it failed and removed it): `ensureAgain` sets the bridge up again, once, and the pair is made on that one.
 */
export async function createVethOnBridge(
  node: Handle,
  container: Handle,
  bridge: Link,
  ensureAgain: () => Promise<Link>,
  opts: VethOptions,
): Promise<{ veth: VethPair; bridge: Link }> {
  try {
    return { veth: await createVethPair(node, container, { ...opts, masterIndex: bridge.index }), bridge };
  } catch (err) {
    if ((await node.linkFind(bridge.index))?.name === bridge.name) throw err;
    const again = await ensureAgain();
    return {
      veth: await createVethPair(node, container, { ...opts, masterIndex: again.index }),
      bridge: again,
    };
  }
}

/**
 * The container's port carries the network's VLAN untagged (pvid); with a gateway the bridge device joins the
 * VLAN too, so its address answers there. Needs a bridge with VLAN filtering.
 */
export async function putPortInVlan(node: Handle, port: Link, bridge: Link, vid: number, isGateway: boolean) {
  await node.bridgeVlanAdd(port.index, { vid, pvid: true, untagged: true });
  if (isGateway) await node.bridgeVlanAdd(bridge.index, { vid, pvid: true, untagged: true, self: true });
}

/** Sets hairpin on the bridge port as configured (the port is up from its creation). */
export async function setPortHairpin(node: Handle, port: Link, hairpin: boolean): Promise<void> {
  if (hairpin) await node.bridgePortSet(port.index, { hairpin: true });
}

/** True when `port` is the bridge's only port: no other container relies on what the bridge carries. */
export async function isOnlyPort(node: Handle, bridge: Link, port: Link): Promise<boolean> {
  return (await node.linkList()).every((l) => l.masterIndex !== bridge.index || l.index === port.index);
}

/**
 * DEL's link step: deletes `ifname` in the container only when it is what ADD made there, the container end
 * of a veth whose node end is a port of `bridgeName` (or is `recordedHostVeth`, the host interface of the
 * ADD's result, for a bridge removed since). Any other link of that name is left alone. True when deleted.
 */
export async function deleteContainerVeth(
  node: Handle,
  container: Handle,
  opts: { ifname: string; bridgeName: string; recordedHostVeth?: string },
): Promise<boolean> {
  const link = await container.linkFind(opts.ifname);
  // The peer of a container end lives in another namespace (the node's): its index is the node's.
  if (link?.info.kind !== 'veth' || link.parentIndex === undefined || link.parentNetnsId === undefined) {
    return false;
  }
  const peer = await node.linkFind(link.parentIndex);
  if (peer?.info.kind !== 'veth' || peer.parentIndex !== link.index || peer.parentNetnsId === undefined) {
    return false;
  }
  const bridge = await node.linkFind(opts.bridgeName);
  const onOurBridge = bridge?.info.kind === 'bridge' && peer.masterIndex === bridge.index;
  if (!onOurBridge && (opts.recordedHostVeth === undefined || peer.name !== opts.recordedHostVeth))
    return false;
  try {
    await container.linkDel(link.index);
  } catch (err) {
    if (!(err instanceof NetlinkError && err.code === 'ENODEV')) throw err; // gone meanwhile: fine
  }
  return true;
}

/** The gateway of each IP config: the IPAM's, else (when the bridge is the gateway) the subnet's first host. */
export function withGateways(ips: readonly IPConfig[], isGateway: boolean): IPConfig[] {
  return ips.map((ipc) => {
    if (ipc.gateway || !isGateway) return { ...ipc };
    const cidr = parseCidr(ipc.address);
    if (!cidr)
      throw new CniError(ErrorCode.InvalidNetworkConfig, `IPAM returned an invalid address ${ipc.address}`);
    const net = subnetOf(cidr.address, cidr.prefix);
    return { ...ipc, gateway: formatIp({ family: net.family, value: net.network + 1n }) };
  });
}

/** What ensureGatewayAddresses changed on the bridge, for its undo. */
export interface GatewayChange {
  readonly added: readonly string[];
  /** Addresses replaced under `forceAddress`. */
  readonly replaced: readonly string[];
}

/**
 * Puts each gateway on the bridge as `gateway/prefix`. An address of the bridge in the same subnet but
 * different is an error, unless `force` replaces it (the reference's forceAddress).
 */
export async function ensureGatewayAddresses(
  node: Handle,
  bridge: Link,
  ips: readonly IPConfig[],
  force: boolean,
): Promise<GatewayChange> {
  const added: string[] = [];
  const replaced: string[] = [];
  const present = await node.addrList({ index: bridge.index });
  for (const ipc of ips) {
    if (!ipc.gateway) continue;
    const cidr = parseCidr(ipc.address);
    const gw = parseIp(ipc.gateway);
    if (!cidr || !gw) continue;
    const subnet = subnetOf(cidr.address, cidr.prefix);
    const wanted = `${formatIp(gw)}/${cidr.prefix}`;
    if (present.some((a) => a.cidr === wanted)) continue;
    for (const a of present) {
      const other = parseIp(a.address);
      if (!other || !subnetContains(subnet, other)) continue;
      if (!force) {
        throw new CniError(
          ErrorCode.InvalidNetworkConfig,
          `${bridge.name} already has an IP address ${a.cidr} different from ${wanted}`,
          'set "forceAddress": true to replace it',
        );
      }
      await node.addrDel(bridge.index, a.cidr);
      replaced.push(a.cidr);
    }
    try {
      await node.addrAdd(bridge.index, wanted, { noDad: gw.family === 6 });
      added.push(wanted);
    } catch (err) {
      if (!(err instanceof NetlinkError && err.code === 'EEXIST')) throw err; // a concurrent ADD put it there
    }
  }
  return { added, replaced };
}

/** Undo of ensureGatewayAddresses: the added addresses go, the replaced ones come back. */
export async function restoreGatewayAddresses(node: Handle, bridge: Link, change: GatewayChange) {
  for (const cidr of change.added) {
    try {
      await node.addrDel(bridge.index, cidr);
    } catch (err) {
      if (!(err instanceof NetlinkError && err.code === 'EADDRNOTAVAIL')) throw err;
    }
  }
  for (const cidr of change.replaced) {
    const family = cidr.includes(':') ? 6 : 4;
    await node.addrAdd(bridge.index, cidr, { noDad: family === 6 }).catch((err: unknown) => {
      if (!(err instanceof NetlinkError && err.code === 'EEXIST')) throw err;
    });
  }
}

/** Routing on the node: IPv4 forwarding, and IPv6 forwarding when a v6 gateway is served. */
export function enableForwarding(nodeNetns: string, ips: readonly IPConfig[]): void {
  const families = new Set(ips.map((ipc) => parseCidr(ipc.address)?.address.family));
  if (families.has(4)) writeSysctl(nodeNetns, 'net.ipv4.ip_forward', '1');
  if (families.has(6)) writeSysctl(nodeNetns, 'net.ipv6.conf.all.forwarding', '1');
}

/** The networks (CIDR form) of the container's addresses, for masquerade. */
export function subnetsOf(ips: readonly IPConfig[]): string[] {
  const out = new Set<string>();
  for (const ipc of ips) {
    const cidr = parseCidr(ipc.address);
    if (cidr) out.add(formatSubnet(subnetOf(cidr.address, cidr.prefix)));
  }
  return [...out];
}
