// The `.env` / `env_file` format Compose reads: `KEY=VALUE` lines, `#` comments, an optional `export `,
// single-quoted values literal, double-quoted ones with \n \t \" \\ escapes and `${VAR}` substitution,
// unquoted ones trimmed, with `${VAR}` substitution and an inline ` #comment` dropped. `KEY` alone takes
// the value from `lookup` (absent: left out).
import { interpolate, type Lookup } from './interpolate.ts';

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Parses `text`; errors name `file:line`. Earlier keys of the file are visible to later substitutions (after the environment). */
export function parseEnvFile(text: string, file: string, lookup: Lookup): Map<string, string> {
  const vars = new Map<string, string>();
  // the environment wins over the file's own earlier keys, as in compose-go's dotenv
  const seen: Lookup = (name) => lookup(name) ?? vars.get(name);
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const body = line.startsWith('export ') ? line.slice(7).trimStart() : line;
    const eq = body.indexOf('=');
    const key = (eq < 0 ? body : body.slice(0, eq)).trim();
    if (!KEY.test(key)) throw new Error(`${file}:${n + 1}: invalid variable name ${JSON.stringify(key)}`);
    if (eq < 0) {
      const v = lookup(key);
      if (v !== undefined) vars.set(key, v);
      continue;
    }
    let raw = body.slice(eq + 1).trim();
    let value: string;
    if (raw.startsWith("'")) {
      const end = raw.indexOf("'", 1);
      if (end < 0) throw new Error(`${file}:${n + 1}: unterminated single quote`);
      value = raw.slice(1, end);
    } else if (raw.startsWith('"')) {
      // a double-quoted value may span lines
      while (!closedDoubleQuote(raw)) {
        if (++n >= lines.length) throw new Error(`${file}: unterminated double quote`);
        raw += `\n${lines[n]}`;
      }
      const inner = raw.slice(1, closedDoubleQuote(raw) as number);
      // \$ is a literal dollar: kept from substitution as $$
      const unescaped = inner.replace(
        /\\(.)/g,
        (_, c: string) => ({ n: '\n', t: '\t', r: '\r', $: '$$' })[c] ?? c,
      );
      value = interpolate(unescaped, seen).value;
    } else {
      value = interpolate(raw.replace(/\s+#.*$/, ''), seen).value;
    }
    vars.set(key, value);
  }
  return vars;
}

/** Index of the closing `"` of a value starting with `"`, or undefined. */
function closedDoubleQuote(raw: string): number | undefined {
  for (let i = 1; i < raw.length; i++) {
    if (raw[i] === '\\') i++;
    else if (raw[i] === '"') return i;
  }
  return undefined;
}
