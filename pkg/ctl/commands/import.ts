// tsnetctl import: a root filesystem tar (a file, or - for stdin) becomes an image.
import { createReadStream } from 'node:fs';
import { Command } from 'commander';
import { type CliContext, collect } from './context.ts';
import { checkedReference } from './reference.ts';

interface ImportOptions {
  change: string[];
  message: string;
  platform?: string;
}

export function importCommand(ctx: CliContext, name = 'import'): Command {
  return new Command(name)
    .description('Import the contents from a tarball to create a filesystem image')
    .argument('<file|->', 'a root filesystem tar, or - for STDIN')
    .argument('[REPOSITORY[:TAG]]')
    .option('-c, --change <value>', 'Apply Dockerfile instruction to the created image', collect, [])
    .option('-m, --message <string>', 'Set commit message for imported image', '')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .action(async (file: string, reference: string | undefined, options: ImportOptions) => {
      if (/^https?:\/\//.test(file)) throw new Error(`import from a URL is not supported: ${file}`);
      if (reference) checkedReference(reference);
      const tar = file === '-' ? ctx.stdin : createReadStream(file);
      const id = await ctx.images().import(tar, {
        reference: reference ?? '',
        changes: options.change,
        message: options.message,
        platform: options.platform ?? '',
      });
      ctx.stdout.write(`${id}\n`);
    });
}
