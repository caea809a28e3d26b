// Test worlds: throwaway network namespaces with unique names, and iproute2 as the independent oracle.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createNamedNetns, deleteNamedNetns } from '../../pkg/netns/index.ts';

export function uniqueName(tag: string): string {
  return `tsnt-${tag}-${randomBytes(3).toString('hex')}`;
}

/** A short unique interface name (<= 15 bytes). */
export function uniqueIfname(prefix: string): string {
  return `${prefix}${randomBytes(3).toString('hex')}`.slice(0, 15);
}

export interface TestNetns {
  readonly name: string;
  readonly path: string;
}

/** Creates `count` namespaces, runs `fn`, and deletes them even when `fn` fails. */
export async function withNetnses<T>(
  tag: string,
  count: number,
  fn: (ns: TestNetns[]) => Promise<T>,
): Promise<T> {
  const made: TestNetns[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const name = uniqueName(`${tag}${i}`);
      made.push({ name, path: createNamedNetns(name) });
    }
    return await fn(made);
  } finally {
    for (const ns of made) deleteNamedNetns(ns.name);
  }
}

/** Runs a command inside a namespace with nsenter (never `ip netns exec`, which remounts /sys). */
export function nsexec(nsPath: string, cmd: string, args: readonly string[]): string {
  return execFileSync('nsenter', [`--net=${nsPath}`, cmd, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** `ip -j ...` inside a namespace, parsed. */
export function ipJson<T = unknown>(nsPath: string, ...args: string[]): T {
  const out = nsexec(nsPath, 'ip', ['-j', ...args]).trim();
  return (out === '' ? [] : JSON.parse(out)) as T;
}

/** `ip ...` inside a namespace, for set-up steps done independently of the code under test. */
export function ip(nsPath: string, ...args: string[]): string {
  return nsexec(nsPath, 'ip', args);
}

export interface IpLink {
  ifindex: number;
  ifname: string;
  mtu: number;
  flags: string[];
  operstate?: string;
  master?: string;
  address?: string;
  link_netnsid?: number;
  linkinfo?: {
    info_kind?: string;
    info_data?: Record<string, unknown>;
    info_slave_kind?: string;
    info_slave_data?: Record<string, unknown>;
  };
}

export function ipLinks(nsPath: string): IpLink[] {
  return ipJson<IpLink[]>(nsPath, '-d', 'link', 'show');
}
