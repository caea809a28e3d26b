// Compose's variable substitution (the Compose Specification's "Interpolation"): `$VAR`, `${VAR}`,
// `${VAR:-default}` (unset or empty), `${VAR-default}` (unset), `${VAR:?err}` / `${VAR?err}` (required),
// `${VAR:+alt}` / `${VAR+alt}`, and `$$` for a literal `$`. Defaults may themselves hold substitutions.

export type Lookup = (name: string) => string | undefined;

/** A substitution that cannot be made; `message` is Compose's wording, without a position. */
export class InterpolationError extends Error {
  override name = 'InterpolationError';
}

export interface InterpolationResult {
  readonly value: string;
  /** variables used without a value and without a default: Compose warns and substitutes "" */
  readonly unset: readonly string[];
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/** Substitutes every variable of `text` from `lookup`. */
export function interpolate(text: string, lookup: Lookup): InterpolationResult {
  const unset: string[] = [];
  const value = substitute(text, lookup, unset);
  return { value, unset };
}

function substitute(text: string, lookup: Lookup, unset: string[]): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      const end = closingBrace(text, i + 2);
      if (end < 0)
        throw new InterpolationError(`invalid interpolation format for ${JSON.stringify(text)}: missing "}"`);
      out += braced(text.slice(i + 2, end), text, lookup, unset);
      i = end + 1;
    } else if (next !== undefined && NAME_START.test(next)) {
      let j = i + 1;
      while (j < text.length && NAME_CHAR.test(text[j] as string)) j++;
      out += variableValue(text.slice(i + 1, j), lookup, unset);
      i = j;
    } else {
      // a lone `$` (end of text, `$ `, `$1`...) stays as Compose leaves it
      out += '$';
      i++;
    }
  }
  return out;
}

/** Index of the `}` closing a `${` whose body starts at `from`, counting nested `${...}`. */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '$') i++;
    else if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function braced(body: string, whole: string, lookup: Lookup, unset: string[]): string {
  let n = 0;
  while (n < body.length && NAME_CHAR.test(body[n] as string)) n++;
  const name = body.slice(0, n);
  if (name === '' || !NAME_START.test(name[0] as string)) {
    throw new InterpolationError(
      `invalid interpolation format for ${JSON.stringify(whole)}: invalid variable name`,
    );
  }
  const rest = body.slice(n);
  if (rest === '') return variableValue(name, lookup, unset);
  const colon = rest.startsWith(':');
  const op = colon ? rest[1] : rest[0];
  const arg = rest.slice(colon ? 2 : 1);
  if (op !== '-' && op !== '?' && op !== '+') {
    throw new InterpolationError(
      `invalid interpolation format for ${JSON.stringify(whole)}: unexpected ${JSON.stringify(rest)} after the variable name`,
    );
  }
  const raw = lookup(name);
  // with a colon an empty value counts as unset, as in the shell
  const present = raw !== undefined && (!colon || raw !== '');
  switch (op) {
    case '-':
      return present ? raw : substitute(arg, lookup, unset);
    case '+':
      return present ? substitute(arg, lookup, unset) : '';
    default: {
      if (present) return raw;
      const why = substitute(arg, lookup, unset);
      throw new InterpolationError(
        `required variable ${name} is missing a value${why === '' ? '' : `: ${why}`}`,
      );
    }
  }
}

function variableValue(name: string, lookup: Lookup, unset: string[]): string {
  const v = lookup(name);
  if (v === undefined) {
    if (!unset.includes(name)) unset.push(name);
    return '';
  }
  return v;
}
