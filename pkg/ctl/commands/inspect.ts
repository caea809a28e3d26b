// tsnetctl inspect (and container/image/network/volume inspect): Docker's JSON array of objects, or each
// through --format. The top-level inspect resolves a name as docker does: a container, else an image, a
// network, a volume (--type narrows it).
import * as grpc from '@grpc/grpc-js';
import { Command, Option } from 'commander';
import { ApiCallError } from '../../api/client.ts';
import { describeFailure } from '../errors.ts';
import { templateFormatter } from '../format/template.ts';
import type { CliContext } from './context.ts';

export type InspectKind = 'container' | 'image' | 'network' | 'volume';

const ALL_KINDS: readonly InspectKind[] = ['container', 'image', 'network', 'volume'];

interface InspectOptions {
  format?: string;
  type?: InspectKind;
}

function inspectOne(ctx: CliContext, kind: InspectKind, name: string): Promise<unknown> {
  switch (kind) {
    case 'container':
      return ctx.agent().inspectContainer(name);
    case 'image':
      return ctx.images().inspect(name);
    case 'network':
      return ctx.agent().inspectNetwork(name);
    case 'volume':
      return ctx.agent().inspectVolume(name);
  }
}

/** A refusal that means "no such object of this kind" (an older agent without the service counts too). */
function isMissing(err: unknown): boolean {
  if (err instanceof ApiCallError)
    return err.code === grpc.status.NOT_FOUND || err.code === grpc.status.UNIMPLEMENTED;
  return /not found|no such/i.test(describeFailure(err).line);
}

/** `kinds`: what a name may be, in docker's order; the top-level inspect's --type picks one. */
export function inspectCommand(
  ctx: CliContext,
  name = 'inspect',
  kinds: readonly InspectKind[] = ALL_KINDS,
): Command {
  const command = new Command(name)
    .description('Return low-level information on objects')
    .argument('<NAME|ID...>')
    .option('-f, --format <string>', "Format output using a custom template: 'json', 'TEMPLATE'");
  if (kinds.length > 1)
    command.addOption(new Option('--type <string>', 'Return JSON for specified type').choices(kinds));
  return command.action(async (names: string[], options: InspectOptions) => {
    const formatter = options.format ? templateFormatter<unknown>(options.format) : undefined;
    const candidates = options.type ? [options.type] : kinds;
    const found: unknown[] = [];
    let failed = false;
    for (const n of names) {
      let missing = true;
      for (const kind of candidates) {
        try {
          found.push(await inspectOne(ctx, kind, n));
          missing = false;
          break;
        } catch (err) {
          if (isMissing(err)) continue;
          // Not a missing name: the agent's own words, and no other kind is tried.
          ctx.stderr.write(`${describeFailure(err).line}\n`);
          missing = false;
          failed = true;
          break;
        }
      }
      if (missing) {
        failed = true;
        // Docker's words for a name that is not there, after what was found.
        const what = candidates.length === 1 ? candidates[0] : 'object';
        ctx.stderr.write(`Error: No such ${what}: ${n}\n`);
      }
    }
    ctx.stdout.write(formatter ? formatter.render(found) : `${JSON.stringify(found, null, 4)}\n`);
    if (failed) process.exitCode = 1;
  });
}
