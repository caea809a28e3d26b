// tsnetctl tag: a new name for an image.
import { Command } from 'commander';
import type { CliContext } from './context.ts';
import { checkedReference } from './reference.ts';

export function tagCommand(ctx: CliContext, name = 'tag'): Command {
  return new Command(name)
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<SOURCE_IMAGE[:TAG]>')
    .argument('<TARGET_IMAGE[:TAG]>')
    .action(async (source: string, target: string) => {
      checkedReference(target);
      await ctx.images().tag(source, target);
    });
}
