// tsnetctl's container lifecycle verbs as docker has them: start (-a -i), stop, kill, pause, unpause,
// restart, rm, rename, wait, port, top, export, container prune. A verb over several containers prints each
// name done and each failure on its own line, and ends 1 if any failed.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { callError } from '../../api/client.ts';
import type { ArchiveChunk__Output } from '../../api/generated/tsnet/v1/ArchiveChunk.ts';
import type { PortBinding__Output } from '../../api/generated/tsnet/v1/PortBinding.ts';
import { FlagError } from '../errors.ts';
import { formatTable } from '../format/table.ts';
import { humanSize } from '../format/units.ts';
import { type CliContext, collect, eachNamed } from './context.ts';
import { attachContainer } from './exec.ts';
import { confirmed } from './prune.ts';
import { saveToFile } from './save.ts';

/** A `-t` seconds value; undefined: the container's own. */
function secondsOf(value: string | undefined): number {
  if (value === undefined) return -1;
  if (!/^-?\d+$/.test(value))
    throw new FlagError(`invalid argument ${JSON.stringify(value)} for "-t, --time" flag: invalid syntax`);
  return Number(value);
}

export function startCommand(ctx: CliContext, name = 'start'): Command {
  return new Command(name)
    .description('Start one or more stopped containers')
    .argument('<CONTAINER...>')
    .option('-a, --attach', 'Attach STDOUT/STDERR and forward signals')
    .option('-i, --interactive', "Attach container's STDIN")
    .action(async (containers: string[], o: { attach?: boolean; interactive?: boolean }) => {
      if (o.attach || o.interactive) {
        if (containers.length > 1)
          throw new FlagError('you cannot start and attach multiple containers at once');
        const exitCode = await attachContainer(ctx, containers[0] ?? '', {
          stdin: o.interactive === true,
          sigProxy: true,
          start: true,
        });
        if (exitCode !== undefined) process.exitCode = exitCode;
        return;
      }
      await eachNamed(ctx, containers, (c) => ctx.agent().startContainer(c));
    });
}

export function stopCommand(ctx: CliContext, name = 'stop'): Command {
  return new Command(name)
    .description('Stop one or more running containers')
    .argument('<CONTAINER...>')
    .option('-t, --time <int>', 'Seconds to wait before killing the container')
    .action(async (containers: string[], o: { time?: string }) => {
      const seconds = secondsOf(o.time);
      await eachNamed(ctx, containers, (c) => ctx.agent().stopContainer(c, seconds));
    });
}

export function restartCommand(ctx: CliContext, name = 'restart'): Command {
  return new Command(name)
    .description('Restart one or more containers')
    .argument('<CONTAINER...>')
    .option('-t, --time <int>', 'Seconds to wait before killing the container')
    .action(async (containers: string[], o: { time?: string }) => {
      const seconds = secondsOf(o.time);
      await eachNamed(ctx, containers, (c) => ctx.agent().restartContainer(c, seconds));
    });
}

export function killCommand(ctx: CliContext, name = 'kill'): Command {
  return new Command(name)
    .description('Kill one or more running containers')
    .argument('<CONTAINER...>')
    .option('-s, --signal <string>', 'Signal to send to the container', 'KILL')
    .action(async (containers: string[], o: { signal: string }) => {
      await eachNamed(ctx, containers, (c) => ctx.agent().killContainer({ container: c, signal: o.signal }));
    });
}

export function pauseCommand(ctx: CliContext, name = 'pause'): Command {
  return new Command(name)
    .description('Pause all processes within one or more containers')
    .argument('<CONTAINER...>')
    .action((containers: string[]) => eachNamed(ctx, containers, (c) => ctx.agent().pauseContainer(c)));
}

export function unpauseCommand(ctx: CliContext, name = 'unpause'): Command {
  return new Command(name)
    .description('Unpause all processes within one or more containers')
    .argument('<CONTAINER...>')
    .action((containers: string[]) => eachNamed(ctx, containers, (c) => ctx.agent().unpauseContainer(c)));
}

export function rmCommand(ctx: CliContext, name = 'rm'): Command {
  return new Command(name)
    .description('Remove one or more containers')
    .argument('<CONTAINER...>')
    .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)', false)
    .option('-v, --volumes', 'Remove anonymous volumes associated with the container', false)
    .action(async (containers: string[], o: { force: boolean; volumes: boolean }) => {
      await eachNamed(ctx, containers, (c) =>
        ctx.agent().removeContainer({ container: c, force: o.force, volumes: o.volumes }),
      );
    });
}

