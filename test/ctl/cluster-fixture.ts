// A 2-node cluster for tsnetctl's cluster view and diagnose: containers attached with tsnet-vxlan in namespaces
// of the test's own, published under the store prefix with the DiscoveryPublisher as the engine does (with
// their sandbox). The agents are SIGKILLed once the overlay is programmed: tsnetctl must work without them,
// their drift repair would undo the faults the tests inject, and a running agent's publisher owns its node's
// discovery keys. Their subnet leases outlive the test (a long --lease-ttl).
import { createHash } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import {
  type Cluster,
  type Container,
  ETCD_PREFIX,
  ipJson,
  pings,
  pollUntil,
} from '../../pkg/cluster/index.ts';
import type { ContainerEntry } from '../../pkg/discovery/entry.ts';
import { DiscoveryPublisher } from '../../pkg/discovery/publisher.ts';
import { EtcdStore } from '../../pkg/store/etcd.ts';
import { peerEntriesOn, peerOf, withCluster } from '../cluster/helpers.ts';
import { outcome, TSNETCTL } from './cli.ts';

export interface ViewFixture {
  readonly cluster: Cluster;
  readonly containers: readonly { container: Container; entry: ContainerEntry }[];
  /** tsnetctl from the host namespace, on the cluster's etcd. */
  readonly ctl: (...args: string[]) => ReturnType<typeof outcome>;
  /** tsnetctl inside node i's namespace, on the cluster's etcd. */
  readonly ctlOn: (i: number, ...args: string[]) => ReturnType<typeof outcome>;
}

export const containerId = (name: string): string => createHash('sha256').update(name).digest('hex');

async function macOf(netnsPath: string): Promise<string> {
  const [link] = await ipJson<{ address: string }[]>(netnsPath, ['link', 'show', 'dev', 'eth0']);
  return link?.address ?? '';
}

function entryOf(c: Container, mac: string, node: string): ContainerEntry {
  return {
    id: containerId(c.name),
    name: c.name,
    node,
    image: 'docker.io/library/busybox:latest',
    state: 'running',
    labels: { test: 'cluster-view' },
    endpoints: [
      {
        network: 'tsnet',
        networkId: 'tsnet',
        ipv4: c.ip,
        mac,
        aliases: [`${c.name}-alias`],
        scope: 'cluster',
      },
    ],
    ports:
      c.name === 'web' ? [{ hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80, protocol: 'tcp' }] : [],
    sandbox: c.netnsPath,
  };
}

/** Builds the cluster with `placement` (container name -> node index), runs `fn`, tears everything down. */
export async function withViewCluster<T>(
  t: ExecutionContext,
  placement: readonly [string, number][],
  fn: (f: ViewFixture) => Promise<T>,
): Promise<T> {
  return withCluster(t, { nodes: 2, leaseTtl: 3600 }, async (cluster) => {
    const made = [];
    for (const [name, node] of placement) made.push(await cluster.addContainer(node, name));
    const peer1 = await peerOf(cluster, 1);
    await pollUntil(
      'node0 to program node1',
      async () => Object.values(await peerEntriesOn(cluster.nodes[0]!.netnsPath, peer1)).every(Boolean),
      { timeoutMs: 30_000 },
    );
    await Promise.all(cluster.nodes.map((n) => cluster.killAgent(n.index)));
    const store = new EtcdStore({ endpoints: [cluster.etcdEndpoint], dialTimeoutMs: 3000 });
    const publishers = cluster.nodes.map(
      (n) => new DiscoveryPublisher({ store, prefix: ETCD_PREFIX, node: `node${n.index}`, ttlSeconds: 600 }),
    );
    try {
      const containers = [];
      for (const c of made) {
        const entry = entryOf(c, await macOf(c.netnsPath), `node${c.node}`);
        publishers[c.node]?.set(entry);
        containers.push({ container: c, entry });
      }
      for (const p of publishers) p.start();
      await Promise.all(publishers.map((p) => p.idle()));
      const args = ['--etcd-endpoints', cluster.etcdEndpoint, '--etcd-prefix', ETCD_PREFIX];
      const inNodeArgs = ['--etcd-endpoints', cluster.etcdUrl, '--etcd-prefix', ETCD_PREFIX];
      return await fn({
        cluster,
        containers,
        ctl: (...a) => outcome(process.execPath, [...TSNETCTL.slice(1), ...a, ...args]),
        ctlOn: (i, ...a) =>
          outcome('nsenter', [`--net=${cluster.nodes[i]!.netnsPath}`, ...TSNETCTL, ...a, ...inNodeArgs]),
      });
    } finally {
      await Promise.all(publishers.map((p) => p.stop({ revoke: true })));
      await store.close();
    }
  });
}

export { pings };
