// Linux capabilities for a container: Docker's default set, and --cap-add/--cap-drop (names with or
// without "CAP_", any case, and "ALL") applied to it the way Docker does.

import { readFileSync } from 'node:fs';

/** Every capability Linux defines, in bit order (CAP_CHOWN is bit 0, CAP_CHECKPOINT_RESTORE bit 40). */
export const ALL_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

/** Docker's default set (moby oci/caps.DefaultCapabilities). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

export class CapabilityError extends Error {
  override name = 'CapabilityError';
}

const KNOWN = new Set<string>(ALL_CAPABILITIES);

/** "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" are the same capability; "ALL" stays "ALL". */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!KNOWN.has(full)) throw new CapabilityError(`unknown capability ${JSON.stringify(name)}`);
  return full;
}

export interface CapabilityChanges {
  readonly add?: readonly string[];
  readonly drop?: readonly string[];
  readonly privileged?: boolean;
}

/**
 * The container's capability set. Like Docker: privileged gets all; "ALL" in drop empties the base before
 * additions; "ALL" in add gives all minus explicit drops; a name both added and dropped is an error.
 */
export function containerCapabilities(changes: CapabilityChanges = {}): string[] {
  if (changes.privileged) return [...ALL_CAPABILITIES];
  const add = (changes.add ?? []).map(normalizeCapability);
  const drop = (changes.drop ?? []).map(normalizeCapability);
  for (const cap of add) {
    if (cap !== 'ALL' && drop.includes(cap)) {
      throw new CapabilityError(`capability ${cap} is both added and dropped`);
    }
  }
  let caps = new Set<string>(drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES);
  if (add.includes('ALL')) caps = new Set(ALL_CAPABILITIES);
  for (const cap of add) if (cap !== 'ALL') caps.add(cap);
  for (const cap of drop) if (cap !== 'ALL') caps.delete(cap);
  // bit order, so the same request always gives the same spec
  return ALL_CAPABILITIES.filter((c) => caps.has(c));
}

/**
 * Every capability the agent itself may hand out: its bounding set (root here lacks CAP_SYS_RESOURCE, and
 * runc refuses to apply a capability it does not hold: "unable to apply caps: operation not permitted").
 */
export function hostCapabilities(status = readFileSync('/proc/self/status', 'utf8')): string[] {
  const bounding = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0'}`);
  return ALL_CAPABILITIES.filter((_, bit) => (bounding >> BigInt(bit)) & 1n);
}

/** The capability mask the kernel shows as CapEff in /proc/PID/status, for a set of names. */
export function capabilityMask(caps: readonly string[]): bigint {
  let mask = 0n;
  for (const cap of caps) {
    const bit = ALL_CAPABILITIES.indexOf(normalizeCapability(cap) as (typeof ALL_CAPABILITIES)[number]);
    if (bit >= 0) mask |= 1n << BigInt(bit);
  }
  return mask;
}
