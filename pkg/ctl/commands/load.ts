// tsnetctl load: a docker-archive or OCI-layout tar from -i FILE or stdin, streamed to the agent.
import { createReadStream } from 'node:fs';
import { Command } from 'commander';
import { showProgress } from '../progress.ts';
import type { CliContext } from './context.ts';

export function loadCommand(ctx: CliContext, name = 'load'): Command {
  return new Command(name)
    .description('Load an image from a tar archive or STDIN')
    .option('-i, --input <string>', 'Read from tar archive file, instead of STDIN')
    .option('-q, --quiet', 'Suppress the load output', false)
    .action(async (options: { input?: string; quiet: boolean }) => {
      if (!options.input && ctx.stdin.isTTY)
        throw new Error('requested load from stdin, but stdin is empty (use -i FILE or a pipe)');
      const archive = options.input ? createReadStream(options.input) : ctx.stdin;
      const progress = ctx.images().load(archive);
      // -q keeps the "Loaded image" lines: only the per-layer progress goes.
      const shown = options.quiet ? withoutLayers(progress) : progress;
      await showProgress(shown, ctx.stdout, !options.quiet && ctx.stdout.isTTY === true);
    });
}

async function* withoutLayers<T extends { id: string }>(messages: AsyncIterable<T>): AsyncIterable<T> {
  for await (const m of messages) if (!m.id) yield m;
}
