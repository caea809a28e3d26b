// tsnetctl network create|ls|inspect|rm|connect|disconnect|prune, with docker's flags and output.
import { Command } from 'commander';
import type { IpamPool } from '../../api/generated/tsnet/v1/IpamPool.ts';
import type { NetworkSummary__Output } from '../../api/generated/tsnet/v1/NetworkSummary.ts';
import { parseCidr, parseIp, subnetContains, subnetOf } from '../../ip/address.ts';
import { FlagError } from '../errors.ts';
import { goTime, listFormatter } from '../format/output.ts';
import { createdSince, shortId } from '../format/units.ts';
import { type CliContext, collect, eachNamed, keyValueMap } from './context.ts';
import { inspectCommand } from './inspect.ts';
import { confirmed } from './prune.ts';

interface CreateOptions {
  driver: string;
  subnet: string[];
  gateway: string[];
  ipRange: string[];
  opt: string[];
  label: string[];
  internal: boolean;
}

/** Docker's IPAM flags: each gateway and ip-range goes with the subnet that holds it. */
export function ipamPools(
  subnets: readonly string[],
  gateways: readonly string[],
  ranges: readonly string[],
): IpamPool[] {
  const parsed = subnets.map((s) => {
    const c = parseCidr(s);
    if (!c) throw new FlagError(`invalid CIDR address: ${s}`);
    return { text: s, subnet: subnetOf(c.address, c.prefix), gateway: '', ipRange: '' };
  });
  if (!parsed.length && (gateways.length || ranges.length))
    throw new FlagError('every ip-range or gateway must have a corresponding subnet');
  const owner = (text: string, what: string) => {
    const ip = what === 'gateway' ? parseIp(text) : parseCidr(text)?.address;
    if (!ip) throw new FlagError(`invalid ${what}: ${text}`);
    const pool = parsed.find((p) => subnetContains(p.subnet, ip));
    if (!pool) throw new FlagError(`no matching subnet for ${what} ${text}`);
    return pool;
  };
  for (const g of gateways) {
    const pool = owner(g, 'gateway');
    if (pool.gateway)
      throw new FlagError(
        `cannot configure multiple gateways (${g}, ${pool.gateway}) for the same subnet (${pool.text})`,
      );
    pool.gateway = g;
  }
  for (const r of ranges) {
    const pool = owner(r, 'range');
    if (pool.ipRange)
      throw new FlagError(
        `cannot configure multiple ranges (${r}, ${pool.ipRange}) on the same subnet (${pool.text})`,
      );
    pool.ipRange = r;
  }
  return parsed.map((p) => ({ subnet: p.text, gateway: p.gateway, ipRange: p.ipRange }));
}

function createCommand(ctx: CliContext): Command {
  return new Command('create')
    .description('Create a network')
    .argument('<NETWORK>')
    .option('-d, --driver <string>', 'Driver to manage the Network (bridge, macvlan, overlay)', 'bridge')
    .option('--subnet <strings>', 'Subnet in CIDR format that represents a network segment', collect, [])
    .option('--gateway <strings>', 'IPv4 or IPv6 Gateway for the master subnet', collect, [])
    .option('--ip-range <strings>', 'Allocate container ip from a sub-range', collect, [])
    .option('-o, --opt <map>', 'Set driver specific options', collect, [])
    .option('--label <list>', 'Set metadata on a network', collect, [])
    .option('--internal', 'Restrict external access to the network', false)
    .action(async (name: string, o: CreateOptions) => {
      const created = await ctx.agent().createNetwork({
        name,
        driver: o.driver,
        pools: ipamPools(o.subnet, o.gateway, o.ipRange),
        options: keyValueMap(o.opt, '-o, --opt'),
        labels: keyValueMap(o.label, '--label'),
        internal: o.internal,
      });
      for (const w of created.warnings) ctx.stderr.write(`WARNING: ${w}\n`);
      ctx.stdout.write(`${created.id}\n`);
    });
}

export interface NetworkRow {
  ID: string;
  Name: string;
  Driver: string;
  Scope: string;
  CreatedAt: string;
  CreatedSince: string;
  Labels: string;
}

