// tsnetctl build: an image from a Dockerfile and a context (a directory, or - for a tar on stdin), built by
// the agent; its output printed as it comes (Docker's classic builder lines), -q: only the image ID. A failed
// build prints the builder's message (for a RUN: Docker's "The command '...' returned a non-zero code: N").
import { Command } from 'commander';
import { BuildFailedError, type BuildSource, buildImage } from '../build-session.ts';
import { FlagError } from '../errors.ts';
import { type CliContext, collect } from './context.ts';
import { checkedReference } from './reference.ts';

interface BuildFlags {
  tag: string[];
  file?: string;
  buildArg: string[];
  target?: string;
  cache: boolean;
  pull: boolean;
  quiet: boolean;
}

export function buildCommand(ctx: CliContext, name = 'build'): Command {
  return new Command(name)
    .description('Build an image from a Dockerfile')
    .argument('<PATH|->', 'the build context: a directory, or - for a tar on STDIN')
    .option(
      '-t, --tag <name>',
      'Name and optionally a tag in the "name:tag" format (repeatable)',
      collect,
      [],
    )
    .option('-f, --file <string>', 'Name of the Dockerfile (default: "PATH/Dockerfile")')
    .option('--build-arg <K=V>', 'Set build-time variables (repeatable)', collect, [])
    .option('--target <string>', 'Set the target build stage to build')
    .option('--no-cache', 'Do not use cache when building the image')
    .option('--pull', 'Always attempt to pull a newer version of the image', false)
    .option('-q, --quiet', 'Suppress the build output and print image ID on success', false)
    .action(async (context: string, flags: BuildFlags) => {
      for (const tag of flags.tag) checkedReference(tag);
      const source: BuildSource =
        context === '-'
          ? { kind: 'tar', tar: ctx.stdin, ...(flags.file !== undefined && { dockerfile: flags.file }) }
          : { kind: 'directory', dir: context, ...(flags.file !== undefined && { dockerfile: flags.file }) };
      if (context === '-' && ctx.stdin.isTTY)
        throw new FlagError('build -: the context tar must come on STDIN (a pipe or a file), not a terminal');
      try {
        const id = await buildImage(
          ctx.agent(),
          source,
          {
            tags: flags.tag,
            buildArgs: buildArgs(flags.buildArg),
            ...(flags.target !== undefined && { target: flags.target }),
            noCache: !flags.cache,
            pull: flags.pull,
          },
          (line) => {
            if (!flags.quiet) ctx.stdout.write(`${line}\n`);
          },
        );
        if (flags.quiet) ctx.stdout.write(`${id}\n`);
      } catch (err) {
        if (!(err instanceof BuildFailedError)) throw err;
        // Docker's own words, without a prefix; the exit code is 1 whatever the RUN's was, as docker build's.
        ctx.stderr.write(`${err.message}\n`);
        process.exitCode = 1;
      }
    });
}

/** `--build-arg K=V`; a bare `K` takes the value from the environment, and is left out when unset (Docker). */
export function buildArgs(
  list: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of list) {
    const eq = arg.indexOf('=');
    if (eq === 0)
      throw new FlagError(`invalid argument ${JSON.stringify(arg)} for "--build-arg" flag: empty key`);
    if (eq > 0) out[arg.slice(0, eq)] = arg.slice(eq + 1);
    else if (env[arg] !== undefined) out[arg] = env[arg] as string;
  }
  return out;
}
