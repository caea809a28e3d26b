// tsnetctl push: the agent pushes; its per-layer progress is drawn here.
import { Command } from 'commander';
import { showProgress } from '../progress.ts';
import type { CliContext } from './context.ts';
import { checkedReference } from './reference.ts';

export function pushCommand(ctx: CliContext, name = 'push'): Command {
  return new Command(name)
    .description('Upload an image to a registry')
    .argument('<NAME[:TAG]>')
    .option('-q, --quiet', 'Suppress verbose output', false)
    .action(async (reference: string, options: { quiet: boolean }) => {
      checkedReference(reference);
      const progress = ctx.images().push(reference);
      await showProgress(progress, options.quiet ? undefined : ctx.stdout, ctx.stdout.isTTY === true);
      if (options.quiet) ctx.stdout.write(`${reference}\n`);
    });
}
