// A small cluster of "nodes" for overlay tests: node namespaces joined by a veth underlay through a switch
// namespace (a bridge), each node with a pod bridge holding its subnet's .1 and one pod namespace at .2.
// Built with iproute2 only, so the code under test programs nothing but the overlay itself.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeSysctl } from '../../pkg/netns/index.ts';
import { ip, ipJson, nsexec, type TestNetns, withNetnses } from '../helpers/netns.ts';

export const VTEP = 'tsnet.1';

export interface TestNode {
  readonly ns: TestNetns;
  readonly pod: TestNetns;
  /** Underlay address, 198.18.0.(i+1). */
  readonly underlayIp: string;
  /** Pod subnet, 10.244.(i+1).0/24. */
  readonly subnet: string;
  readonly podIp: string;
}

/** Builds `count` nodes with pods, runs `fn`, and removes every namespace (links go with them). */
export async function withCluster<T>(
  tag: string,
  count: number,
  fn: (nodes: TestNode[]) => Promise<T>,
): Promise<T> {
  return withNetnses(tag, 1 + 2 * count, async ([sw, ...rest]) => {
    ip(sw!.path, 'link', 'add', 'ul', 'type', 'bridge');
    ip(sw!.path, 'link', 'set', 'ul', 'up');
    const nodes: TestNode[] = [];
    for (let i = 0; i < count; i++) {
      const ns = rest[2 * i]!;
      const pod = rest[2 * i + 1]!;
      const node: TestNode = {
        ns,
        pod,
        underlayIp: `198.18.0.${i + 1}`,
        subnet: `10.244.${i + 1}.0/24`,
        podIp: `10.244.${i + 1}.2`,
      };
      ip(ns.path, 'link', 'add', 'ul0', 'type', 'veth', 'peer', 'name', `n${i}`, 'netns', sw!.name);
      ip(sw!.path, 'link', 'set', `n${i}`, 'master', 'ul', 'up');
      ip(ns.path, 'addr', 'add', `${node.underlayIp}/24`, 'dev', 'ul0');
      ip(ns.path, 'link', 'set', 'ul0', 'up');
      writeSysctl(ns.path, 'net/ipv4/ip_forward', '1');
      ip(ns.path, 'link', 'add', 'cni0', 'type', 'bridge');
      ip(ns.path, 'addr', 'add', `10.244.${i + 1}.1/24`, 'dev', 'cni0');
      ip(ns.path, 'link', 'set', 'cni0', 'up');
      ip(ns.path, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.name);
      ip(ns.path, 'link', 'set', 'veth0', 'master', 'cni0', 'up');
      ip(pod.path, 'addr', 'add', `${node.podIp}/24`, 'dev', 'eth0');
      ip(pod.path, 'link', 'set', 'eth0', 'up');
      ip(pod.path, 'link', 'set', 'lo', 'up');
      ip(pod.path, 'route', 'add', 'default', 'via', `10.244.${i + 1}.1`);
      nodes.push(node);
    }
    return fn(nodes);
  });
}

/** One ping from a namespace; true when answered. */
export async function pings(from: TestNetns, to: string): Promise<boolean> {
  try {
    await promisify(execFile)('nsenter', [`--net=${from.path}`, 'ping', '-c1', '-W2', to]);
    return true;
  } catch {
    return false;
  }
}

export interface OracleRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  metric?: number;
  flags: string[];
}
export interface OracleNeigh {
  dst: string;
  lladdr?: string;
  state: string[];
}
export interface OracleFdb {
  mac: string;
  dst?: string;
  flags: string[];
  state: string;
}

/**
 * `ip -j -N route show` (main table), the routes through `dev`. `-N` prints protocols as numbers: on a node
 * where deploy/install.sh registered `116 tsnet` in /etc/iproute2/rt_protos.d, plain `ip` would say "tsnet".
 */
export const oracleRoutes = (ns: TestNetns, dev = VTEP): OracleRoute[] =>
  ipJson<OracleRoute[]>(ns.path, '-N', 'route', 'show').filter((r) => r.dev === dev);
/** `ip -j neigh show dev tsnet.1` (IPv4). */
export const oracleNeigh = (ns: TestNetns, dev = VTEP): OracleNeigh[] =>
  ipJson<OracleNeigh[]>(ns.path, '-4', 'neigh', 'show', 'dev', dev);
/** `bridge -j fdb show dev tsnet.1`. */
export const oracleFdb = (ns: TestNetns, dev = VTEP): OracleFdb[] =>
  JSON.parse(nsexec(ns.path, 'bridge', ['-j', 'fdb', 'show', 'dev', dev]).trim() || '[]') as OracleFdb[];

/** Polls `check` every 50 ms up to `attempts` times; the bound is a give-up point, not a timing assertion. */
export async function eventually(check: () => boolean, attempts = 200): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}