function networkRows(networks: readonly NetworkSummary__Output[], noTrunc: boolean): NetworkRow[] {
  return networks.map((n) => ({
    ID: shortId(n.id, noTrunc),
    Name: n.name,
    Driver: n.driver,
    Scope: n.scope,
    CreatedAt: goTime(n.createdUnix),
    CreatedSince: createdSince(n.createdUnix),
    Labels: Object.entries(n.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  }));
}

function lsCommand(ctx: CliContext): Command {
  return new Command('ls')
    .alias('list')
    .description('List networks')
    .option('-f, --filter <filter>', "Provide filter values (e.g. 'driver=bridge')", collect, [])
    .option(
      '--format <string>',
      "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'",
    )
    .option('--no-trunc', 'Do not truncate the output')
    .option('-q, --quiet', 'Only display network IDs', false)
    .action(async (o: { filter: string[]; format?: string; trunc: boolean; quiet: boolean }) => {
      const { networks } = await ctx.agent().networks(o.filter);
      const formatter = listFormatter<NetworkRow>(
        o.quiet ? '{{.ID}}' : o.format,
        'table {{.ID}}\\t{{.Name}}\\t{{.Driver}}\\t{{.Scope}}',
        { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', CreatedAt: 'CREATED AT' },
      );
      ctx.stdout.write(formatter.render(networkRows(networks, !o.trunc)));
    });
}

/**
 * docker's `network` verbs, added to `group`: the operator's `network` command (the cluster's network config,
 * what `tsnetctl network` alone still prints).
 */
export function networkCommand(ctx: CliContext, group = new Command('network')): Command {
  return group
    .description('Manage networks (alone: the cluster network config)')
    .addCommand(createCommand(ctx))
    .addCommand(lsCommand(ctx))
    .addCommand(inspectCommand(ctx, 'inspect', ['network']))
    .addCommand(
      new Command('rm')
        .alias('remove')
        .description('Remove one or more networks')
        .argument('<NETWORK...>')
        .action((names: string[]) => eachNamed(ctx, names, (n) => ctx.agent().removeNetwork(n))),
    )
    .addCommand(
      new Command('connect')
        .description('Connect a container to a network')
        .argument('<NETWORK>')
        .argument('<CONTAINER>')
        .option('--alias <strings>', 'Add network-scoped alias for the container', collect, [])
        .option('--ip <string>', 'IPv4 address (e.g., "172.30.100.104")')
        .action(async (network: string, container: string, o: { alias: string[]; ip?: string }) => {
          if (o.ip !== undefined && parseIp(o.ip)?.family !== 4)
            throw new FlagError(
              `invalid argument ${JSON.stringify(o.ip)} for "--ip" flag: ${o.ip} is not an ip address`,
            );
          await ctx.agent().connectNetwork({ network, container, aliases: o.alias, ipv4Address: o.ip ?? '' });
        }),
    )
    .addCommand(
      new Command('disconnect')
        .description('Disconnect a container from a network')
        .argument('<NETWORK>')
        .argument('<CONTAINER>')
        .option('-f, --force', 'Force the container to disconnect from a network', false)
        .action((network: string, container: string, o: { force: boolean }) =>
          ctx.agent().disconnectNetwork({ network, container, force: o.force }),
        ),
    )
    .addCommand(
      new Command('prune')
        .description('Remove all unused networks')
        .option('--filter <filter>', "Provide filter values (e.g. 'until=<timestamp>')", collect, [])
        .option('-f, --force', 'Do not prompt for confirmation', false)
        .action(async (o: { filter: string[]; force: boolean }) => {
          const warning = 'WARNING! This will remove all custom networks not used by at least one container.';
          if (!o.force && !(await confirmed(ctx, `${warning}\nAre you sure you want to continue?`))) return;
          const { deleted } = await ctx.agent().pruneNetworks(o.filter);
          if (deleted.length) ctx.stdout.write(`Deleted Networks:\n${deleted.join('\n')}\n\n`);
        }),
    );
}
