// tsnetctl ps (container ls): docker's table of containers, `-q` IDs, or the user's --format.
import { Command } from 'commander';
import type { ContainerSummary__Output } from '../../api/generated/tsnet/v1/ContainerSummary.ts';
import type { PortBinding__Output } from '../../api/generated/tsnet/v1/PortBinding.ts';
import { FlagError } from '../errors.ts';
import { goTime, listFormatter } from '../format/output.ts';
import { createdSince, humanDuration, shortId } from '../format/units.ts';
import { type CliContext, collect } from './context.ts';

interface PsOptions {
  all: boolean;
  quiet: boolean;
  last?: string;
  latest: boolean;
  trunc: boolean;
  filter: string[];
  format?: string;
  allNodes: boolean;
}

/** One row of `ps -A`: a container of any node, from the agent's discovery view. */
interface ClusterRow {
  ID: string;
  Names: string;
  Node: string;
  Image: string;
  State: string;
  Networks: string;
  IPs: string;
  Ports: string;
}

const CLUSTER_HEADERS = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Node: 'NODE',
  Image: 'IMAGE',
  State: 'STATE',
  Networks: 'NETWORKS',
  IPs: 'IPS',
  Ports: 'PORTS',
};

/** One row of `docker ps`: the fields its --format knows. */
export interface ContainerRow {
  ID: string;
  Image: string;
  Command: string;
  CreatedAt: string;
  RunningFor: string;
  Ports: string;
  State: string;
  Status: string;
  Names: string;
  Labels: string;
  Networks: string;
}

const HEADERS = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Names: 'NAMES',
  Labels: 'LABELS',
  Networks: 'NETWORKS',
};

/** go's Ellipsis: `maxLength` characters at most, the last one `…` when cut. */
function ellipsis(text: string, maxLength: number): string {
  const chars = [...text];
  return chars.length <= maxLength ? text : `${chars.slice(0, maxLength - 1).join('')}…`;
}

/** Docker's PORTS column: `0.0.0.0:8080->80/tcp, :::8080->80/tcp`, unpublished ones `80/tcp`. */
export function portsText(ports: readonly PortBinding__Output[]): string {
  return ports
    .map((p) => {
      const target = `${p.containerPort}/${p.protocol}`;
      if (!p.hostPort) return target;
      const ip = p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp;
      return `${p.hostIp === '::' ? '::' : ip}:${p.hostPort}->${target}`;
    })
    .join(', ');
}

export function containerRows(
  containers: readonly ContainerSummary__Output[],
  noTrunc: boolean,
  now = Date.now(),
): ContainerRow[] {
  return containers.map((c) => ({
    ID: shortId(c.id, noTrunc),
    Image: c.image,
    Command: JSON.stringify(noTrunc ? c.command : ellipsis(c.command, 20)),
    CreatedAt: goTime(c.createdUnix),
    RunningFor: c.createdUnix > 0 ? `${humanDuration(now - c.createdUnix * 1000)} ago` : createdSince(0),
    Ports: portsText(c.ports),
    State: c.state,
    Status: c.status,
    Names: c.names.map((n) => n.replace(/^\//, '')).join(','),
    Labels: Object.entries(c.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    Networks: c.networks.join(','),
  }));
}

export function psCommand(ctx: CliContext, name = 'ps'): Command {
  return new Command(name)
    .description('List containers')
    .option('-a, --all', 'Show all containers (default shows just running)', false)
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option(
      '--format <string>',
      "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'",
    )
    .option('-n, --last <int>', 'Show n last created containers (includes all states)')
    .option('-l, --latest', 'Show the latest created container (includes all states)', false)
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only display container IDs', false)
    .option(
      '-A, --all-nodes',
      "Every node's containers, with their node (the cluster's discovery view)",
      false,
    )
    .action(async (o: PsOptions) => {
      if (o.allNodes) {
        const { containers } = await ctx.agent().clusterContainers();
        const rows = containers.map(
          (c): ClusterRow => ({
            ID: shortId(c.id, !o.trunc),
            Names: c.name,
            Node: c.node,
            Image: c.image,
            State: c.state,
            Networks: c.endpoints.map((e) => e.network).join(','),
            IPs: c.endpoints.map((e) => e.ipv4 || e.ipv6).join(','),
            Ports: c.ports
              .map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`)
              .join(', '),
          }),
        );
        const formatter = listFormatter<ClusterRow>(
          o.quiet ? '{{.ID}}' : o.format,
          'table {{.ID}}\\t{{.Names}}\\t{{.Node}}\\t{{.Image}}\\t{{.State}}\\t{{.IPs}}\\t{{.Ports}}',
          CLUSTER_HEADERS,
        );
        ctx.stdout.write(formatter.render(o.all ? rows : rows.filter((r) => r.State === 'running')));
        return;
      }
      if (o.last !== undefined && !/^-?\d+$/.test(o.last))
        throw new FlagError(
          `invalid argument ${JSON.stringify(o.last)} for "-n, --last" flag: invalid syntax`,
        );
      const last = o.latest ? 1 : Math.max(0, Number(o.last ?? 0));
      const { containers } = await ctx
        .agent()
        .containers({ all: o.all || last > 0, filters: o.filter, last });
      const formatter = listFormatter<ContainerRow>(
        o.quiet ? '{{.ID}}' : o.format,
        'table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}',
        HEADERS,
      );
      ctx.stdout.write(formatter.render(containerRows(containers, !o.trunc)));
    });
}
