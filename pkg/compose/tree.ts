// A compose file as a tree of values that remember where they were written (file, line, column), so that
// every later check — merge, validation — can point at the text the user must fix. Scalars are
// interpolated here, once, as Compose does before it validates.
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { InterpolationError, interpolate, type Lookup } from './interpolate.ts';

export interface Pos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export type Scalar = string | number | boolean | null;

export interface LScalar {
  readonly kind: 'scalar';
  readonly pos: Pos;
  readonly value: Scalar;
}
export interface LSeq {
  readonly kind: 'seq';
  readonly pos: Pos;
  readonly items: readonly LNode[];
}
export interface LMap {
  readonly kind: 'map';
  readonly pos: Pos;
  /** in file order */
  readonly entries: ReadonlyMap<string, LNode>;
  readonly keyPos: ReadonlyMap<string, Pos>;
}
export type LNode = LScalar | LSeq | LMap;

/** A compose file that cannot be used; the message starts with "file:line:col: path: ". */
export class ComposeError extends Error {
  override name = 'ComposeError';
}

export function posText(pos: Pos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

/** The error for the value at `path` written at `pos`. */
export function composeError(pos: Pos, path: string, message: string): ComposeError {
  return new ComposeError(`${posText(pos)}: ${path === '' ? '' : `${path}: `}${message}`);
}

export interface ParseResult {
  readonly root: LNode;
  /** "file:line:col: variable X is not set, defaulting to a blank string" */
  readonly warnings: string[];
}

/** Parses one compose file (`file` names it in errors) and interpolates its scalars from `lookup`. */
export function parseComposeText(text: string, file: string, lookup: Lookup): ParseResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const posAt = (offset: number | undefined): Pos => {
    const lp = lines.linePos(offset ?? 0);
    return { file, line: lp.line, col: lp.col };
  };
  const first = doc.errors[0];
  if (first) {
    throw composeError(posAt(first.pos[0]), '', `invalid YAML: ${first.message.split('\n')[0]}`);
  }
  const warnings: string[] = [];
  const walker = new Walker(doc, posAt, lookup, warnings);
  const root = doc.contents === null ? emptyMap(posAt(0)) : walker.node(doc.contents as Node, posAt(0), '');
  return { root, warnings };
}

export function emptyMap(pos: Pos): LMap {
  return { kind: 'map', pos, entries: new Map(), keyPos: new Map() };
}

class Walker {
  constructor(
    private readonly doc: Document,
    private readonly posAt: (offset: number | undefined) => Pos,
    private readonly lookup: Lookup,
    private readonly warnings: string[],
  ) {}

  node(node: Node | null, fallback: Pos, path: string, depth = 0): LNode {
    if (depth > 64) throw composeError(fallback, path, 'nested too deeply (an alias cycle?)');
    if (node === null || node === undefined) return { kind: 'scalar', pos: fallback, value: null };
    const pos = this.posAt(node.range?.[0]);
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target) throw composeError(pos, path, `unknown alias *${node.source}`);
      return this.node(target as Node, pos, path, depth + 1);
    }
    if (isScalar(node)) return { kind: 'scalar', pos, value: this.scalar(node.value, pos, path) };
    if (isSeq(node)) {
      return {
        kind: 'seq',
        pos,
        items: node.items.map((item, i) => this.node(item as Node | null, pos, `${path}[${i}]`, depth + 1)),
      };
    }
    if (isMap(node)) {
      const entries = new Map<string, LNode>();
      const keyPos = new Map<string, Pos>();
      const merged: LMap[] = [];
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        const kpos = key ? this.posAt(key.range?.[0]) : pos;
        if (!isScalar(key) || key.value === null || typeof key.value === 'object') {
          throw composeError(kpos, path, 'a mapping key must be a plain value');
        }
        const name = String(key.value);
        const childPath = path === '' ? name : `${path}.${name}`;
        const value = this.node(pair.value as Node | null, kpos, childPath, depth + 1);
        if (name === '<<') {
          // YAML merge keys (`<<: *defaults`), which compose files use for shared service settings
          const sources = value.kind === 'seq' ? value.items : [value];
          for (const s of sources) {
            if (s.kind !== 'map')
              throw composeError(s.pos, childPath, 'a merge key takes a mapping or a list of them');
            merged.push(s);
          }
          continue;
        }
        entries.set(name, value);
        keyPos.set(name, kpos);
      }
      for (const m of merged) {
        for (const [k, v] of m.entries) {
          if (!entries.has(k)) {
            entries.set(k, v);
            keyPos.set(k, m.keyPos.get(k) ?? m.pos);
          }
        }
      }
      return { kind: 'map', pos, entries, keyPos };
    }
    throw composeError(pos, path, 'unsupported YAML node');
  }

  private scalar(value: unknown, pos: Pos, path: string): Scalar {
    if (value === null || typeof value === 'boolean' || typeof value === 'number') return value;
    if (typeof value === 'bigint') return Number(value);
    if (typeof value !== 'string') return String(value);
    try {
      const r = interpolate(value, this.lookup);
      for (const name of r.unset) {
        this.warnings.push(
          `${posText(pos)}: the ${JSON.stringify(name)} variable is not set, defaulting to a blank string`,
        );
      }
      return r.value;
    } catch (err) {
      if (err instanceof InterpolationError) throw composeError(pos, path, err.message);
      throw err;
    }
  }
}
