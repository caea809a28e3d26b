// tsnetctl build: an image from a Dockerfile and a context (a directory, or - for stdin: a tar, plain or
// compressed, or else a Dockerfile with an empty context, as docker tells them apart; -f - reads the
// Dockerfile from stdin), built by the agent; its output printed as it comes (Docker's classic builder
// lines), -q: only the image ID. A failed build prints the builder's message (for a RUN: Docker's "The
// command '...' returned a non-zero code: N").
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { Command } from 'commander';
import { compressionOf } from '../../archive/compression.ts';
import { isTarHeader } from '../../build/context.ts';
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
    .argument('<PATH|->', 'the build context: a directory, or - for a tar (or a Dockerfile) on STDIN')
    .option(
      '-t, --tag <name>',
      'Name and optionally a tag in the "name:tag" format (repeatable)',
      collect,
      [],
    )
    .option('-f, --file <string>', 'Name of the Dockerfile (default: "PATH/Dockerfile"; - for STDIN)')
    .option('--build-arg <K=V>', 'Set build-time variables (repeatable)', collect, [])
    .option('--target <string>', 'Set the target build stage to build')
    .option('--no-cache', 'Do not use cache when building the image')
    .option('--pull', 'Always attempt to pull a newer version of the image', false)
    .option('-q, --quiet', 'Suppress the build output and print image ID on success', false)
    .action(async (context: string, flags: BuildFlags) => {
      for (const tag of flags.tag) checkedReference(tag);
      const source = await buildSource(ctx.stdin, context, flags.file);
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

/** What `build [-f FILE] CONTEXT` builds from; stdin is read only when CONTEXT or FILE is `-`. */
export async function buildSource(
  stdin: Readable & { readonly isTTY?: boolean },
  context: string,
  file: string | undefined,
): Promise<BuildSource> {
  if (context !== '-' && file !== '-')
    return { kind: 'directory', dir: context, ...(file !== undefined && { dockerfile: file }) };
  if (context === '-' && file === '-')
    throw new FlagError("invalid argument: can't use stdin for both build context and dockerfile");
  if (stdin.isTTY)
    throw new FlagError(
      `build: ${file === '-' ? 'the Dockerfile' : 'the context'} must come on STDIN (a pipe or a file), not a terminal`,
    );
  if (file === '-') return { kind: 'directory', dir: context, dockerfileText: nonEmpty(await text(stdin)) };
  const { head, rest } = await peek(stdin, TAR_BLOCK);
  if (compressionOf(head) !== 'none' || isTarHeader(head))
    return { kind: 'tar', tar: rest, ...(file !== undefined && { dockerfile: file }) };
  // Not an archive: the Dockerfile itself, with nothing else in the context (docker build - < Dockerfile).
  return { kind: 'tar', tar: Readable.from([EMPTY_TAR]), dockerfileText: nonEmpty(await text(rest)) };
}

const TAR_BLOCK = 512;
/** A tar with no entries: its two zero blocks. */
const EMPTY_TAR = Buffer.alloc(2 * TAR_BLOCK);

function nonEmpty(dockerfile: string): string {
  if (dockerfile.trim() === '') throw new FlagError('build: the Dockerfile on STDIN is empty');
  return dockerfile;
}

/** The first `size` bytes of `input` (fewer at its end), and a stream of all of it, those bytes included. */
async function peek(input: Readable, size: number): Promise<{ head: Buffer; rest: Readable }> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const seen: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < size) {
    const next = await chunks.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    seen.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(seen);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (let next = await chunks.next(); !next.done; next = await chunks.next())
      yield Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
  }
  return { head: head.subarray(0, size), rest: Readable.from(all()) };
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
