// `-o table|wide|json|yaml` for the operator's commands: one data value, printed as a table (wide adds
// columns) or serialised whole. `--json` stays an alias of `-o json`.
import { stringify } from 'yaml';
import { type Flags, UsageError } from '../../cli/command-line.ts';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function outputFormat(flags: Flags): OutputFormat {
  const o = flags['output'];
  if (o === undefined || o === true) return flags['json'] ? 'json' : 'table';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(String(o)))
    throw new UsageError(`-o ${String(o)}: unknown output format (use one of ${OUTPUT_FORMATS.join(', ')})`);
  if (flags['json'] && o !== 'json') throw new UsageError(`--json and -o ${String(o)} contradict each other`);
  return o as OutputFormat;
}

/** Columns separated by two spaces, every column but the last padded (kubectl's look). */
export function textTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** What a command prints: `data` for json/yaml, its text for table (and wide, when it has more columns). */
export interface Printable {
  readonly data: unknown;
  readonly text: (wide: boolean) => string;
}

export function render(format: OutputFormat, p: Printable): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(p.data, null, 2)}\n`;
    case 'yaml':
      return stringify(p.data);
    default:
      return `${p.text(format === 'wide')}\n`;
  }
}
