// A 3-node cluster with real containers for the cluster DNS tests and the DNS benchmark: pkg/cluster's world
// (node namespaces on a veth underlay, etcd, one tsnet-agent per node) plus the busybox test image loaded
// into every agent and a test resolver (test/helpers/dns-responder.ts) on the underlay, which every agent
// forwards external names to (--resolv-conf). Containers run through tsnetctl against each node's agent;
// names are looked up with busybox nslookup from inside a container.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type Cluster,
  type CtlResult,
  ETCD_PREFIX,
  run,
  startCluster,
  tsnetctl,
} from '../../pkg/cluster/index.ts';
import { type ContainerEntry, containersPrefix, decodeEntry } from '../../pkg/discovery/entry.ts';
import { type DnsResponder, startDnsResponder } from '../helpers/dns-responder.ts';
import { writeBusyboxLayout } from '../helpers/registry.ts';

export const IMAGE = 'tsnet-test/busybox:latest';
export const RESOLVER_IP = '198.18.0.252';
/** The resolver's zone: every name under it is an A record with this address. */
export const EXTERNAL_ZONE = 'ext.test';
export const EXTERNAL_IP = '192.0.2.77';

const execFileAsync = promisify(execFile);

export interface DnsWorld {
  readonly cluster: Cluster;
  readonly resolver: DnsResponder;
  /** tsnetctl against node i's agent; never throws for a non-zero exit. */
  ctl(i: number, ...args: string[]): Promise<CtlResult>;
  /** tsnetctl that must succeed: its stdout. */
  ok(i: number, ...args: string[]): Promise<string>;
  /** tsnetctl on the cluster's etcd (the operator's view, no agent needed). */
  operator(...args: string[]): Promise<CtlResult>;
  /** `run -d --name NAME ARGS... IMAGE sleep` on node i; the container's IP on `network`. */
  run(i: number, name: string, network: string, extra?: string[]): Promise<string>;
  /** busybox nslookup inside `container` on node i. */
  lookup(i: number, container: string, name: string, type?: 'a' | 'ptr'): Promise<Lookup>;
  /** Several nslookups inside `container` in one exec (an exec costs on a loaded machine), by name. */
  lookups(
    i: number,
    container: string,
    names: readonly string[],
    type?: 'a' | 'ptr',
  ): Promise<Map<string, Lookup>>;
  /** Restarts node i's agent on its dirs with the world's arguments (after killAgent). */
  startAgent(i: number): Promise<void>;
  teardown(): Promise<void>;
}

export interface Lookup {
  readonly code: number;
  /** A records answered (the server's own address line is left out) */
  readonly addresses: string[];
  /** PTR names answered */
  readonly names: string[];
  readonly output: string;
}

/** The A addresses and PTR names of busybox nslookup's output. */
export function parseNslookup(r: CtlResult): Lookup {
  const out = r.stdout;
  const addresses = [...out.matchAll(/^Address:\s*(\d+\.\d+\.\d+\.\d+)\s*$/gm)].map((m) => m[1] ?? '');
  const names = [...out.matchAll(/name = (\S+?)\.?$/gm)].map((m) => m[1] ?? '');
  return { code: r.code, addresses, names, output: `${out}${r.stderr}`.trim() };
}

export interface DnsWorldOptions {
  nodes?: number;
  /** The agents' --lease-ttl (subnet and discovery leases), seconds. */
  leaseTtl?: number;
}

