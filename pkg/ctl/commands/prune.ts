// tsnetctl image prune: remove dangling (or with -a, unused) images, after asking unless -f.
import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { humanSize } from '../format/units.ts';
import { type CliContext, collect } from './context.ts';

interface PruneOptions {
  all: boolean;
  force: boolean;
  filter: string[];
}

export async function confirmed(ctx: CliContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: ctx.stdin, output: ctx.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}

export function pruneCommand(ctx: CliContext, name = 'prune'): Command {
  return new Command(name)
    .description('Remove unused images')
    .option('-a, --all', 'Remove all unused images, not just dangling ones', false)
    .option('--filter <filter>', "Provide filter values (e.g. 'until=<timestamp>')", collect, [])
    .option('-f, --force', 'Do not prompt for confirmation', false)
    .action(async (options: PruneOptions) => {
      const warning = options.all
        ? 'WARNING! This will remove all images without at least one container associated to them.'
        : 'WARNING! This will remove all dangling images.';
      if (!options.force && !(await confirmed(ctx, `${warning}\nAre you sure you want to continue?`))) return;
      const pruned = await ctx.images().prune(options.all, options.filter);
      if (pruned.deleted.length) {
        ctx.stdout.write('Deleted Images:\n');
        for (const d of pruned.deleted) ctx.stdout.write(`deleted: ${d}\n`);
        ctx.stdout.write('\n');
      }
      ctx.stdout.write(`Total reclaimed space: ${humanSize(pruned.spaceReclaimed)}\n`);
    });
}
