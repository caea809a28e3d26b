// The tsnet-bridge network configuration: the reference bridge plugin's options, validated once at the edge.

import { CniError, ErrorCode } from '../cni/errors.ts';
import type { NetConf } from '../cni/types.ts';
import { isCidr } from '../cni/version.ts';
import { parseIp } from '../ip/address.ts';
import { isUnicastMac } from '../netlink/codec.ts';
import { validateLinkName } from '../netlink/link.ts';
import type { PortMapping, PortProtocol } from '../nft/portmap.ts';

export const DEFAULT_BRIDGE = 'tsnet0';

export interface BridgeConf {
  readonly network: string;
  readonly bridge: string;
  readonly isGateway: boolean;
  readonly isDefaultGateway: boolean;
  readonly forceAddress: boolean;
  readonly ipMasq: boolean;
  /** Destinations reached without masquerade besides the network's own subnet (tsnet extension). */
  readonly ipMasqExcludes: readonly string[];
  readonly mtu?: number;
  readonly hairpinMode: boolean;
  readonly promiscMode: boolean;
  readonly vlan?: number;
  /** Container MAC from the `mac` capability (runtimeConfig) or CNI_ARGS MAC=. */
  readonly mac?: string;
  /** Port mappings from the `portMappings` capability, validated (protocol lower case, tcp by default). */
  readonly portMappings: readonly PortMapping[];
}

function invalid(msg: string, details?: string): CniError {
  return new CniError(ErrorCode.InvalidNetworkConfig, msg, details);
}

function optionalBool(conf: NetConf, key: string): boolean {
  const v = conf[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalid(`"${key}" must be true or false`, `got ${JSON.stringify(v)}`);
  return v;
}

function optionalInt(conf: NetConf, key: string, min: number, max: number): number | undefined {
  const v = conf[key];
  if (v === undefined || v === null || v === 0) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(`"${key}" must be an integer from ${min} to ${max}`, `got ${JSON.stringify(v)}`);
  }
  return v;
}

function cidrList(conf: NetConf, key: string): string[] {
  const v = conf[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((c) => typeof c === 'string' && isCidr(c))) {
    throw invalid(`"${key}" must be a list of CIDRs`, `got ${JSON.stringify(v)}`);
  }
  return v as string[];
}

/**
 * Validates the configuration; `cniArgMac` is CNI_ARGS MAC=. DEL passes `ignorePortMappings`: it unpublishes
 * by container ID, and a mapping it cannot read must not keep it from cleaning up.
 */
export function loadBridgeConf(
  conf: NetConf,
  cniArgMac?: string,
  opts: { ignorePortMappings?: boolean } = {},
): BridgeConf {
  const bridge = conf['bridge'] ?? DEFAULT_BRIDGE;
  if (typeof bridge !== 'string') throw invalid('"bridge" must be an interface name');
  try {
    validateLinkName(bridge);
  } catch (err) {
    throw invalid(`"bridge": ${(err as Error).message}`);
  }
  const isDefaultGateway = optionalBool(conf, 'isDefaultGateway');
  const mac = conf.runtimeConfig?.mac ?? cniArgMac;
  if (mac !== undefined && (typeof mac !== 'string' || !isUnicastMac(mac))) {
    throw invalid('container MAC must look like 02:42:ac:11:00:02', `got ${JSON.stringify(mac)}`);
  }
  const portMappings = opts.ignorePortMappings ? [] : portMappingsOf(conf.runtimeConfig?.portMappings);
  return {
    network: conf.name,
    bridge,
    // A default gateway is a gateway, as in the reference plugin.
    isGateway: optionalBool(conf, 'isGateway') || isDefaultGateway,
    isDefaultGateway,
    forceAddress: optionalBool(conf, 'forceAddress'),
    ipMasq: optionalBool(conf, 'ipMasq'),
    ipMasqExcludes: cidrList(conf, 'ipMasqExcludes'),
    mtu: optionalInt(conf, 'mtu', 68, 65535),
    hairpinMode: optionalBool(conf, 'hairpinMode'),
    promiscMode: optionalBool(conf, 'promiscMode'),
    vlan: optionalInt(conf, 'vlan', 1, 4094),
    mac,
    portMappings,
  };
}

const PROTOCOLS: readonly PortProtocol[] = ['tcp', 'udp', 'sctp'];

function port(entry: Record<string, unknown>, key: string, where: string): number {
  const v = entry[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    throw invalid(`${where}: "${key}" must be an integer from 1 to 65535`, `got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * The `portMappings` capability, checked before ADD creates anything: a mapping the firewall would refuse
 * must not be found out after the bridge, the veth and the address exist.
 */
function portMappingsOf(raw: unknown): PortMapping[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalid('runtimeConfig.portMappings must be a list');
  return raw.map((entry: unknown, i): PortMapping => {
    const where = `runtimeConfig.portMappings[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw invalid(`${where} must be an object`, `got ${JSON.stringify(entry)}`);
    }
    const e = entry as Record<string, unknown>;
    const rawProtocol = e['protocol'] ?? 'tcp';
    const protocol = typeof rawProtocol === 'string' ? rawProtocol.toLowerCase() : '';
    if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
      throw invalid(
        `${where}: "protocol" must be one of ${PROTOCOLS.join(', ')}`,
        `got ${JSON.stringify(rawProtocol)}`,
      );
    }
    const hostIP = e['hostIP'];
    // Absent or '' publishes on every node address, as with the reference portmap plugin.
    if (
      hostIP !== undefined &&
      hostIP !== null &&
      (typeof hostIP !== 'string' || (hostIP !== '' && !parseIp(hostIP)))
    ) {
      throw invalid(`${where}: "hostIP" must be an IP address`, `got ${JSON.stringify(hostIP)}`);
    }
    return {
      hostPort: port(e, 'hostPort', where),
      containerPort: port(e, 'containerPort', where),
      protocol: protocol as PortProtocol,
      ...(typeof hostIP === 'string' && hostIP !== '' ? { hostIP } : {}),
    };
  });
}

/**
 * Whether DEL looks for this container's published ports: when the runtime passes the mappings ADD had
 * (DEL gets ADD's runtimeConfig) and they are not empty, or when it passes none though the plugin takes
 * the capability (a runtime that kept nothing of ADD). An empty list says ADD published nothing: that DEL
 * neither reads the firewall nor sends it a batch (two nft runs, 40-70 ms of a container's removal here).
 */
export function mayHavePublishedPorts(config: NetConf): boolean {
  const passed: unknown = config.runtimeConfig?.portMappings;
  if (passed === undefined) return config.capabilities?.['portMappings'] === true;
  return !Array.isArray(passed) || passed.length > 0;
}
