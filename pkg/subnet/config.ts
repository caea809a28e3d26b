// The cluster network config at `<prefix>/config` (flannel's layout): the pod network, how it is cut into node
// subnets, and the overlay backend. Subnets are addressed by index and computed arithmetically: a /8 cut into
// /24s is never materialized as a list. Addresses are parsed with pkg/ip, on the path of every agent start;
// ip-num (loaded on first use: ~18 ms here) computes the nth subnet, which only a node without a lease needs.
import type { IPv4 } from 'ip-num';
import {
  formatIp,
  formatSubnet,
  hasHostBits,
  lastAddressOf,
  parseCidr,
  parseIp,
  subnetOf,
} from '../ip/address.ts';
import { ipNum } from '../ip/ip-num.ts';
import type { Store } from '../store/index.ts';
import { leaseFromKeyValue, type SubnetLease, subnetsPrefix } from './lease.ts';

/** ip-num's IPv4, loaded on first use (pkg/ip/ip-num.ts). */
const ipv4 = (): typeof IPv4 => ipNum().IPv4;

export const DEFAULT_PREFIX = '/tsnet.io/network';
export const DEFAULT_SUBNET_LEN = 24;
export const DEFAULT_VXLAN_VNI = 1;
export const DEFAULT_VXLAN_PORT = 8472;

export interface BackendConfig {
  Type: 'vxlan';
  VNI: number;
  Port: number;
}

/** A validated config with every default filled in. */
export interface NetworkConfig {
  Network: string;
  SubnetLen: number;
  SubnetMin: string;
  SubnetMax: string;
  Backend: BackendConfig;
}

export class NetworkConfigError extends Error {
  constructor(message: string) {
    super(`invalid network config: ${message}`);
    this.name = 'NetworkConfigError';
  }
}

export function configKey(prefix = DEFAULT_PREFIX): string {
  return `${prefix}/config`;
}

const TOP_LEVEL_FIELDS = new Set(['Network', 'SubnetLen', 'SubnetMin', 'SubnetMax', 'Backend']);
const BACKEND_FIELDS = new Set(['Type', 'VNI', 'Port']);

/** Parses and validates a config (JSON text or an already parsed object) and fills in the defaults. */
export function parseNetworkConfig(input: string | unknown): NetworkConfig {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input);
    } catch (err) {
      throw new NetworkConfigError(`not JSON: ${(err as Error).message}`);
    }
  }
  if (!isObject(raw)) throw new NetworkConfigError('expected a JSON object');
  for (const field of Object.keys(raw)) {
    if (!TOP_LEVEL_FIELDS.has(field)) {
      throw new NetworkConfigError(`unknown field "${field}" (known: ${[...TOP_LEVEL_FIELDS].join(', ')})`);
    }
  }

  if (typeof raw.Network !== 'string')
    throw new NetworkConfigError('"Network" is required, e.g. "10.244.0.0/16"');
  const network = parseNetworkCidr(raw.Network);
  const netLen = network.prefix;

  const subnetLen = raw.SubnetLen ?? DEFAULT_SUBNET_LEN;
  if (typeof subnetLen !== 'number' || !Number.isInteger(subnetLen) || subnetLen < 1 || subnetLen > 30) {
    throw new NetworkConfigError(
      `"SubnetLen" must be an integer from 1 to 30, got ${JSON.stringify(subnetLen)}`,
    );
  }
  if (subnetLen <= netLen) {
    throw new NetworkConfigError(
      `"Network" ${raw.Network} is too small for "SubnetLen" ${subnetLen}: it needs a prefix shorter than /${subnetLen}`,
    );
  }
  const count = 1n << BigInt(subnetLen - netLen);
  const size = 1n << BigInt(32 - subnetLen);
  const first = network.first;

  const min =
    raw.SubnetMin === undefined ? first + (count > 1n ? size : 0n) : subnetStart('SubnetMin', raw.SubnetMin);
  const max =
    raw.SubnetMax === undefined ? first + (count - 1n) * size : subnetStart('SubnetMax', raw.SubnetMax);
  if (min > max) {
    throw new NetworkConfigError(`"SubnetMin" ${formatIpv4(min)} is above "SubnetMax" ${formatIpv4(max)}`);
  }

  const backend = parseBackend(raw.Backend);
  return {
    Network: network.cidr,
    SubnetLen: subnetLen,
    SubnetMin: formatIpv4(min),
    SubnetMax: formatIpv4(max),
    Backend: backend,
  };

  function subnetStart(field: string, value: unknown): bigint {
    if (typeof value !== 'string') throw new NetworkConfigError(`"${field}" must be an IPv4 address string`);
    const [addr, len] = value.split('/');
    if (len !== undefined && Number(len) !== subnetLen) {
      throw new NetworkConfigError(
        `"${field}" ${value} has a prefix length other than "SubnetLen" /${subnetLen}`,
      );
    }
    const ip = parseIpv4(addr ?? '');
    if (ip === undefined)
      throw new NetworkConfigError(`"${field}" ${JSON.stringify(value)} is not an IPv4 address`);
    if (ip < first || ip > network.last) {
      throw new NetworkConfigError(`"${field}" ${value} is outside "Network" ${network.cidr}`);
    }
    if ((ip - first) % size !== 0n) {
      throw new NetworkConfigError(`"${field}" ${value} is not the start of a /${subnetLen} subnet`);
    }
    return ip;
  }
}

