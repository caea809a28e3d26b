// The IPAM section of a network config, host-local dialect: parsed and validated once at the edge into
// numeric ranges the allocator can trust.
import { isAbsolute } from 'node:path';
import { validateNetworkName } from '../cni/env.ts';
import { CniError, ErrorCode } from '../cni/errors.ts';
import { stateLocationProblem } from '../fsutil/paths.ts';
import {
  type Family,
  formatIp,
  formatSubnet,
  hasHostBits,
  type IpAddress,
  lastAddressOf,
  parseCidr,
  parseIp,
  type Subnet,
  subnetContains,
  subnetOf,
  unmapIpv4,
} from '../ip/address.ts';

function invalidConfig(msg: string, details?: string): CniError {
  return new CniError(ErrorCode.InvalidNetworkConfig, msg, details);
}

export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';

/** One range of a range set; all bounds inclusive and inside `subnet`. */
export interface IpRange {
  readonly subnet: Subnet;
  readonly rangeStart: bigint;
  readonly rangeEnd: bigint;
  /** Defaults to the subnet's first host address, as in host-local; never allocated. */
  readonly gateway: bigint;
}

/** Ranges of one family from which a container gets exactly one address per ADD. */
export interface RangeSet {
  readonly family: Family;
  readonly ranges: readonly IpRange[];
}

export interface IpamRoute {
  readonly dst: string;
  readonly gw?: string;
}

export interface IpamConfig {
  /** The network name: the directory under `dataDir`. */
  readonly network: string;
  readonly cniVersion: string;
  readonly rangeSets: readonly RangeSet[];
  readonly routes: readonly IpamRoute[];
  readonly dataDir: string;
  /**
   * tsnet's `ipam.sharedPool`: every network under `dataDir` that sets it draws from one address space (the
   * node subnet shared by the cluster overlay and the user overlay networks), each keeping its own records.
   */
  readonly sharedPool: boolean;
  readonly resolvConf: string | undefined;
  /** From the `ips` capability, `args.cni.ips` and `CNI_ARGS` `IP=`. */
  readonly requestedIps: readonly IpAddress[];
}

/** What CNI_ARGS contributes to IPAM: host-local reads only `IP`. */
export interface IpamEnvArgs {
  readonly IP?: string;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(obj: Json, key: string, where: string): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalidConfig(`${where}.${key} must be a string`);
  return value;
}

function requireIp(text: string, what: string): IpAddress {
  const ip = parseIp(text);
  if (!ip) throw invalidConfig(`${what} "${text}" is not an IP address`);
  return ip;
}

/** The text form of a range: `rangeStart-rangeEnd`, as host-local prints it. */
export function formatRange(range: IpRange): string {
  const family = range.subnet.family;
  return `${formatIp({ family, value: range.rangeStart })}-${formatIp({ family, value: range.rangeEnd })}`;
}

export function formatRangeSet(set: RangeSet): string {
  return set.ranges.map(formatRange).join(',');
}

