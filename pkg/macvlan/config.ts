// The tsnet-macvlan network configuration: the reference macvlan plugin's options, validated once at the edge.

import { CniError, ErrorCode } from '../cni/errors.ts';
import type { NetConf } from '../cni/types.ts';
import { isUnicastMac } from '../netlink/codec.ts';
import { type MacvlanModeName, validateLinkName } from '../netlink/link.ts';

/** The modes a container macvlan may use (the kernel's `source` mode is for other purposes). */
export const MACVLAN_MODES = ['bridge', 'vepa', 'private', 'passthru'] as const;
export type ContainerMacvlanMode = (typeof MACVLAN_MODES)[number] & MacvlanModeName;

export interface MacvlanConf {
  readonly network: string;
  /** The parent interface; undefined means the interface of the default route. */
  readonly master?: string;
  readonly mode: ContainerMacvlanMode;
  /** Undefined (or 0 in the config) inherits the master's MTU. */
  readonly mtu?: number;
  /** The master lives in the container's namespace, not the node's. */
  readonly linkInContainer: boolean;
  /** From the `mac` capability (runtimeConfig) or CNI_ARGS MAC=. */
  readonly mac?: string;
  /** False for an L2-only network (no `ipam` section): the interface gets no addresses. */
  readonly hasIpam: boolean;
}

function invalid(msg: string, details?: string): CniError {
  return new CniError(ErrorCode.InvalidNetworkConfig, msg, details);
}

/** A unicast MAC in `aa:bb:cc:dd:ee:ff` form (the kernel refuses a multicast one for an interface). */
export function validateUnicastMac(mac: unknown, where: string): string {
  if (typeof mac !== 'string' || !isUnicastMac(mac)) {
    throw invalid(`${where} must look like 02:42:ac:11:00:02`, `got ${JSON.stringify(mac)}`);
  }
  if (Number.parseInt(mac.slice(0, 2), 16) & 1) {
    throw invalid(`${where} ${mac} is a multicast address`, 'the low bit of the first octet must be 0');
  }
  return mac.toLowerCase();
}

function readMaster(conf: NetConf): string | undefined {
  const master = conf['master'];
  if (master === undefined || master === null || master === '') return undefined;
  if (typeof master !== 'string') throw invalid('"master" must be an interface name', JSON.stringify(master));
  try {
    validateLinkName(master);
  } catch (err) {
    throw invalid(`"master": ${(err as Error).message}`);
  }
  return master;
}

function readMode(conf: NetConf): ContainerMacvlanMode {
  const mode = conf['mode'];
  if (mode === undefined || mode === null || mode === '') return 'bridge';
  if (typeof mode !== 'string' || !(MACVLAN_MODES as readonly string[]).includes(mode)) {
    throw invalid(`"mode" must be one of ${MACVLAN_MODES.join(', ')}`, `got ${JSON.stringify(mode)}`);
  }
  return mode as ContainerMacvlanMode;
}

function readMtu(conf: NetConf): number | undefined {
  const mtu = conf['mtu'];
  if (mtu === undefined || mtu === null || mtu === 0) return undefined;
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
    throw invalid(
      '"mtu" must be an integer from 68 to 65535 (0 inherits the master\'s)',
      JSON.stringify(mtu),
    );
  }
  return mtu;
}

function readLinkInContainer(conf: NetConf): boolean {
  const v = conf['linkInContainer'];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalid('"linkInContainer" must be true or false', JSON.stringify(v));
  return v;
}

/** Validates the configuration; `cniArgMac` is CNI_ARGS MAC= (the `mac` capability wins over it). */
export function loadMacvlanConf(conf: NetConf, cniArgMac?: string): MacvlanConf {
  const rawMac = conf.runtimeConfig?.mac ?? cniArgMac;
  const mac = rawMac === undefined || rawMac === '' ? undefined : validateUnicastMac(rawMac, 'container MAC');
  return {
    network: conf.name,
    master: readMaster(conf),
    mode: readMode(conf),
    mtu: readMtu(conf),
    linkInContainer: readLinkInContainer(conf),
    mac,
    hasIpam: conf.ipam !== undefined && conf.ipam !== null,
  };
}
