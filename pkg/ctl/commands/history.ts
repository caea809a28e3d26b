// tsnetctl history: the steps that made an image, newest first, as docker prints them.
import { Command } from 'commander';
import type { HistoryEntry } from '../api.ts';
import { goTime, listFormatter } from '../format/output.ts';
import { createdSince, humanSize, shortId } from '../format/units.ts';
import type { CliContext } from './context.ts';

interface HistoryOptions {
  trunc: boolean;
  quiet: boolean;
  format?: string;
  human: boolean;
}

export interface HistoryRow {
  ID: string;
  CreatedSince: string;
  CreatedAt: string;
  CreatedBy: string;
  Size: string;
  Comment: string;
}

const CREATED_BY_WIDTH = 45;

export function historyRows(
  entries: readonly HistoryEntry[],
  options: HistoryOptions,
  now = Date.now(),
): HistoryRow[] {
  return entries.map((e) => {
    const createdBy = e.createdBy.replaceAll('\t', ' ');
    return {
      ID: e.id === '<missing>' ? e.id : shortId(e.id, !options.trunc),
      CreatedSince: options.human ? createdSince(e.createdUnix, now) : goTime(e.createdUnix),
      CreatedAt: goTime(e.createdUnix),
      CreatedBy:
        options.trunc && createdBy.length > CREATED_BY_WIDTH
          ? `${createdBy.slice(0, CREATED_BY_WIDTH - 1)}…`
          : createdBy,
      Size: options.human ? humanSize(e.size) : String(e.size),
      Comment: e.comment,
    };
  });
}

const HEADERS = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

export function historyCommand(ctx: CliContext, name = 'history'): Command {
  return new Command(name)
    .description('Show the history of an image')
    .argument('<IMAGE>')
    .option(
      '--format <string>',
      "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'",
    )
    .option('--human [bool]', 'Print sizes and dates in human readable format', (v) => v !== 'false', true)
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only show image IDs', false)
    .action(async (image: string, options: HistoryOptions) => {
      const formatter = listFormatter<HistoryRow>(
        options.quiet ? '{{.ID}}' : options.format,
        'table {{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}\\t{{.Comment}}',
        HEADERS,
      );
      ctx.stdout.write(formatter.render(historyRows(await ctx.images().history(image), options)));
    });
}
