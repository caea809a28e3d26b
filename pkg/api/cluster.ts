// The Cluster service: the nodes' subnet leases and the discovery view, answered from what this agent holds.
import * as grpc from '@grpc/grpc-js';
import type { ContainerEntry } from '../discovery/entry.ts';
import type { SubnetLease } from '../subnet/lease.ts';
import { byCodeUnits } from '../text/order.ts';
import { agentErrorStatus, unaryHandler } from './errors.ts';
import type { ClusterHandlers } from './generated/tsnet/v1/Cluster.ts';
import type { ClusterContainer } from './generated/tsnet/v1/ClusterContainer.ts';
import type { NodeSummary } from './generated/tsnet/v1/NodeSummary.ts';

export interface ClusterDeps {
  readonly nodeName: string;
  /** every node's lease; undefined while this agent is not in a cluster */
  leases(): Promise<SubnetLease[] | undefined>;
  /** this agent's subnet, when it holds one */
  localSubnet(): string | undefined;
  /** the discovery view */
  containers(): ContainerEntry[];
}

function inSubnet(ip: string, cidr: string): boolean {
  const [base = '', len = '32'] = cidr.split('/');
  const toInt = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const bits = Number(len);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return /^\d+\.\d+\.\d+\.\d+$/.test(ip) && (toInt(ip) & mask) === (toInt(base) & mask);
}

function toStatus(err: unknown): grpc.ServerErrorResponse {
  return agentErrorStatus(grpc.status.UNAVAILABLE, `the cluster store: ${(err as Error).message}`);
}

function containerOf(e: ContainerEntry): ClusterContainer {
  return {
    id: e.id,
    name: e.name,
    node: e.node,
    image: e.image,
    state: e.state,
    labels: { ...e.labels },
    endpoints: e.endpoints.map((ep) => ({
      network: ep.network,
      ipv4: ep.ipv4 ?? '',
      ipv6: ep.ipv6 ?? '',
      mac: ep.mac ?? '',
      aliases: [...ep.aliases],
      scope: ep.scope ?? 'local',
    })),
    ports: e.ports.map((p) => ({ ...p })),
  };
}

export function clusterHandlers(deps: ClusterDeps): ClusterHandlers {
  return {
    Nodes: unaryHandler(async () => {
      const leases = await deps.leases();
      const entries = deps.containers();
      if (!leases) {
        const own = entries.filter((e) => e.node === deps.nodeName).length;
        const local: NodeSummary = { name: deps.nodeName, containers: own, local: true };
        return { nodes: [local], clustered: false };
      }
      const localSubnet = deps.localSubnet();
      const nodes = leases.map((lease): NodeSummary => {
        // the node's containers: their overlay addresses lie in its subnet
        const onNode = entries.filter((e) =>
          e.endpoints.some((ep) => ep.scope === 'cluster' && ep.ipv4 && inSubnet(ep.ipv4, lease.subnet)),
        );
        const isLocal = lease.subnet === localSubnet;
        return {
          name: isLocal ? deps.nodeName : (onNode[0]?.node ?? ''),
          subnet: lease.subnet,
          publicIp: lease.attrs.PublicIP,
          vtepMac: lease.attrs.BackendData.VtepMAC,
          backendType: lease.attrs.BackendType,
          containers: onNode.length,
          local: isLocal,
        };
      });
      return { nodes, clustered: true };
    }, toStatus),
    Containers: unaryHandler(
      async (req) => ({
        containers: deps
          .containers()
          .filter((e) => !req.node || e.node === req.node)
          .filter((e) => !req.network || e.endpoints.some((ep) => ep.network === req.network))
          .sort((a, b) => byCodeUnits(a.node, b.node) || byCodeUnits(a.name, b.name))
          .map(containerOf),
      }),
      toStatus,
    ),
  };
}
