// A node's subnet lease as stored (flannel's layout): key `<prefix>/subnets/10.244.3.0-24`, value
// {"PublicIP": "...", "BackendType": "vxlan", "BackendData": {"VtepMAC": "..."}, "NodeName": "..."}.
// NodeName is tsnet's addition (flannel keeps it in Kubernetes, not in the lease): leases written before it,
// or by flannel, have none and still read.

import { isIPv4 } from 'node:net';
import { isMac } from '../netlink/codec.ts';
import type { KeyValue } from '../store/index.ts';

export interface VxlanBackendData {
  VtepMAC: string;
}

export interface LeaseAttrs {
  PublicIP: string;
  BackendType: 'vxlan';
  BackendData: VxlanBackendData;
  /** The agent's --node-name; absent in leases written before tsnet recorded it. */
  NodeName?: string;
}

/** What an agent accepts as --node-name (pkg/agent/options.ts). */
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/;

/** A subnet lease read from the store. */
export interface SubnetLease {
  /** CIDR, e.g. `10.244.3.0/24`. */
  subnet: string;
  key: string;
  attrs: LeaseAttrs;
  modRevision: number;
  /** Store lease the key is bound to. */
  lease?: string;
}

export class LeaseFormatError extends Error {
  constructor(key: string, detail: string) {
    super(`malformed subnet lease ${key}: ${detail}`);
    this.name = 'LeaseFormatError';
  }
}

export function subnetsPrefix(prefix: string): string {
  return `${prefix}/subnets/`;
}

/** `10.244.3.0/24` -> `<prefix>/subnets/10.244.3.0-24`. */
export function subnetKey(prefix: string, subnet: string): string {
  const [addr, len] = subnet.split('/');
  if (!addr || !isIPv4(addr) || len === undefined || !/^\d{1,2}$/.test(len)) {
    throw new Error(`invalid subnet ${JSON.stringify(subnet)}: expected an IPv4 CIDR like 10.244.3.0/24`);
  }
  return `${subnetsPrefix(prefix)}${addr}-${len}`;
}

/** `<prefix>/subnets/10.244.3.0-24` -> `10.244.3.0/24`; undefined for any other key. */
export function parseSubnetKey(prefix: string, key: string): string | undefined {
  const base = subnetsPrefix(prefix);
  if (!key.startsWith(base)) return undefined;
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})-(\d{1,2})$/.exec(key.slice(base.length));
  if (!m || !isIPv4(m[1] ?? '') || Number(m[2]) > 32) return undefined;
  return `${m[1]}/${m[2]}`;
}

export function encodeLeaseAttrs(attrs: LeaseAttrs): string {
  return JSON.stringify(validateLeaseAttrs('(new lease)', attrs));
}

export function validateLeaseAttrs(key: string, raw: unknown): LeaseAttrs {
  if (typeof raw !== 'object' || raw === null) throw new LeaseFormatError(key, 'value is not a JSON object');
  const v = raw as Record<string, unknown>;
  if (typeof v.PublicIP !== 'string' || !isIPv4(v.PublicIP)) {
    throw new LeaseFormatError(key, `PublicIP ${JSON.stringify(v.PublicIP)} is not an IPv4 address`);
  }
  if (v.BackendType !== 'vxlan')
    throw new LeaseFormatError(key, `unknown BackendType ${JSON.stringify(v.BackendType)}`);
  const data = v.BackendData as Record<string, unknown> | undefined;
  if (typeof data?.VtepMAC !== 'string' || !isMac(data.VtepMAC)) {
    throw new LeaseFormatError(
      key,
      `BackendData.VtepMAC ${JSON.stringify(data?.VtepMAC)} is not a MAC address`,
    );
  }
  if (v.NodeName !== undefined && (typeof v.NodeName !== 'string' || !NODE_NAME.test(v.NodeName)))
    throw new LeaseFormatError(key, `NodeName ${JSON.stringify(v.NodeName)} is not a node name`);
  return {
    PublicIP: v.PublicIP,
    BackendType: 'vxlan',
    BackendData: { VtepMAC: data.VtepMAC.toLowerCase() },
    ...(v.NodeName !== undefined ? { NodeName: v.NodeName } : {}),
  };
}

/** A stored key-value as a lease; throws LeaseFormatError when the key or value is not one. */
export function leaseFromKeyValue(prefix: string, kv: KeyValue): SubnetLease {
  const subnet = parseSubnetKey(prefix, kv.key);
  if (!subnet) throw new LeaseFormatError(kv.key, 'key is not <prefix>/subnets/<address>-<length>');
  let raw: unknown;
  try {
    raw = JSON.parse(kv.value);
  } catch (err) {
    throw new LeaseFormatError(kv.key, `value is not JSON: ${(err as Error).message}`);
  }
  return {
    subnet,
    key: kv.key,
    attrs: validateLeaseAttrs(kv.key, raw),
    modRevision: kv.modRevision,
    ...(kv.lease !== undefined ? { lease: kv.lease } : {}),
  };
}

export function sameAttrs(a: LeaseAttrs, b: LeaseAttrs): boolean {
  return (
    a.PublicIP === b.PublicIP &&
    a.BackendType === b.BackendType &&
    a.BackendData.VtepMAC === b.BackendData.VtepMAC &&
    a.NodeName === b.NodeName
  );
}
