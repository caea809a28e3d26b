// Mutating a valid JSON document one field at a time: the shared move of the fuzz tests that start from a
// request the product accepts and make one part of it hostile.

/** Every path to a value in a JSON object: ['ipam', 'subnet'], ['name'], ... (objects themselves included). */
export function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  const out: string[][] = prefix.length > 0 ? [prefix] : [];
  for (const [k, v] of Object.entries(value)) out.push(...leafPaths(v, [...prefix, k]));
  return out;
}

/** A copy of `doc` with the value at `path` replaced by `value`, or removed when `value` is undefined. */
export function mutated(doc: object, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(doc) as Record<string, unknown>;
  let at: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
  const last = path.at(-1) as string;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}
