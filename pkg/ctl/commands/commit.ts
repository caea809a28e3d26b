// tsnetctl commit: a container's changes as a new image (optionally named REPO[:TAG]); prints its ID.
import { Command } from 'commander';
import { FlagError } from '../errors.ts';
import { type CliContext, collect } from './context.ts';
import { checkedReference } from './reference.ts';

interface CommitFlags {
  author: string;
  change: string[];
  message: string;
  pause: boolean;
}

/** docker's `--pause=false` / `-p=false`: a boolean flag that takes an optional value. */
function booleanValue(value: string): boolean {
  if (/^(true|1|t)$/i.test(value)) return true;
  if (/^(false|0|f)$/i.test(value)) return false;
  throw new FlagError(
    `invalid argument ${JSON.stringify(value)} for "-p, --pause" flag: expected true or false`,
  );
}

export function commitCommand(ctx: CliContext, name = 'commit'): Command {
  return new Command(name)
    .description("Create a new image from a container's changes")
    .argument('<CONTAINER>')
    .argument('[REPOSITORY[:TAG]]')
    .option('-a, --author <string>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")', '')
    .option('-c, --change <value>', 'Apply Dockerfile instruction to the created image', collect, [])
    .option('-m, --message <string>', 'Commit message', '')
    .option('-p, --pause [bool]', 'Pause container during commit', booleanValue, true)
    .action(async (container: string, reference: string | undefined, flags: CommitFlags) => {
      if (reference) checkedReference(reference);
      const { id } = await ctx.agent().commit({
        container,
        reference: reference ?? '',
        comment: flags.message,
        author: flags.author,
        changes: flags.change,
        noPause: !flags.pause,
      });
      ctx.stdout.write(`${id}\n`);
    });
}
