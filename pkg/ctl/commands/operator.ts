// The operator's commands (network, nodes, node, diagnose, health) on the command line: their flags and exit
// codes (2 for a mistake) as before. The code behind them (store, netlink) is loaded only when one runs.
import { Command } from 'commander';
import type { Flags } from '../../cli/command-line.ts';
import { DEFAULT_DATA_DIR } from '../../cli/store-flags.ts';
import { DEFAULT_SUBNET_FILE } from '../../subnet/env.ts';
import { DATA_DIR_ENV } from '../store.ts';

const OPERATOR_COMMANDS: [string, string][] = [
  ['network', 'the cluster network config'],
  ['nodes', 'every node lease: subnet, public IP, VTEP MAC'],
  ['node', 'this node: subnet.env, VTEP device, overlay routes/neighbours/FDB'],
  ['diagnose', "compare this node's kernel with the leases: missing and foreign entries"],
  ['health', "the local agent's /healthz"],
];

/** The flags every operator command takes (as before: one set, shared). */
function withOperatorFlags(command: Command): Command {
  return command
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
    .option('--json', 'print JSON');
}

/** Commander's parsed options under their flag names, the form the operator commands read. */
function flagsOf(command: Command): Flags {
  const values = command.opts<Record<string, string | boolean | undefined>>();
  const flags: Flags = {};
  for (const option of command.options)
    flags[option.long?.slice(2) ?? option.name()] = values[option.attributeName()];
  return flags;
}

export function operatorCommands(): Command[] {
  return OPERATOR_COMMANDS.map(([name, summary]) => {
    const command = withOperatorFlags(new Command(name).description(summary));
    return command.action(async () => {
      const { OPERATOR_RUNNERS } = await import('../operator.ts');
      await OPERATOR_RUNNERS[name]?.(flagsOf(command));
    });
  });
}

export const OPERATOR_COMMAND_NAMES = new Set(OPERATOR_COMMANDS.map(([name]) => name));
