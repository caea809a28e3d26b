// subnet.env: what the node's CNI plugin needs from the agent (flannel's subnet.env, with TSNET_ keys).
// Written atomically (temp file + fsync + rename) so a plugin never reads half a file, even after a crash.
import { rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { removeOrphanedTemps, writeFileAtomicSync } from '../fsutil/atomic.ts';
import { makeDirectorySync } from '../fsutil/mkdir.ts';
import { readTextIfExists, readTextIfExistsSync } from '../fsutil/read.ts';
import { formatIp, formatSubnet, parseCidr, subnetOf } from '../ip/address.ts';

export const DEFAULT_SUBNET_FILE = '/run/tsnet/subnet.env';

export interface SubnetEnv {
  /** The cluster network, e.g. 10.244.0.0/16. */
  readonly network: string;
  /** The node's subnet as gateway/len, e.g. 10.244.3.1/24 (flannel's FLANNEL_SUBNET form). */
  readonly subnet: string;
  readonly mtu: number;
  /** True when the agent masquerades pod traffic leaving the cluster network (plugins then need not). */
  readonly ipMasq: boolean;
}

export function formatSubnetEnv(env: SubnetEnv): string {
  return [
    `TSNET_NETWORK=${env.network}`,
    `TSNET_SUBNET=${env.subnet}`,
    `TSNET_MTU=${env.mtu}`,
    `TSNET_IPMASQ=${env.ipMasq}`,
    '',
  ].join('\n');
}

/** Writes subnet.env; also clears what a writer killed mid-write left (the file is rewritten rarely). */
export function writeSubnetEnv(path: string, env: SubnetEnv): void {
  makeDirectorySync(dirname(path));
  removeOrphanedTemps(dirname(path), { targets: [basename(path)] });
  writeFileAtomicSync(path, formatSubnetEnv(env), { mode: 0o644 });
}

export function removeSubnetEnv(path: string): void {
  rmSync(path, { force: true });
}

/** Parses subnet.env; throws with the file and the missing key when it is incomplete. */
export function parseSubnetEnv(text: string, path = 'subnet.env'): SubnetEnv {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_]+)=(.*)$/.exec(line);
    if (m) values.set(m[1]!, m[2]!.trim());
  }
  const need = (key: string): string => {
    const v = values.get(key);
    if (!v) throw new Error(`${path}: ${key} is missing`);
    return v;
  };
  const mtu = Number(need('TSNET_MTU'));
  if (!Number.isInteger(mtu) || mtu < 68)
    throw new Error(`${path}: TSNET_MTU ${values.get('TSNET_MTU')} is not an MTU`);
  return {
    network: need('TSNET_NETWORK'),
    subnet: need('TSNET_SUBNET'),
    mtu,
    ipMasq: values.get('TSNET_IPMASQ') === 'true',
  };
}

/** Reads subnet.env; undefined when the file does not exist (the agent is not ready). */
export function readSubnetEnv(path: string): SubnetEnv | undefined {
  const text = readTextIfExistsSync(path);
  return text === undefined ? undefined : parseSubnetEnv(text, path);
}

/** readSubnetEnv off the event loop, for the agent's serving paths. */
export async function readSubnetEnvFile(path: string): Promise<SubnetEnv | undefined> {
  const text = await readTextIfExists(path);
  return text === undefined ? undefined : parseSubnetEnv(text, path);
}

/** `10.244.3.0/24` -> `10.244.3.1/24`: the node subnet as subnet.env carries it (gateway/len, as flannel). */
export function gatewayForm(subnet: string): string {
  const cidr = parseCidr(subnet);
  if (!cidr) throw new Error(`invalid subnet ${JSON.stringify(subnet)}`);
  const net = subnetOf(cidr.address, cidr.prefix);
  return `${formatIp({ family: net.family, value: net.network + 1n })}/${cidr.prefix}`;
}

/** `10.244.3.1/24` -> `10.244.3.0/24`: the node subnet back from subnet.env's form. */
export function subnetFromGatewayForm(text: string): string {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`invalid subnet ${JSON.stringify(text)}`);
  return formatSubnet(subnetOf(cidr.address, cidr.prefix));
}
