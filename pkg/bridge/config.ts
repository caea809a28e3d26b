// The tsnet-bridge network configuration: the reference bridge plugin's options, validated once at the edge.

import { CniError, ErrorCode } from '../cni/errors.ts';
import type { NetConf } from '../cni/types.ts';
import { isCidr } from '../cni/version.ts';
import { isUnicastMac } from '../netlink/codec.ts';
import { validateLinkName } from '../netlink/link.ts';

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
  /** Port mappings from the `portMappings` capability. */
  readonly portMappings: readonly {
    hostPort: number;
    containerPort: number;
    protocol?: string;
    hostIP?: string;
  }[];
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

export function loadBridgeConf(conf: NetConf, cniArgMac?: string): BridgeConf {
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
  const portMappings = conf.runtimeConfig?.portMappings ?? [];
  if (!Array.isArray(portMappings)) throw invalid('runtimeConfig.portMappings must be a list');
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
