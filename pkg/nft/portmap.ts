// Docker-style port publishing: host port -> container address:port for tcp, udp and sctp, optionally bound
// to one host address. One shared chain set serves every container (see table.ts): traffic to a local
// address, arriving (prerouting) or generated on the node (output), is DNATed through maps keyed by
// (protocol, port) or (host address, protocol, port). A container only adds map elements, each carrying the
// comment `CONTAINER@NETWORK`, which is also the index removal works from: no state file to keep in step.
// Hairpin and localhost clients are masqueraded (postrouting) so the container's reply returns via the node.
import { readFileSync, writeFileSync } from 'node:fs';
import { withNetns } from '../netns/index.ts';
import { byCodeUnits } from '../text/order.ts';
import { canonicalAddress, type HostAddress, type IpFamily, parseHostAddress, subnetOf } from './addr.ts';
import { validateNetworkName } from './masquerade.ts';
import {
  deleteElementsCommands,
  exprText,
  type NewElement,
  readTable,
  reconcileOwnedElements,
  type TableElement,
  updateTable,
} from './table.ts';

export type PortProtocol = 'tcp' | 'udp' | 'sctp';
const PROTOCOLS: readonly PortProtocol[] = ['tcp', 'udp', 'sctp'];

export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  /** Default tcp. */
  readonly protocol?: PortProtocol;
  /** Only traffic to this node address is published; absent, '', 0.0.0.0 or :: mean every local address. */
  readonly hostIP?: string;
}

export interface PortMappingRequest {
  readonly containerId: string;
  readonly network: string;
  /**
   * The container's addresses, `ADDRESS/PREFIX` as in a CNI result (the prefix names the subnet whose clients
   * are hairpin-masqueraded; a bare address hairpins the container to itself only). The first address of each
   * family is the DNAT target for that family.
   */
  readonly containerIPs: readonly string[];
  readonly mappings: readonly PortMapping[];
}

/** One published port as read back from the kernel. */
export interface PublishedPort {
  readonly containerId: string;
  readonly network: string;
  readonly protocol: string;
  readonly hostPort: number;
  /** Absent when the port is published on every local address. */
  readonly hostIP?: string;
  readonly containerIP: string;
  readonly containerPort: number;
}

// CNI container IDs: letters, digits, '_', '.', '-'. Owner comments must stay within nft's 128 bytes.
const CONTAINER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MAX_COMMENT = 127;

function ownerComment(containerId: string, network: string): string {
  if (!CONTAINER_ID_RE.test(containerId)) {
    throw new Error(
      `invalid container ID ${JSON.stringify(containerId)}: use letters, digits, '_', '.', '-'`,
    );
  }
  validateNetworkName(network);
  const comment = `${containerId}@${network}`;
  if (comment.length > MAX_COMMENT) {
    throw new Error(
      `container ID and network name too long together (${comment.length} > ${MAX_COMMENT} bytes)`,
    );
  }
  return comment;
}

function parseOwner(comment: string | undefined): { containerId: string; network: string } | null {
  const at = comment?.lastIndexOf('@') ?? -1;
  if (comment === undefined || at <= 0) return null;
  return { containerId: comment.slice(0, at), network: comment.slice(at + 1) };
}

const isPortmapSet = (name: string) => /^portmap[46]_/.test(name);

function checkPort(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`invalid ${what} ${JSON.stringify(value)}: must be an integer 1..65535`);
  }
}

function hostAddressOf(m: PortMapping): string | null {
  if (m.hostIP === undefined || m.hostIP === '') return null;
  const address = canonicalAddress(m.hostIP, 'hostIP');
  return address === '0.0.0.0' || address === '::' ? null : address;
}