/** The pod network: its first and last address, its prefix length and its canonical text. */
interface NetworkRange {
  readonly first: bigint;
  readonly last: bigint;
  readonly prefix: number;
  readonly cidr: string;
}

function parseNetworkCidr(value: string): NetworkRange {
  if (value.includes(':')) throw new NetworkConfigError(`IPv6 networks are not supported yet (${value})`);
  const parsed = parseCidr(value);
  if (parsed?.address.family !== 4)
    throw new NetworkConfigError(`"Network" ${JSON.stringify(value)} is not an IPv4 CIDR like 10.244.0.0/16`);
  if (hasHostBits(parsed.address, parsed.prefix))
    throw new NetworkConfigError(`"Network" ${value} has host bits set (did you mean a network address?)`);
  const network = subnetOf(parsed.address, parsed.prefix);
  return {
    first: network.network,
    last: lastAddressOf(network),
    prefix: network.prefix,
    cidr: formatSubnet(network),
  };
}

/** A dotted quad as a number; undefined for anything else (IPv6 included). */
function parseIpv4(text: string): bigint | undefined {
  const ip = parseIp(text);
  return ip?.family === 4 ? ip.value : undefined;
}

function formatIpv4(value: bigint): string {
  return formatIp({ family: 4, value });
}

function parseBackend(raw: unknown): BackendConfig {
  if (raw === undefined) return { Type: 'vxlan', VNI: DEFAULT_VXLAN_VNI, Port: DEFAULT_VXLAN_PORT };
  if (!isObject(raw)) throw new NetworkConfigError('"Backend" must be an object like {"Type": "vxlan"}');
  for (const field of Object.keys(raw)) {
    if (!BACKEND_FIELDS.has(field)) {
      throw new NetworkConfigError(
        `unknown field "Backend.${field}" (known: ${[...BACKEND_FIELDS].join(', ')})`,
      );
    }
  }
  const type = raw.Type ?? 'vxlan';
  if (type !== 'vxlan')
    throw new NetworkConfigError(`unknown backend type ${JSON.stringify(type)} (supported: "vxlan")`);
  const vni = raw.VNI ?? DEFAULT_VXLAN_VNI;
  if (typeof vni !== 'number' || !Number.isInteger(vni) || vni < 1 || vni > 0xffffff) {
    throw new NetworkConfigError(
      `"Backend.VNI" must be an integer from 1 to 16777215, got ${JSON.stringify(vni)}`,
    );
  }
  const port = raw.Port ?? DEFAULT_VXLAN_PORT;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new NetworkConfigError(
      `"Backend.Port" must be an integer from 1 to 65535, got ${JSON.stringify(port)}`,
    );
  }
  return { Type: 'vxlan', VNI: vni, Port: port };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The node subnets a config allows, [SubnetMin, SubnetMax], addressed by index. Only arithmetic: nothing here
 * grows with the size of the network.
 */
export class SubnetSpace {
  readonly subnetLen: number;
  /** Number of subnets in [SubnetMin, SubnetMax]. */
  readonly count: bigint;
  private readonly min: bigint;
  private readonly size: bigint;

  constructor(config: NetworkConfig) {
    this.subnetLen = config.SubnetLen;
    this.size = 1n << BigInt(32 - config.SubnetLen);
    const min = parseIpv4(config.SubnetMin);
    const max = parseIpv4(config.SubnetMax);
    if (min === undefined || max === undefined)
      throw new NetworkConfigError(
        `"SubnetMin" ${config.SubnetMin} or "SubnetMax" ${config.SubnetMax} is not an IPv4 address`,
      );
    this.min = min;
    this.count = (max - this.min) / this.size + 1n;
  }

  /** The `index`th subnet (0-based) as a CIDR string. */
  nth(index: bigint): string {
    if (index < 0n || index >= this.count) {
      throw new RangeError(`subnet index ${index} outside [0, ${this.count})`);
    }
    return `${ipv4()
      .fromNumber(this.min + index * this.size)
      .toString()}/${this.subnetLen}`;
  }

  /** Index of a subnet CIDR, or undefined when it is not one of this space's subnets. */
  indexOf(subnet: string): bigint | undefined {
    const [addr, len] = subnet.split('/');
    if (Number(len) !== this.subnetLen) return undefined;
    const value = parseIpv4(addr ?? '');
    if (value === undefined) return undefined;
    const offset = value - this.min;
    if (offset < 0n || offset % this.size !== 0n) return undefined;
    const index = offset / this.size;
    return index < this.count ? index : undefined;
  }
}

