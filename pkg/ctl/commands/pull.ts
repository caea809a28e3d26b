// tsnetctl pull: the agent pulls; its per-layer progress is drawn here.
import { Command } from 'commander';
import { showProgress } from '../progress.ts';
import type { CliContext } from './context.ts';
import { checkedReference, pulledName } from './reference.ts';

interface PullOptions {
  allTags: boolean;
  platform?: string;
  quiet: boolean;
}

export function pullCommand(ctx: CliContext, name = 'pull'): Command {
  return new Command(name)
    .description('Download an image from a registry')
    .argument('<NAME[:TAG|@DIGEST]>')
    .option('-a, --all-tags', 'Download all tagged images in the repository', false)
    .option('--platform <string>', 'Set platform if server is multi-platform capable (os/arch[/variant])')
    .option('-q, --quiet', 'Suppress verbose output', false)
    .action(async (reference: string, options: PullOptions) => {
      const ref = checkedReference(reference);
      // Docker's IsNameOnly: a tag or digest in what was typed (not the default :latest) conflicts with -a.
      const typedTag = reference.slice(reference.lastIndexOf('/') + 1).includes(':');
      if (options.allTags && (ref.digest || typedTag))
        throw new Error("tag can't be used with --all-tags/-a");
      const progress = ctx.images().pull(reference, options.platform ?? '', options.allTags);
      await showProgress(progress, options.quiet ? undefined : ctx.stdout, ctx.stdout.isTTY === true);
      ctx.stdout.write(`${pulledName(reference, options.allTags)}\n`);
    });
}
