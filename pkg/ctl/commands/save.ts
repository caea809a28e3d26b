// tsnetctl save: the agent's docker-archive tar of images, to -o FILE (whole or not at all) or a pipe.
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { fsyncDirectorySync, tempPathFor } from '../../fsutil/atomic.ts';
import type { CliContext } from './context.ts';

/** Writes `data` to `path` through fsutil's temp name beside it: a failed save leaves no partial archive. */
export async function saveToFile(data: AsyncIterable<Buffer>, path: string): Promise<void> {
  const temp = tempPathFor(path);
  try {
    await pipeline(Readable.from(data), createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
    const handle = await open(temp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    fsyncDirectorySync(dirname(path));
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

export function saveCommand(ctx: CliContext, name = 'save'): Command {
  return new Command(name)
    .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .argument('<IMAGE...>')
    .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
    .action(async (images: string[], options: { output?: string }) => {
      if (!options.output && ctx.stdout.isTTY)
        throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      const data = ctx.images().save(images);
      if (options.output) await saveToFile(data, options.output);
      else await pipeline(Readable.from(data), ctx.stdout, { end: false });
    });
}