function parseRange(raw: unknown, where: string): IpRange {
  if (!isObject(raw)) throw invalidConfig(`${where} must be an object with a "subnet"`);
  const subnetText = optionalString(raw, 'subnet', where);
  if (!subnetText) throw invalidConfig(`${where}.subnet is missing`);
  const cidr = parseCidr(subnetText);
  if (!cidr) throw invalidConfig(`${where}.subnet "${subnetText}" is not a valid CIDR (e.g. 10.22.0.0/16)`);
  const subnet = subnetOf(cidr.address, cidr.prefix);
  const subnetName = formatSubnet(subnet);
  if (hasHostBits(cidr.address, cidr.prefix)) {
    throw invalidConfig(`${where}.subnet "${subnetText}" has host bits set; did you mean ${subnetName}?`);
  }
  if (unmapIpv4(cidr.address).family !== cidr.address.family) {
    throw invalidConfig(`${where}.subnet "${subnetText}" is IPv4-mapped IPv6; write the IPv4 subnet instead`);
  }
  const bits = subnet.family === 4 ? 32 : 128;
  if (subnet.prefix > bits - 2)
    throw invalidConfig(`${where}: network ${subnetName} is too small to allocate from`);

  const inSubnet = (key: string): bigint | undefined => {
    const text = optionalString(raw, key, where);
    if (text === undefined) return undefined;
    const ip = requireIp(text, `${where}.${key}`);
    if (!subnetContains(subnet, ip))
      throw invalidConfig(`${where}.${key} ${text} is not in network ${subnetName}`);
    return ip.value;
  };
  const firstHost = subnet.network + 1n;
  // Host-local's default end: the last address, less the broadcast address for IPv4.
  const lastHost = subnet.family === 4 ? lastAddressOf(subnet) - 1n : lastAddressOf(subnet);
  const gateway = inSubnet('gateway') ?? firstHost;
  const rangeStart = inSubnet('rangeStart') ?? firstHost;
  const rangeEnd = inSubnet('rangeEnd') ?? lastHost;
  const range = { subnet, rangeStart, rangeEnd, gateway };
  if (rangeStart > rangeEnd) {
    throw invalidConfig(`${where}: rangeStart is after rangeEnd (${formatRange(range)}) in ${subnetName}`);
  }
  return range;
}

function rangesOverlap(a: IpRange, b: IpRange): boolean {
  return a.subnet.family === b.subnet.family && a.rangeStart <= b.rangeEnd && b.rangeStart <= a.rangeEnd;
}

function parseRangeSet(raw: unknown, where: string): RangeSet {
  if (!Array.isArray(raw) || raw.length === 0)
    throw invalidConfig(`${where} must be a non-empty array of ranges`);
  const ranges = raw.map((r, i) => parseRange(r, `${where}[${i}]`));
  const family = ranges[0]?.subnet.family ?? 4;
  ranges.forEach((range, i) => {
    if (range.subnet.family !== family) throw invalidConfig(`${where} mixes IPv4 and IPv6 ranges`);
    for (const other of ranges.slice(i + 1)) {
      if (rangesOverlap(range, other)) {
        throw invalidConfig(`${where}: ranges ${formatRange(range)} and ${formatRange(other)} overlap`);
      }
    }
  });
  return { family, ranges };
}

function parseRoutes(raw: unknown): IpamRoute[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalidConfig('ipam.routes must be an array');
  return raw.map((route, i) => {
    const where = `ipam.routes[${i}]`;
    if (!isObject(route)) throw invalidConfig(`${where} must be an object with a "dst"`);
    const dstText = optionalString(route, 'dst', where);
    if (!dstText) throw invalidConfig(`${where}.dst is missing`);
    const dst = parseCidr(dstText);
    if (!dst) throw invalidConfig(`${where}.dst "${dstText}" is not a valid CIDR`);
    if (hasHostBits(dst.address, dst.prefix)) {
      throw invalidConfig(`${where}.dst "${dstText}" has host bits set`);
    }
    const gwText = optionalString(route, 'gw', where);
    const dstText2 = formatSubnet(subnetOf(dst.address, dst.prefix));
    if (gwText === undefined) return { dst: dstText2 };
    const gw = requireIp(gwText, `${where}.gw`);
    if (gw.family !== dst.address.family)
      throw invalidConfig(`${where}: gw ${gwText} is not of the family of ${dstText}`);
    return { dst: dstText2, gw: formatIp(gw) };
  });
}

function parseRequestedIps(netconf: Json, envArgs: IpamEnvArgs): IpAddress[] {
  const texts: { text: string; from: string }[] = [];
  if (envArgs.IP) {
    // host-local takes one IP from CNI_ARGS; a comma-separated list is accepted for dual-stack.
    for (const text of envArgs.IP.split(',')) texts.push({ text: text.trim(), from: 'CNI_ARGS IP' });
  }
  const args = netconf.args;
  if (isObject(args) && isObject(args.cni) && Array.isArray(args.cni.ips)) {
    for (const ip of args.cni.ips) texts.push({ text: String(ip), from: 'args.cni.ips' });
  }
  const runtimeConfig = netconf.runtimeConfig;
  if (isObject(runtimeConfig) && Array.isArray(runtimeConfig.ips)) {
    for (const ip of runtimeConfig.ips) texts.push({ text: String(ip), from: 'runtimeConfig.ips' });
  }
  return texts.map(({ text, from }) => {
    // The `ips` capability may carry a prefix length (`10.0.0.5/24`); only the address matters here.
    const address = text.includes('/') ? parseCidr(text)?.address : parseIp(text);
    if (!address) throw invalidConfig(`requested IP "${text}" (from ${from}) is not an IP address`);
    return unmapIpv4(address);
  });
}

