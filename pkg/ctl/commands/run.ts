// tsnetctl run and create: docker's flags into Docker's create body, the image pulled when missing (its
// progress on stderr, as docker shows it), then for a foreground run Create → Attach → Start → the exit frame,
// whose code is tsnetctl's. A daemon's refusal ends these with 125, as docker's do.
import { Command } from 'commander';
import { ApiCallError } from '../../api/client.ts';
import { terminalSize } from '../attach-session.ts';
import { daemonFailureIs125 } from '../errors.ts';
import { showProgress } from '../progress.ts';
import {
  addCreateFlags,
  type CreateFlagValues,
  type CreateInvocation,
  createInvocation,
} from '../run-flags.ts';
import type { CliContext } from './context.ts';
import { attachContainer, startOrRemove } from './exec.ts';
import { pulledName } from './reference.ts';

/** `docker.io/library/busybox:latest` → `busybox:latest`, as docker names an image it cannot find. */
function familiarName(image: string): string {
  return pulledName(image, false).replace(/^docker\.io\/(library\/)?/, '');
}

async function pullImage(ctx: CliContext, image: string): Promise<void> {
  await showProgress(ctx.images().pull(image, '', false), ctx.stderr, ctx.stderr.isTTY === true);
}

/**
 * Create, as docker run does it: `--pull always` pulls first; otherwise the create is tried at once and
 * only an image the agent reports missing is pulled (`--pull missing`, its progress shown) before the create
 * is made again. The common case, an image that is there, costs one call.
 */
async function createContainer(ctx: CliContext, inv: CreateInvocation): Promise<string> {
  const image = inv.spec.Image;
  if (inv.pull === 'always') await pullImage(ctx, image);
  // docker sends the terminal's size with the spec: the process's terminal has it from its first byte
  const size = inv.tty ? terminalSize(ctx) : undefined;
  const spec = size
    ? { ...inv.spec, HostConfig: { ...inv.spec.HostConfig, ConsoleSize: [size.rows ?? 0, size.cols ?? 0] } }
    : inv.spec;
  const create = () =>
    ctx.agent().createContainer({ specJson: JSON.stringify(spec), name: inv.name, pullMissing: false });
  const created = await create().catch(async (err: unknown) => {
    if (inv.pull !== 'missing' || !(err instanceof ApiCallError && err.missingImage !== undefined)) throw err;
    ctx.stderr.write(`Unable to find image '${familiarName(image)}' locally\n`);
    await pullImage(ctx, image);
    return create();
  });
  for (const w of created.warnings) ctx.stderr.write(`WARNING: ${w}\n`);
  return created.id;
}

/** The foreground run: attached before it starts, so its first byte is seen; its exit code is ours. */
async function runAttached(ctx: CliContext, inv: CreateInvocation, id: string): Promise<number> {
  const exitCode = await attachContainer(ctx, id, {
    stdin: inv.interactive,
    sigProxy: true,
    start: true,
    removeIfStartFails: true,
    // A new container's log is empty: whatever it wrote before the attach took hold comes first.
    logs: true,
    created: { id, tty: inv.tty, openStdin: inv.interactive },
  });
  // --rm: gone by the time tsnetctl returns, as docker waits for it.
  if (inv.spec.HostConfig?.AutoRemove)
    await ctx
      .agent()
      .waitContainer(id, 'removed')
      .catch(() => {});
  return exitCode ?? 0;
}

function createLikeCommand(ctx: CliContext, name: string, run: boolean): Command {
  const command = new Command(name)
    .description(run ? 'Create and run a new container from an image' : 'Create a new container')
    .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
    .argument('<IMAGE>')
    .argument('[COMMAND...]');
  return addCreateFlags(command, run).action(
    async (image: string, args: string[], values: CreateFlagValues) => {
      const inv = createInvocation(image, args, values);
      const exitCode = await daemonFailureIs125(async () => {
        const id = await createContainer(ctx, inv);
        if (!run) {
          ctx.stdout.write(`${id}\n`);
          return 0;
        }
        if (!inv.detach) return runAttached(ctx, inv, id);
        for (const w of (await startOrRemove(ctx, id)).warnings) ctx.stderr.write(`WARNING: ${w}\n`);
        ctx.stdout.write(`${id}\n`);
        return 0;
      });
      process.exitCode = exitCode;
    },
  );
}

export const runCommand = (ctx: CliContext, name = 'run') => createLikeCommand(ctx, name, true);
export const createCommand = (ctx: CliContext, name = 'create') => createLikeCommand(ctx, name, false);