/** The map key of a mapping in each of `families` it is published in: one family with a hostIP, else both. */
function mappingKeys(
  m: PortMapping,
  families: ReadonlySet<IpFamily>,
): { family: IpFamily; maps: string; key: unknown }[] {
  const protocol = m.protocol ?? 'tcp';
  if (!PROTOCOLS.includes(protocol)) {
    throw new Error(`invalid protocol ${JSON.stringify(protocol)}: use ${PROTOCOLS.join(', ')}`);
  }
  checkPort(m.hostPort, 'hostPort');
  checkPort(m.containerPort, 'containerPort');
  const hostIP = hostAddressOf(m);
  const candidates = hostIP ? [hostIP.includes(':') ? (6 as const) : (4 as const)] : ([4, 6] as const);
  return candidates
    .filter((f) => families.has(f))
    .map((family) =>
      hostIP
        ? { family, maps: `portmap${family}_host`, key: { concat: [hostIP, protocol, m.hostPort] } }
        : { family, maps: `portmap${family}_any`, key: { concat: [protocol, m.hostPort] } },
    );
}

function noAddressOfFamily(m: PortMapping): Error {
  return new Error(`hostIP ${m.hostIP} for port ${m.hostPort}: the container has no address of that family`);
}

function desiredElements(req: PortMappingRequest, owner: string): NewElement[] {
  const targets = new Map<IpFamily, HostAddress>();
  for (const text of req.containerIPs) {
    const a = parseHostAddress(text, `container IP of ${req.containerId}`);
    if (!targets.has(a.family)) targets.set(a.family, a);
  }
  if (targets.size === 0) throw new Error(`port mappings for ${req.containerId}: no container IP given`);
  const out: NewElement[] = [];
  const used = new Set<IpFamily>();
  for (const m of req.mappings) {
    const keys = mappingKeys(m, new Set(targets.keys()));
    for (const { family, maps, key } of keys) {
      const target = targets.get(family) as HostAddress;
      used.add(family);
      out.push(
        { set: `${maps}_addr`, key, data: target.address, comment: owner },
        { set: `${maps}_port`, key, data: m.containerPort, comment: owner },
      );
    }
    if (keys.length === 0) throw noAddressOfFamily(m);
  }
  for (const f of used) {
    const target = targets.get(f) as HostAddress;
    const full = f === 4 ? 32 : 128;
    const self = { prefix: { addr: target.address, len: full } };
    const subnet = subnetOf(target);
    out.push({
      set: `portmap${f}_hairpin`,
      key: { concat: [{ prefix: { addr: subnet.network, len: subnet.prefix } }, self] },
      comment: owner,
    });
    // Clients on 127.0.0.0/8 (IPv4 only: ::1 is never routed off the node); needs route_localnet, see below.
    if (f === 4) {
      out.push({
        set: 'portmap4_hairpin',
        key: { concat: [{ prefix: { addr: '127.0.0.0', len: 8 } }, self] },
        comment: owner,
      });
    }
  }
  return out;
}

function describeElement(e: TableElement): string {
  if (e.set.endsWith('_hairpin')) return `hairpin entry ${e.keyText}`;
  return `published port ${e.keyText.replaceAll(' . ', ' ')}`;
}

/**
 * Publishes the container's ports in the namespace at `nsPath`: afterwards exactly `req.mappings` are
 * published for (containerId, network). Idempotent; a host port already published by another container is
 * refused with an error naming it, and nothing is changed.
 */
export async function addPortMappings(nsPath: string, req: PortMappingRequest): Promise<void> {
  const owner = ownerComment(req.containerId, req.network);
  const desired = desiredElements(req, owner);
  await updateTable(nsPath, `publish ports of ${owner}`, { install: true }, (view) =>
    reconcileOwnedElements(view, owner, isPortmapSet, desired, describeElement),
  );
}

/**
 * Refuses (with an error naming the holder) host ports that another container already publishes in the
 * given address families, and a hostIP of a family the container will not have: lets an ADD find the conflict before it allocates anything. addPortMappings
 * checks again, atomically.
 */