/**
 * Parses the whole network config an IPAM plugin receives on stdin (it needs `name`, `ipam`, `args` and
 * `runtimeConfig`, not only the `ipam` section).
 */
export function loadIpamConfig(netconf: unknown, envArgs: IpamEnvArgs = {}): IpamConfig {
  if (!isObject(netconf)) throw invalidConfig('network config must be a JSON object');
  const network = netconf.name;
  if (typeof network !== 'string')
    throw invalidConfig('network name must be a string', JSON.stringify(network));
  validateNetworkName(network); // it becomes a directory name under dataDir
  const ipam = netconf.ipam;
  if (!isObject(ipam)) throw invalidConfig('missing "ipam" key: no IPAM config');

  const rangeSets: RangeSet[] = [];
  const runtimeConfig = netconf.runtimeConfig;
  if (isObject(runtimeConfig) && Array.isArray(runtimeConfig.ipRanges)) {
    runtimeConfig.ipRanges.forEach((set, i) => {
      rangeSets.push(parseRangeSet(set, `runtimeConfig.ipRanges[${i}]`));
    });
  }
  if (ipam.subnet !== undefined && ipam.subnet !== '') {
    const range = parseRange(ipam, 'ipam'); // the legacy single-range form
    rangeSets.push({ family: range.subnet.family, ranges: [range] });
  }
  if (ipam.ranges !== undefined) {
    if (!Array.isArray(ipam.ranges)) throw invalidConfig('ipam.ranges must be an array of range sets');
    ipam.ranges.forEach((set, i) => {
      rangeSets.push(parseRangeSet(set, `ipam.ranges[${i}]`));
    });
  }
  if (rangeSets.length === 0) throw invalidConfig('no IP ranges specified (ipam.ranges or ipam.subnet)');
  rangeSets.forEach((set, i) => {
    rangeSets.slice(i + 1).forEach((other, j) => {
      if (set.ranges.some((a) => other.ranges.some((b) => rangesOverlap(a, b)))) {
        throw invalidConfig(
          `range set ${i} (${formatRangeSet(set)}) overlaps with range set ${i + j + 1} (${formatRangeSet(other)})`,
        );
      }
    });
  });

  const dataDir = optionalString(ipam, 'dataDir', 'ipam') ?? DEFAULT_DATA_DIR;
  if (!isAbsolute(dataDir)) throw invalidConfig(`ipam.dataDir "${dataDir}" must be an absolute path`);
  const misplaced = stateLocationProblem(dataDir, 'ipam.dataDir');
  if (misplaced) throw invalidConfig(misplaced);
  const cniVersion = typeof netconf.cniVersion === 'string' ? netconf.cniVersion : '';
  const sharedPool = ipam.sharedPool ?? false;
  if (typeof sharedPool !== 'boolean') throw invalidConfig('ipam.sharedPool must be a boolean');

  return {
    network,
    cniVersion,
    rangeSets,
    routes: parseRoutes(ipam.routes),
    dataDir,
    sharedPool,
    resolvConf: optionalString(ipam, 'resolvConf', 'ipam'),
    requestedIps: parseRequestedIps(netconf, envArgs),
  };
}

/** The range of `set` holding `ip` (between its rangeStart and rangeEnd), if any. */
export function rangeFor(set: RangeSet, ip: IpAddress): IpRange | undefined {
  if (ip.family !== set.family) return undefined;
  return set.ranges.find((r) => ip.value >= r.rangeStart && ip.value <= r.rangeEnd);
}
