// tsnetctl rmi (image rm): untag and delete images; each failure reported, the others still removed.
import { Command } from 'commander';
import { describeFailure } from '../errors.ts';
import type { CliContext } from './context.ts';

export function rmiCommand(ctx: CliContext, name = 'rmi'): Command {
  return new Command(name)
    .description('Remove one or more images')
    .argument('<IMAGE...>')
    .option('-f, --force', 'Force removal of the image', false)
    .option('--no-prune', 'Do not delete untagged parents')
    .action(async (images: string[], options: { force: boolean; prune: boolean }) => {
      let failed = false;
      for (const image of images) {
        try {
          const removed = await ctx.images().remove(image, options.force, !options.prune);
          for (const u of removed.untagged) ctx.stdout.write(`Untagged: ${u}\n`);
          for (const d of removed.deleted) ctx.stdout.write(`Deleted: ${d}\n`);
        } catch (err) {
          failed = true;
          ctx.stderr.write(`${describeFailure(err).line}\n`);
        }
      }
      if (failed) process.exitCode = 1;
    });
}