export async function requireHostPortsFree(
  nsPath: string,
  req: Omit<PortMappingRequest, 'containerIPs'> & { readonly families: readonly IpFamily[] },
): Promise<void> {
  const owner = ownerComment(req.containerId, req.network);
  const held = new Map<string, TableElement>();
  for (const e of (await readTable(nsPath)).elements) {
    if (isPortmapSet(e.set) && e.set.endsWith('_addr')) held.set(`${e.set}|${e.keyText}`, e);
  }
  for (const m of req.mappings) {
    const keys = mappingKeys(m, new Set(req.families));
    if (keys.length === 0) throw noAddressOfFamily(m);
    for (const { maps, key } of keys) {
      const holder = held.get(`${maps}_addr|${exprText(key)}`);
      if (holder && holder.comment !== owner) {
        throw new Error(
          `${describeElement(holder)} is already owned by ${holder.comment ?? 'an unlabelled entry'}`,
        );
      }
    }
  }
}

/**
 * Unpublishes every port of the container (on `network` only, when given). Returns how many published
 * ports went away; 0 when there were none (not an error: DEL is idempotent).
 */
export async function removePortMappings(
  nsPath: string,
  containerId: string,
  network?: string,
): Promise<number> {
  if (network !== undefined) ownerComment(containerId, network);
  let removed = 0;
  await updateTable(nsPath, `unpublish ports of ${containerId}`, { install: false }, (view) => {
    const owned = view.elements.filter((e) => {
      const owner = parseOwner(e.comment);
      return (
        isPortmapSet(e.set) &&
        owner?.containerId === containerId &&
        (network === undefined || owner.network === network)
      );
    });
    removed = owned.filter((e) => e.set.endsWith('_addr')).length;
    return deleteElementsCommands(owned);
  });
  return removed;
}

/** Every published port of the namespace, read back from the kernel. */
export async function listPortMappings(nsPath: string): Promise<PublishedPort[]> {
  const view = await readTable(nsPath);
  const ports = new Map<string, number>();
  for (const e of view.elements) {
    if (/_port$/.test(e.set) && typeof e.data === 'number')
      ports.set(`${e.set.slice(0, -5)}|${e.keyText}`, e.data);
  }
  const out: PublishedPort[] = [];
  for (const e of view.elements) {
    const owner = parseOwner(e.comment);
    if (!/^portmap[46]_(any|host)_addr$/.test(e.set) || !owner || typeof e.data !== 'string') continue;
    const parts = (e.key as { concat?: unknown[] }).concat ?? [];
    const [hostIP, protocol, hostPort] = parts.length === 3 ? parts : [undefined, ...parts];
    const containerPort = ports.get(`${e.set.slice(0, -5)}|${e.keyText}`);
    if (typeof hostPort !== 'number' || containerPort === undefined) continue;
    out.push({
      ...owner,
      protocol: String(protocol),
      hostPort,
      ...(typeof hostIP === 'string' ? { hostIP: canonicalAddress(hostIP) } : {}),
      containerIP: canonicalAddress(e.data),
      containerPort,
    });
  }
  const order = (p: PublishedPort) =>
    [
      p.containerId,
      p.network,
      String(p.hostPort).padStart(5, '0'),
      p.protocol,
      p.hostIP ?? '',
      p.containerIP,
    ].join(' ');
  return out.sort((a, b) => byCodeUnits(order(a), order(b)));
}

/**
 * Lets published ports answer on 127.0.0.1 of the node: the kernel drops packets with a loopback source on
 * other interfaces unless route_localnet is set on the interface towards the containers (the bridge).
 * The reference portmap plugin sets the same sysctl.
 */
export async function allowLocalhostPortmap(nsPath: string, hostInterface: string): Promise<void> {
  if (!/^[^/\s]{1,15}$/.test(hostInterface) || hostInterface === '.' || hostInterface === '..') {
    throw new Error(`invalid interface name ${JSON.stringify(hostInterface)}`);
  }
  // The path is built here: interface names may contain '.', which a dotted sysctl key cannot carry.
  const path = `/proc/sys/net/ipv4/conf/${hostInterface}/route_localnet`;
  withNetns(nsPath, () => {
    if (readFileSync(path, 'utf8').trim() !== '1') writeFileSync(path, '1');
  });
}