export async function startDnsWorld(options: DnsWorldOptions = {}): Promise<DnsWorld> {
  const cluster = await startCluster({
    nodes: options.nodes ?? 3,
    startAgents: false,
    ...(options.leaseTtl !== undefined ? { leaseTtl: options.leaseTtl } : {}),
  });
  let resolver: DnsResponder | undefined;
  const teardown = async (): Promise<void> => {
    await resolver?.stop();
    await cluster.teardown();
  };
  try {
    const resolverNs = await cluster.addUnderlayHost('dns', RESOLVER_IP);
    resolver = await startDnsResponder(resolverNs, RESOLVER_IP, { [EXTERNAL_ZONE]: EXTERNAL_IP });
    const resolvConf = join(cluster.dir, 'resolv.conf');
    writeFileSync(resolvConf, `nameserver ${RESOLVER_IP}\n`);
    const agentArgs = ['--resolv-conf', resolvConf];
    const startAgent = async (i: number): Promise<void> => {
      await cluster.startAgent(i, agentArgs);
      await cluster.waitHealthy(i, 60_000);
    };
    await Promise.all(cluster.nodes.map((n) => startAgent(n.index)));

    const host = (i: number): string => `unix://${cluster.nodes[i]?.apiSocket}`;
    const ctl = (i: number, ...args: string[]) => tsnetctl(['--host', host(i), ...args]);
    const ok = async (i: number, ...args: string[]): Promise<string> => {
      const r = await ctl(i, ...args);
      if (r.code !== 0)
        throw new Error(`node${i}: tsnetctl ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
      return r.stdout;
    };

    const image = await writeBusyboxLayout(join(cluster.dir, 'layout'), 'v1', ['linux/amd64']);
    const archive = join(cluster.dir, 'busybox.tar');
    await execFileAsync('skopeo', [
      'copy',
      '--quiet',
      `oci:${image.layout}:v1`,
      `docker-archive:${archive}:${IMAGE}`,
    ]);
    await Promise.all(cluster.nodes.map((n) => ok(n.index, 'load', '-i', archive)));

    const world: DnsWorld = {
      cluster,
      resolver,
      ctl,
      ok,
      operator: (...args) =>
        tsnetctl([...args, '--etcd-endpoints', cluster.etcdEndpoint, '--etcd-prefix', ETCD_PREFIX]),
      async run(i, name, network, extra = []) {
        await ok(
          i,
          'run',
          '-d',
          '--name',
          name,
          '--network',
          network,
          ...extra,
          IMAGE,
          '/bin/busybox',
          'sleep',
          '3600',
        );
        const inspect = JSON.parse(await ok(i, 'inspect', name)) as {
          NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
        }[];
        const ip = inspect[0]?.NetworkSettings?.Networks?.[network]?.IPAddress;
        if (!ip) throw new Error(`node${i}: ${name} has no address on ${network}`);
        return ip;
      },
      async lookup(i, container, name, type = 'a') {
        const found = (await world.lookups(i, container, [name], type)).get(name);
        if (!found) throw new Error(`node${i}: ${container}: nslookup ${name} printed nothing`);
        return found;
      },
      async lookups(i, container, names, type = 'a') {
        for (const n of names) if (!/^[A-Za-z0-9.-]+$/.test(n)) throw new Error(`not a DNS name: ${n}`);
        const script = names
          .map((n) => `echo '>>> ${n}'; /bin/busybox nslookup -type=${type} ${n} 2>&1; echo "<<< $?"`)
          .join('; ');
        const r = await ctl(i, 'exec', container, '/bin/sh', '-c', script);
        if (r.code !== 0)
          throw new Error(`node${i}: exec in ${container}: exit ${r.code}: ${r.stderr.trim()}`);
        const out = new Map<string, Lookup>();
        for (const block of r.stdout.split(/^>>> /m).slice(1)) {
          const [name = '', ...lines] = block.split('\n');
          const rc = /^<<< (\d+)$/m.exec(block);
          out.set(name, parseNslookup({ code: Number(rc?.[1] ?? 1), stdout: lines.join('\n'), stderr: '' }));
        }
        return out;
      },
      startAgent,
      teardown,
    };
    return world;
  } catch (err) {
    await teardown().catch(() => undefined);
    throw err;
  }
}

/** The cluster's discovery registry as etcd holds it, read with etcdctl (not the agents' view), decoded. */
export async function registryEntries(cluster: Cluster): Promise<ContainerEntry[]> {
  const out = await run('etcdctl', [
    `--endpoints=${cluster.etcdEndpoint}`,
    'get',
    '--prefix',
    containersPrefix(ETCD_PREFIX),
    '-w',
    'json',
  ]);
  const text = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
  const { kvs = [] } = JSON.parse(out) as { kvs?: { key: string; value: string }[] };
  return kvs.map((kv) => decodeEntry(ETCD_PREFIX, text(kv.key), text(kv.value)));
}
