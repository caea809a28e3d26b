// tsnetctl's command tree: docker's image, container, network and volume verbs (and their group aliases) over
// the agent's API, plus the operator's commands. Commander parses, helps and completes; errors end in describeFailure's words.
import { Command } from 'commander';
import { HOST_ENV } from '../api/client.ts';
import { DEFAULT_API_SOCKET } from '../api/server.ts';
import { buildCommand } from './commands/build.ts';
import { commitCommand } from './commands/commit.ts';
import { composeCommand } from './commands/compose.ts';
import {
  containerPruneCommand,
  exportCommand,
  killCommand,
  pauseCommand,
  portCommand,
  renameCommand,
  restartCommand,
  rmCommand,
  startCommand,
  stopCommand,
  topCommand,
  unpauseCommand,
  waitCommand,
} from './commands/container.ts';
import { type CliContext, cliContext } from './commands/context.ts';
import { cpCommand } from './commands/cp.ts';
import { eventsCommand } from './commands/events.ts';
import { attachCommand, execCommand } from './commands/exec.ts';
import { historyCommand } from './commands/history.ts';
import { imagesCommand } from './commands/images.ts';
import { importCommand } from './commands/import.ts';
import { infoCommand } from './commands/info.ts';
import { inspectCommand } from './commands/inspect.ts';
import { loadCommand } from './commands/load.ts';
import { loginCommand, logoutCommand } from './commands/login.ts';
import { logsCommand } from './commands/logs.ts';
import { networkCommand } from './commands/network.ts';
import { OPERATOR_COMMAND_NAMES, operatorCommands } from './commands/operator.ts';
import { pruneCommand } from './commands/prune.ts';
import { psCommand } from './commands/ps.ts';
import { pullCommand } from './commands/pull.ts';
import { pushCommand } from './commands/push.ts';
import { rmiCommand } from './commands/rmi.ts';
import { createCommand, runCommand } from './commands/run.ts';
import { saveCommand } from './commands/save.ts';
import { statsCommand } from './commands/stats.ts';
import { tagCommand } from './commands/tag.ts';
import { CLIENT_VERSION, versionCommand } from './commands/version.ts';
import { volumeCommand } from './commands/volume.ts';
import { completionCommand } from './completion.ts';
import { type CommanderError, CommandLineError, commandLineError, EXIT_OPERATOR_MISUSE } from './errors.ts';

function imageCommand(ctx: CliContext): Command {
  return new Command('image')
    .description('Manage images')
    .addCommand(imagesCommand(ctx, 'ls').alias('list'))
    .addCommand(pullCommand(ctx))
    .addCommand(pushCommand(ctx))
    .addCommand(tagCommand(ctx))
    .addCommand(rmiCommand(ctx, 'rm').alias('remove'))
    .addCommand(inspectCommand(ctx, 'inspect', ['image']))
    .addCommand(historyCommand(ctx))
    .addCommand(pruneCommand(ctx))
    .addCommand(loadCommand(ctx))
    .addCommand(saveCommand(ctx))
    .addCommand(importCommand(ctx))
    .addCommand(buildCommand(ctx));
}

/** docker's container verbs, as they appear at the top level and under `container`. */
function containerVerbs(ctx: CliContext): Command[] {
  return [
    runCommand(ctx),
    createCommand(ctx),
    startCommand(ctx),
    stopCommand(ctx),
    restartCommand(ctx),
    killCommand(ctx),
    pauseCommand(ctx),
    unpauseCommand(ctx),
    rmCommand(ctx),
    renameCommand(ctx),
    waitCommand(ctx),
    portCommand(ctx),
    topCommand(ctx),
    logsCommand(ctx),
    execCommand(ctx),
    attachCommand(ctx),
    statsCommand(ctx),
    cpCommand(ctx),
    exportCommand(ctx),
    commitCommand(ctx),
  ];
}

function containerCommand(ctx: CliContext): Command {
  const group = new Command('container')
    .description('Manage containers')
    .enablePositionalOptions()
    .addCommand(psCommand(ctx, 'ls').alias('list').alias('ps'))
    .addCommand(inspectCommand(ctx, 'inspect', ['container']))
    .addCommand(containerPruneCommand(ctx));
  for (const verb of containerVerbs(ctx))
    group.addCommand(verb.name() === 'rm' ? verb.alias('remove') : verb);
  return group;
}

/** Every command below `command`, itself included. */
function* commandsOf(command: Command): Iterable<Command> {
  yield command;
  for (const sub of command.commands) yield* commandsOf(sub);
}

export function tsnetctlProgram(): { program: Command; ctx: CliContext } {
  const program = new Command('tsnetctl');
  const ctx = cliContext(() => program.opts<{ host?: string }>().host);
  program
    .description(
      "The tsnet agent's client (docker-compatible commands) and the operator's view of the cluster",
    )
    .version(`tsnetctl ${CLIENT_VERSION}`, '-v, --version', 'Print version information and quit')
    .usage('[options] COMMAND')
    .option(
      '-H, --host <unix://PATH>',
      `Agent socket to connect to (default $${HOST_ENV}, else unix://${DEFAULT_API_SOCKET})`,
    )
    // run, create and exec pass what follows the image or container to the process: options are positional.
    .enablePositionalOptions()
    .addCommand(psCommand(ctx))
    .addCommand(imagesCommand(ctx))
    .addCommand(pullCommand(ctx))
    .addCommand(pushCommand(ctx))
    .addCommand(tagCommand(ctx))
    .addCommand(rmiCommand(ctx))
    .addCommand(historyCommand(ctx))
    .addCommand(inspectCommand(ctx))
    .addCommand(loadCommand(ctx))
    .addCommand(saveCommand(ctx))
    .addCommand(importCommand(ctx))
    .addCommand(buildCommand(ctx))
    .addCommand(loginCommand(ctx))
    .addCommand(logoutCommand(ctx))
    .addCommand(eventsCommand(ctx))
    .addCommand(versionCommand(ctx))
    .addCommand(infoCommand(ctx))
    .addCommand(imageCommand(ctx))
    .addCommand(containerCommand(ctx))
    .addCommand(volumeCommand(ctx))
    .addCommand(composeCommand(ctx));
  for (const verb of containerVerbs(ctx)) program.addCommand(verb);
  for (const c of operatorCommands()) program.addCommand(c.name() === 'network' ? networkCommand(ctx, c) : c);
  program.addCommand(completionCommand(program, ctx));
  // No command: the help, on stdout, as `docker` alone prints it; a word that is no command: one line.
  program.argument('[command]').action((name: string | undefined) => {
    if (name === undefined) program.help();
    throw new CommandLineError(`unknown command ${JSON.stringify(name)} (try --help)`, EXIT_OPERATOR_MISUSE);
  });

  for (const command of commandsOf(program)) {
    const operator = OPERATOR_COMMAND_NAMES.has(command.name()) && command.parent === program;
    command
      // Help goes to stdout even when commander shows it for a missing subcommand; errors are ours to print.
      .configureOutput({
        writeOut: (s) => ctx.stdout.write(s),
        writeErr: (s) => ctx.stdout.write(s),
        outputError: () => {},
      })
      .exitOverride((err: CommanderError) => {
        if (err.exitCode === 0 || err.code === 'commander.help') throw err; // help, version
        throw commandLineError(command, err, operator);
      })
      .showSuggestionAfterError(false);
  }
  return { program, ctx };
}