/** Reads and validates the config under `prefix`; a missing one is a NetworkConfigError that says what to do. */
export async function loadNetworkConfig(store: Store, prefix = DEFAULT_PREFIX): Promise<NetworkConfig> {
  const kv = await store.get(configKey(prefix));
  if (!kv) {
    throw new NetworkConfigError(
      `no network config at ${configKey(prefix)} in ${store.location}; write one with "tsnet-agent init-network"`,
    );
  }
  return parseNetworkConfig(kv.value);
}

export type SaveOutcome = 'created' | 'unchanged' | 'replaced';

/** A node that holds a lease under the stored config. */
export interface LeaseHolder {
  readonly subnet: string;
  readonly publicIp: string;
}

/** A config change refused because nodes hold leases that the change would break. */
export class NetworkConfigInUseError extends Error {
  readonly changes: readonly string[];
  readonly affected: readonly LeaseHolder[];
  constructor(key: string, changes: readonly string[], affected: readonly LeaseHolder[]) {
    const nodes = affected.map((n) => `${n.publicIp} (${n.subnet})`).join(', ');
    super(
      `the network config at ${key} is in use: changing ${changes.join(', ')} affects ${affected.length} node(s) holding a lease: ${nodes}`,
    );
    this.name = 'NetworkConfigInUseError';
    this.changes = changes;
    this.affected = affected;
  }
}

/** The fields that differ, as `Field old -> new`. */
function configChanges(from: NetworkConfig, to: NetworkConfig): string[] {
  const fields: [string, unknown, unknown][] = [
    ['Network', from.Network, to.Network],
    ['SubnetLen', from.SubnetLen, to.SubnetLen],
    ['SubnetMin', from.SubnetMin, to.SubnetMin],
    ['SubnetMax', from.SubnetMax, to.SubnetMax],
    ['Backend.VNI', from.Backend.VNI, to.Backend.VNI],
    ['Backend.Port', from.Backend.Port, to.Backend.Port],
  ];
  return fields.filter(([, a, b]) => a !== b).map(([name, a, b]) => `${name} ${a} -> ${b}`);
}

/**
 * The lease holders a change breaks: every one when the network, the subnet length or the backend changes
 * (peers could no longer reach them), else those whose subnet falls outside the new [SubnetMin, SubnetMax].
 */
async function leaseHoldersAffected(
  store: Store,
  prefix: string,
  from: NetworkConfig,
  to: NetworkConfig,
): Promise<LeaseHolder[]> {
  const everyone =
    from.Network !== to.Network ||
    from.SubnetLen !== to.SubnetLen ||
    from.Backend.VNI !== to.Backend.VNI ||
    from.Backend.Port !== to.Backend.Port;
  const space = new SubnetSpace(to);
  const holders: LeaseHolder[] = [];
  for (const kv of (await store.list(subnetsPrefix(prefix))).items) {
    let lease: SubnetLease;
    try {
      lease = leaseFromKeyValue(prefix, kv);
    } catch {
      continue; // not a lease any node holds
    }
    if (everyone || space.indexOf(lease.subnet) === undefined)
      holders.push({ subnet: lease.subnet, publicIp: lease.attrs.PublicIP });
  }
  return holders;
}

/**
 * Validates and writes the config (defaults filled in). An identical stored config is left as it is; a
 * different one is replaced only when no node's lease depends on what changes, unless `force`: otherwise a
 * NetworkConfigInUseError names the nodes. The write is a compare-and-swap against the config read.
 */
export async function saveNetworkConfig(
  store: Store,
  input: string | unknown,
  prefix = DEFAULT_PREFIX,
  options: { force?: boolean } = {},
): Promise<{ config: NetworkConfig; outcome: SaveOutcome }> {
  const config = parseNetworkConfig(input);
  const key = configKey(prefix);
  const value = JSON.stringify(config);
  const stored = await store.get(key);
  if (!stored) {
    if (await store.createIfAbsent(key, value)) return { config, outcome: 'created' };
    throw new Error(
      `the network config at ${key} was written by someone else meanwhile; look at it and retry`,
    );
  }
  let current: NetworkConfig | undefined;
  try {
    current = parseNetworkConfig(stored.value);
  } catch {
    current = undefined; // an invalid stored config serves no node: replacing it breaks nothing
  }
  if (current) {
    const changes = configChanges(current, config);
    if (changes.length === 0) return { config, outcome: 'unchanged' };
    if (!options.force) {
      const affected = await leaseHoldersAffected(store, prefix, current, config);
      if (affected.length > 0) throw new NetworkConfigInUseError(key, changes, affected);
    }
  }
  if (!(await store.compareAndSwap(key, stored.modRevision, value)))
    throw new Error(`the network config at ${key} changed meanwhile; look at it and retry`);
  return { config, outcome: 'replaced' };
}
