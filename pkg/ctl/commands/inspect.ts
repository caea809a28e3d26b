// tsnetctl inspect (image inspect): Docker's JSON array of image objects, or each through --format.
import { Command, Option } from 'commander';
import { describeFailure } from '../errors.ts';
import { templateFormatter } from '../format/template.ts';
import type { CliContext } from './context.ts';

interface InspectOptions {
  format?: string;
  type?: string;
}

/** `withType`: the top-level inspect's --type (image inspect has none). */
export function inspectCommand(ctx: CliContext, name = 'inspect', withType = true): Command {
  const command = new Command(name)
    .description('Return low-level information on objects')
    .argument('<NAME|ID...>')
    .option('-f, --format <string>', "Format output using a custom template: 'json', 'TEMPLATE'");
  if (withType)
    command.addOption(new Option('--type <string>', 'Return JSON for specified type').choices(['image']));
  return command.action(async (names: string[], options: InspectOptions) => {
    const formatter = options.format ? templateFormatter<unknown>(options.format) : undefined;
    const found: unknown[] = [];
    let failed = false;
    for (const n of names) {
      try {
        found.push(await ctx.images().inspect(n));
      } catch (err) {
        failed = true;
        // Docker's words for a name that is not there, after what was found.
        const { line } = describeFailure(err);
        ctx.stderr.write(`${/not found|no such/i.test(line) ? `Error: No such object: ${n}` : line}\n`);
      }
    }
    ctx.stdout.write(formatter ? formatter.render(found) : `${JSON.stringify(found, null, 4)}\n`);
    if (failed) process.exitCode = 1;
  });
}
