// tsnetctl volume create|ls|inspect|rm|prune, with docker's flags and output.
import { Command } from 'commander';
import type { VolumeSummary__Output } from '../../api/generated/tsnet/v1/VolumeSummary.ts';
import { FlagError } from '../errors.ts';
import { goTime, listFormatter } from '../format/output.ts';
import { humanSize } from '../format/units.ts';
import { type CliContext, collect, eachNamed, keyValueMap } from './context.ts';
import { inspectCommand } from './inspect.ts';
import { confirmed } from './prune.ts';

export interface VolumeRow {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Scope: string;
  CreatedAt: string;
  Labels: string;
  Links: string;
}

function volumeRows(volumes: readonly VolumeSummary__Output[]): VolumeRow[] {
  return volumes.map((v) => ({
    Name: v.name,
    Driver: v.driver,
    Mountpoint: v.mountpoint,
    Scope: v.scope || 'local',
    CreatedAt: goTime(v.createdUnix),
    Labels: Object.entries(v.labels)
      .map(([k, val]) => `${k}=${val}`)
      .join(','),
    Links: String(v.refCount),
  }));
}

export function volumeCommand(ctx: CliContext): Command {
  return new Command('volume')
    .description('Manage volumes')
    .addCommand(
      new Command('create')
        .description('Create a volume')
        .argument('[VOLUME]')
        .option('-d, --driver <string>', 'Specify volume driver name', 'local')
        .option('-o, --opt <map>', 'Set driver specific options', collect, [])
        .option('--label <list>', 'Set metadata for a volume', collect, [])
        .option('--name <string>', 'Specify volume name')
        .action(
          async (
            arg: string | undefined,
            o: { driver: string; opt: string[]; label: string[]; name?: string },
          ) => {
            if (arg !== undefined && o.name !== undefined && arg !== o.name)
              throw new FlagError(
                `conflicting options: either specify --name or provide positional arg, not both`,
              );
            const created = await ctx.agent().createVolume({
              name: arg ?? o.name ?? '',
              driver: o.driver,
              options: keyValueMap(o.opt, '-o, --opt'),
              labels: keyValueMap(o.label, '--label'),
            });
            ctx.stdout.write(`${created.name}\n`);
          },
        ),
    )
    .addCommand(
      new Command('ls')
        .alias('list')
        .description('List volumes')
        .option('-f, --filter <filter>', "Provide filter values (e.g. 'dangling=true')", collect, [])
        .option(
          '--format <string>',
          "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'",
        )
        .option('-q, --quiet', 'Only display volume names', false)
        .action(async (o: { filter: string[]; format?: string; quiet: boolean }) => {
          const { volumes } = await ctx.agent().volumes(o.filter);
          const formatter = listFormatter<VolumeRow>(
            o.quiet ? '{{.Name}}' : o.format,
            'table {{.Driver}}\\t{{.Name}}',
            { Name: 'VOLUME NAME', Driver: 'DRIVER', Mountpoint: 'MOUNTPOINT', CreatedAt: 'CREATED AT' },
          );
          ctx.stdout.write(formatter.render(volumeRows(volumes)));
        }),
    )
    .addCommand(inspectCommand(ctx, 'inspect', ['volume']))
    .addCommand(
      new Command('rm')
        .alias('remove')
        .description('Remove one or more volumes')
        .argument('<VOLUME...>')
        .option('-f, --force', 'Force the removal of one or more volumes', false)
        .action((names: string[], o: { force: boolean }) =>
          eachNamed(ctx, names, (n) => ctx.agent().removeVolume(n, o.force)),
        ),
    )
    .addCommand(
      new Command('prune')
        .description('Remove unused local volumes')
        .option('-a, --all', 'Remove all unused volumes, not just anonymous ones', false)
        .option('--filter <filter>', "Provide filter values (e.g. 'label=<label>')", collect, [])
        .option('-f, --force', 'Do not prompt for confirmation', false)
        .action(async (o: { all: boolean; filter: string[]; force: boolean }) => {
          const warning = o.all
            ? 'WARNING! This will remove all local volumes not used by at least one container.'
            : 'WARNING! This will remove anonymous local volumes not used by at least one container.';
          if (!o.force && !(await confirmed(ctx, `${warning}\nAre you sure you want to continue?`))) return;
          const pruned = await ctx.agent().pruneVolumes({ all: o.all, filters: o.filter });
          if (pruned.deleted.length) ctx.stdout.write(`Deleted Volumes:\n${pruned.deleted.join('\n')}\n\n`);
          ctx.stdout.write(`Total reclaimed space: ${humanSize(pruned.spaceReclaimed)}\n`);
        }),
    );
}