export function renameCommand(ctx: CliContext, name = 'rename'): Command {
  return new Command(name)
    .description('Rename a container')
    .argument('<CONTAINER>')
    .argument('<NEW_NAME>')
    .action((container: string, newName: string) => ctx.agent().renameContainer(container, newName));
}

export function waitCommand(ctx: CliContext, name = 'wait'): Command {
  return new Command(name)
    .description('Block until one or more containers stop, then print their exit codes')
    .argument('<CONTAINER...>')
    .action(async (containers: string[]) => {
      await eachNamed(
        ctx,
        containers,
        async (c) => ctx.stdout.write(`${(await ctx.agent().waitContainer(c)).exitCode}\n`),
        false,
      );
    });
}

/** `0.0.0.0:8080`, `[::]:8080` */
function hostAddress(p: PortBinding__Output): string {
  const ip = p.hostIp || '0.0.0.0';
  return ip.includes(':') ? `[${ip}]:${p.hostPort}` : `${ip}:${p.hostPort}`;
}

export function portCommand(ctx: CliContext, name = 'port'): Command {
  return new Command(name)
    .description('List port mappings or a specific mapping for the container')
    .argument('<CONTAINER>')
    .argument('[PRIVATE_PORT[/PROTO]]')
    .action(async (container: string, privatePort: string | undefined) => {
      const { ports } = await ctx.agent().port(container);
      const published = ports.filter((p) => p.hostPort > 0);
      if (privatePort !== undefined) {
        const [port = '', proto = 'tcp'] = privatePort.split('/');
        const matching = published.filter((p) => String(p.containerPort) === port && p.protocol === proto);
        if (!matching.length) throw new Error(`No public port '${port}/${proto}' published for ${container}`);
        for (const p of matching) ctx.stdout.write(`${hostAddress(p)}\n`);
        return;
      }
      for (const p of published) ctx.stdout.write(`${p.containerPort}/${p.protocol} -> ${hostAddress(p)}\n`);
    });
}

export function topCommand(ctx: CliContext, name = 'top'): Command {
  return new Command(name)
    .description('Display the running processes of a container')
    .argument('<CONTAINER>')
    .argument('[ps OPTIONS...]')
    .passThroughOptions()
    .allowUnknownOption()
    .action(async (container: string, psArgs: string[]) => {
      const top = await ctx.agent().top(container, psArgs);
      ctx.stdout.write(`${formatTable([top.titles, ...top.processes.map((r) => r.fields)])}\n`);
    });
}

/** An archive stream to a file (whole or not at all, as save writes one) or to stdout. */
export async function writeArchive(
  ctx: CliContext,
  host: string,
  open: () => AsyncIterable<ArchiveChunk__Output>,
  output: string | undefined,
): Promise<void> {
  // The call is made when the data is first read: its failure cannot come before anyone listens.
  const data = (async function* () {
    try {
      for await (const chunk of open()) yield chunk.data;
    } catch (err) {
      throw callError(host, err);
    }
  })();
  if (output) return saveToFile(data, output);
  if (ctx.stdout.isTTY)
    throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
  await pipeline(Readable.from(data), ctx.stdout, { end: false });
}

export function exportCommand(ctx: CliContext, name = 'export'): Command {
  return new Command(name)
    .description("Export a container's filesystem as a tar archive")
    .argument('<CONTAINER>')
    .option('-o, --output <string>', 'Write to a file, instead of STDOUT')
    .action(async (container: string, o: { output?: string }) => {
      const agent = ctx.agent();
      if (!o.output && ctx.stdout.isTTY)
        throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
      await writeArchive(ctx, agent.host, () => agent.export(container), o.output);
    });
}

export function containerPruneCommand(ctx: CliContext, name = 'prune'): Command {
  return new Command(name)
    .description('Remove all stopped containers')
    .option('--filter <filter>', "Provide filter values (e.g. 'until=<timestamp>')", collect, [])
    .option('-f, --force', 'Do not prompt for confirmation', false)
    .action(async (o: { filter: string[]; force: boolean }) => {
      const warning = 'WARNING! This will remove all stopped containers.';
      if (!o.force && !(await confirmed(ctx, `${warning}\nAre you sure you want to continue?`))) return;
      const pruned = await ctx.agent().pruneContainers(o.filter);
      if (pruned.deleted.length) ctx.stdout.write(`Deleted Containers:\n${pruned.deleted.join('\n')}\n\n`);
      ctx.stdout.write(`Total reclaimed space: ${humanSize(pruned.spaceReclaimed)}\n`);
    });
}
