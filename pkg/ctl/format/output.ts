// Printing a list as docker does: its default table, `-q` ids, or the user's `--format`.
import { type Formatter, templateFormatter } from './template.ts';

/** Go's time.Time String() as docker prints CreatedAt: "2024-05-01 10:00:00 +0000 UTC". */
export function goTime(unixSeconds: number): string {
  if (!(unixSeconds > 0)) return '';
  return `${new Date(unixSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

/** The formatter for `--format` when given, else the command's default table format. */
export function listFormatter<T>(
  format: string | undefined,
  defaultTable: string,
  headers: Record<string, string>,
): Formatter<T> {
  return templateFormatter<T>(format || defaultTable, headers);
}
