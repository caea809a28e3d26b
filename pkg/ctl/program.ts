// tsnetctl's command tree: docker's image verbs (and their `image` aliases) over the agent's API, plus the
// operator's commands. Commander parses, helps and completes; errors end in describeFailure's words.
import { Command } from 'commander';
import { HOST_ENV } from '../api/client.ts';
import { DEFAULT_API_SOCKET } from '../api/server.ts';
import { composeCommand } from './commands/compose.ts';
import { type CliContext, cliContext } from './commands/context.ts';
import { eventsCommand } from './commands/events.ts';
import { historyCommand } from './commands/history.ts';
import { imagesCommand } from './commands/images.ts';
import { importCommand } from './commands/import.ts';
import { infoCommand } from './commands/info.ts';
import { inspectCommand } from './commands/inspect.ts';
import { loadCommand } from './commands/load.ts';
import { loginCommand, logoutCommand } from './commands/login.ts';
import { OPERATOR_COMMAND_NAMES, operatorCommands } from './commands/operator.ts';
import { pruneCommand } from './commands/prune.ts';
import { pullCommand } from './commands/pull.ts';
import { pushCommand } from './commands/push.ts';
import { rmiCommand } from './commands/rmi.ts';
import { saveCommand } from './commands/save.ts';
import { tagCommand } from './commands/tag.ts';
import { CLIENT_VERSION, versionCommand } from './commands/version.ts';
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
    .addCommand(inspectCommand(ctx, 'inspect', false))
    .addCommand(historyCommand(ctx))
    .addCommand(pruneCommand(ctx))
    .addCommand(loadCommand(ctx))
    .addCommand(saveCommand(ctx))
    .addCommand(importCommand(ctx));
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
      "The tsnet agent's client (docker-compatible image commands) and the operator's view of the cluster",
    )
    .version(`tsnetctl ${CLIENT_VERSION}`, '-v, --version', 'Print version information and quit')
    .usage('[options] COMMAND')
    .option(
      '-H, --host <unix://PATH>',
      `Agent socket to connect to (default $${HOST_ENV}, else unix://${DEFAULT_API_SOCKET})`,
    )
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
    .addCommand(loginCommand(ctx))
    .addCommand(logoutCommand(ctx))
    .addCommand(eventsCommand(ctx))
    .addCommand(versionCommand(ctx))
    .addCommand(infoCommand(ctx))
    .addCommand(imageCommand(ctx))
    .addCommand(composeCommand(ctx));
  for (const c of operatorCommands()) program.addCommand(c);
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
