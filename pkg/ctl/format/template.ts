// `--format` as docker takes it: `json` (one JSON object per line), or a Go-template-like text with
// `{{.Field}}`, `{{.A.B}}`, `{{json .X}}`, `{{upper .X}}`, `{{lower .X}}`, `{{join .X ","}}`; a `table `
// prefix adds a header row and aligns columns. `\t` and `\n` in the text are tabs and newlines, as in docker.

import { byCodeUnits } from '../../text/order.ts';
import { formatTable } from './table.ts';

/** A --format that cannot be parsed or does not fit the objects printed. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

type Part = { text: string } | { action: Action; source: string };
interface Action {
  fn?: 'json' | 'upper' | 'lower' | 'join';
  path: string[];
  arg?: string;
}

const FUNCTIONS = new Set(['json', 'upper', 'lower', 'join']);

function parseAction(source: string): Action {
  const words = source.trim().match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
  const [first, second, third] = words;
  const pathOf = (word: string | undefined): string[] => {
    if (word === '.') return [];
    if (!word || !/^(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(word))
      throw new TemplateError(
        `template parsing error: unexpected ${JSON.stringify(word ?? '')} in {{${source}}}`,
      );
    return word.slice(1).split('.');
  };
  if (first && !first.startsWith('.')) {
    if (!FUNCTIONS.has(first))
      throw new TemplateError(`template parsing error: function ${JSON.stringify(first)} not defined`);
    const fn = first as NonNullable<Action['fn']>;
    if (fn === 'join') {
      if (!third || words.length !== 3 || !third.startsWith('"'))
        throw new TemplateError(`template parsing error: join takes a field and a quoted separator`);
      return { fn, path: pathOf(second), arg: JSON.parse(third) as string };
    }
    if (words.length !== 2) throw new TemplateError(`template parsing error: ${fn} takes one argument`);
    return { fn, path: pathOf(second) };
  }
  if (words.length !== 1) throw new TemplateError(`template parsing error: unexpected text in {{${source}}}`);
  return { path: pathOf(first) };
}

function parse(text: string): Part[] {
  const parts: Part[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('{{', at);
    if (open < 0) {
      parts.push({ text: text.slice(at) });
      break;
    }
    if (open > at) parts.push({ text: text.slice(at, open) });
    const close = text.indexOf('}}', open);
    if (close < 0) throw new TemplateError('template parsing error: unclosed action');
    const source = text.slice(open + 2, close);
    parts.push({ action: parseAction(source), source });
    at = close + 2;
  }
  return parts;
}

function lookup(value: unknown, path: string[], source: string): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !(key in current))
      throw new TemplateError(`template: executing at <{{${source.trim()}}}>: can't evaluate field ${key}`);
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Go's default printing: maps as map[k:v], slices as [a b], null as <nil>. */
function goString(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goString).join(' ')}]`;
  if (typeof value === 'object')
    return `map[${Object.entries(value)
      .sort(([a], [b]) => byCodeUnits(a, b))
      .map(([k, v]) => `${k}:${goString(v)}`)
      .join(' ')}]`;
  return String(value);
}

function run(action: Action, source: string, value: unknown): string {
  const v = lookup(value, action.path, source);
  switch (action.fn) {
    case 'json':
      return JSON.stringify(v ?? null);
    case 'upper':
      return goString(v).toUpperCase();
    case 'lower':
      return goString(v).toLowerCase();
    case 'join':
      if (!Array.isArray(v)) throw new TemplateError(`template: join: {{${source.trim()}}} is not a list`);
      return v.map(goString).join(action.arg);
    default:
      return goString(v);
  }
}

export interface Formatter<T> {
  /** Everything to print for `items`, newline-terminated ('' for nothing). */
  render(items: readonly T[]): string;
}

/**
 * A formatter for `--format` (undefined: the caller's default table). `headers` names the column of a field
 * in a `table` format, as docker's (e.g. ID → "IMAGE ID").
 */
export function templateFormatter<T>(format: string, headers: Record<string, string> = {}): Formatter<T> {
  if (format === 'json') return { render: (items) => items.map((i) => `${JSON.stringify(i)}\n`).join('') };
  const table = format.startsWith('table ') || format === 'table';
  const text = (table ? format.slice('table'.length).trimStart() : format)
    .replaceAll('\\t', '\t')
    .replaceAll('\\n', '\n');
  const parts = parse(text);
  const line = (item: T) => parts.map((p) => ('text' in p ? p.text : run(p.action, p.source, item))).join('');
  if (!table) return { render: (items) => items.map((i) => `${line(i)}\n`).join('') };
  const header = parts
    .map((p) =>
      'text' in p ? p.text : (headers[p.action.path.join('.')] ?? p.action.path.join('.').toUpperCase()),
    )
    .join('');
  return {
    render: (items) => {
      const out = formatTable([header, ...items.map(line)].map((l) => l.split('\t')));
      return `${out}\n`;
    },
  };
}
