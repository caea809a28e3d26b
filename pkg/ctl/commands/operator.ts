// The operator's commands (network, nodes, node, leases, endpoints, routes, diagnose, health) on the command
// line: their flags and exit codes (2 for a mistake) as before. The code behind them (store, netlink) is loaded
// only when one runs.
import { Command } from 'commander';
import type { Flags } from '../../cli/command-line.ts';
import { DEFAULT_DATA_DIR } from '../../cli/store-flags.ts';
import { DEFAULT_SUBNET_FILE } from '../../subnet/env.ts';
import { DATA_DIR_ENV } from '../store.ts';

/** The flags a command takes beyond the shared ones. */
type Extra = 'node' | 'network' | 'node-netns';

/** name, arguments, summary, extra flags */
const OPERATOR_COMMANDS: [string, string, string, Extra[]][] = [
  ['network', '', 'the cluster network config', []],
  ['nodes', '', 'every node: name, public IP, subnet, VTEP MAC, lease TTL left, containers, ready', []],
  [
    'node',
    '[NAME]',
    'a node of the cluster and its containers; without NAME this node: subnet.env, VTEP, overlay entries',
    [],
  ],
  ['leases', '', 'every subnet lease with the TTL it has left', []],
  [
    'endpoints',
    '',
    "every container's endpoint: node, network, IP, MAC, aliases, ports",
    ['node', 'network'],
  ],
  [
    'routes',
    '',
    "each node's overlay routes, neighbours and FDB entries against the leases: missing, foreign",
    ['node', 'node-netns'],
  ],
  [
    'diagnose',
    '[A] [B]',
    "the path from container A to B hop by hop; without A B this node's kernel against the leases",
    ['node-netns'],
  ],
  ['health', '', "the local agent's /healthz", []],
];

/** The flags every operator command takes (as before: one set, shared). */
function withOperatorFlags(command: Command, extra: readonly Extra[]): Command {
  command
    .option('--etcd-endpoints <URL[,URL]>', 'the cluster store (default: the embedded one under --data-dir)')
    .option('--etcd-prefix <P>', 'key prefix of the network config and leases')
    .option('--etcd-cafile <FILE>', 'CA of the etcd endpoints')
    .option('--etcd-certfile <FILE>', 'client certificate for etcd')
    .option('--etcd-keyfile <FILE>', 'client key for etcd')
    .option(
      '--data-dir <DIR>',
      `the embedded store's directory (default $${DATA_DIR_ENV}, else ${DEFAULT_DATA_DIR}); never created`,
    )
    .option('--netns <PATH>', 'the network namespace to look at')
    .option('--vxlan-name <NAME>', 'the VTEP device (default tsnet.1)')
    .option('--subnet-file <PATH>', `the agent's subnet.env (default ${DEFAULT_SUBNET_FILE})`)
    .option('--http <HOST:PORT>', "the agent's health/metrics address (default 127.0.0.1:9180)")
    // `network` takes docker's network verbs as subcommands, whose `create -o` is --opt: long form only there.
    .option(
      `${command.name() === 'network' ? '' : '-o, '}--output <FORMAT>`,
      'table (default), wide, json or yaml',
    )
    .option('--json', 'print JSON (--output json)');
  if (extra.includes('node')) command.option('--node <NAME>', 'only this node');
  if (extra.includes('network')) command.option('--network <NET>', 'only this network');
  if (extra.includes('node-netns'))
    command.option(
      '--node-netns <NODE=PATH>',
      "where a node's network namespace is on this machine (repeatable)",
      (value: string, previous: string[] = []) => [...previous, value],
    );
  return command;
}

/** Commander's parsed options under their flag names, the form the operator commands read. */
function flagsOf(command: Command): Flags {
  const values = command.opts<Record<string, string | boolean | string[] | undefined>>();
  const flags: Flags = {};
  for (const option of command.options) {
    const value = values[option.attributeName()];
    if (!Array.isArray(value)) flags[option.long?.slice(2) ?? option.name()] = value;
  }
  return flags;
}

export function operatorCommands(): Command[] {
  return OPERATOR_COMMANDS.map(([name, args, summary, extra]) => {
    const command = withOperatorFlags(new Command(name).description(summary), extra);
    if (args) command.arguments(args);
    return command.action(async () => {
      const { OPERATOR_RUNNERS } = await import('../operator.ts');
      const nodeNetns = command.opts<{ nodeNetns?: string[] }>().nodeNetns ?? [];
      await OPERATOR_RUNNERS[name]?.({ flags: flagsOf(command), args: command.args, nodeNetns });
    });
  });
}

export const OPERATOR_COMMAND_NAMES = new Set(OPERATOR_COMMANDS.map(([name]) => name));
