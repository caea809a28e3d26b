// The conflist each driver's network is: tsnet-bridge + tsnet-ipam (bridge), tsnet-macvlan + tsnet-ipam
// (macvlan), tsnet-vxlan (overlay: the node's subnet from subnet.env). What Docker reports about a network
// (id, driver, created, labels, options, IPAM pools) rides along in the conflist's top-level `args.tsnet`,
// which libcni and other runtimes ignore: the conflist is the whole record.
import { join } from 'node:path';
import { formatIp, lastAddressOf, parseCidr, subnetOf } from '../ip/address.ts';

export type Driver = 'bridge' | 'macvlan' | 'overlay';

export interface IpamPool {
  /** CIDR, e.g. 172.18.0.0/16 */
  readonly subnet: string;
  readonly gateway: string;
  /** CIDR inside subnet that addresses are allocated from */
  readonly ipRange?: string;
}

/** What tsnet keeps about a network beside the plugins' configuration. */
export interface NetworkMeta {
  readonly id: string;
  readonly driver: Driver;
  /** RFC 3339 */
  readonly created: string;
  readonly internal: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly options: Readonly<Record<string, string>>;
  readonly pools: readonly IpamPool[];
}

export const CNI_VERSION = '1.1.0';

/** Where the plugins of a network keep their state (IPAM leases, vxlan delegates). */
export interface PluginDirs {
  /** tsnet-ipam's dataDir (one directory per network below it). */
  readonly ipamDataDir: string;
  /** tsnet-vxlan's dataDir. */
  readonly vxlanDataDir: string;
  /** subnet.env written by the agent in a cluster. */
  readonly subnetFile: string;
}

export interface BridgeSettings {
  readonly bridge: string;
  readonly mtu?: number;
  readonly ipMasq: boolean;
}

export interface MacvlanSettings {
  readonly parent?: string;
  readonly mode?: string;
  readonly mtu?: number;
}

/** The capabilities the runtime fills in: published ports, a requested IP, a requested MAC. */
const ATTACH_CAPABILITIES = { portMappings: true, ips: true, mac: true };

/** `defaultRoute`: IPAM hands out a default route via the gateway (macvlan; tsnet-bridge adds its own). */
function ipamSection(
  pools: readonly IpamPool[],
  dirs: PluginDirs,
  defaultRoute: boolean,
): Record<string, unknown> {
  return {
    type: 'tsnet-ipam',
    dataDir: dirs.ipamDataDir,
    ranges: pools.map((p) => [
      {
        subnet: p.subnet,
        gateway: p.gateway,
        ...(p.ipRange ? rangeBounds(p.ipRange) : {}),
      },
    ]),
    routes: defaultRoute ? [{ dst: '0.0.0.0/0' }] : [],
  };
}

/** --ip-range (a CIDR the store validated) as host-local's rangeStart/rangeEnd: its first and last host. */
function rangeBounds(cidr: string): { rangeStart: string; rangeEnd: string } {
  const parsed = parseCidr(cidr);
  if (!parsed) throw new Error(`invalid ip-range ${cidr}`);
  const range = subnetOf(parsed.address, parsed.prefix);
  const hostsOnly = range.prefix < 31; // a /31 or /32 has no network and broadcast address to skip
  const first = range.network + (hostsOnly ? 1n : 0n);
  const last = lastAddressOf(range) - (hostsOnly ? 1n : 0n);
  return {
    rangeStart: formatIp({ family: range.family, value: first }),
    rangeEnd: formatIp({ family: range.family, value: last }),
  };
}

function withMeta(
  name: string,
  plugins: Record<string, unknown>[],
  meta: NetworkMeta,
): Record<string, unknown> {
  return { cniVersion: CNI_VERSION, name, plugins, args: { tsnet: meta } };
}

export function bridgeConflist(
  name: string,
  meta: NetworkMeta,
  settings: BridgeSettings,
  dirs: PluginDirs,
): Record<string, unknown> {
  const plugin: Record<string, unknown> = {
    type: 'tsnet-bridge',
    bridge: settings.bridge,
    isGateway: true,
    // An internal network has no way out: no default route, no masquerade.
    isDefaultGateway: !meta.internal,
    ipMasq: settings.ipMasq && !meta.internal,
    hairpinMode: true,
    ...(settings.mtu ? { mtu: settings.mtu } : {}),
    capabilities: ATTACH_CAPABILITIES,
    ipam: ipamSection(meta.pools, dirs, false),
  };
  return withMeta(name, [plugin], meta);
}

export function macvlanConflist(
  name: string,
  meta: NetworkMeta,
  settings: MacvlanSettings,
  dirs: PluginDirs,
): Record<string, unknown> {
  const plugin: Record<string, unknown> = {
    type: 'tsnet-macvlan',
    ...(settings.parent ? { master: settings.parent } : {}),
    mode: settings.mode ?? 'bridge',
    ...(settings.mtu ? { mtu: settings.mtu } : {}),
    capabilities: { ips: true, mac: true },
    ipam: ipamSection(meta.pools, dirs, !meta.internal),
  };
  return withMeta(name, [plugin], meta);
}

/** The cluster overlay's bridge: not tsnet0, which the default `bridge` network owns on this node. */
export const OVERLAY_BRIDGE = 'tsnetvx0';

export function overlayConflist(name: string, meta: NetworkMeta, dirs: PluginDirs): Record<string, unknown> {
  return withMeta(
    name,
    [
      {
        type: 'tsnet-vxlan',
        subnetFile: dirs.subnetFile,
        dataDir: dirs.vxlanDataDir,
        bridge: OVERLAY_BRIDGE,
        capabilities: ATTACH_CAPABILITIES,
      },
    ],
    meta,
  );
}

/** The plugin state directories under the agent's data dir. */
export function pluginDirsUnder(dataDir: string, subnetFile: string): PluginDirs {
  return {
    ipamDataDir: join(dataDir, 'cni', 'networks'),
    vxlanDataDir: join(dataDir, 'cni', 'tsnet-vxlan'),
    subnetFile,
  };
}
