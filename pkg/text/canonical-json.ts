import { byCodeUnits } from './order.ts';

/**
 * JSON with every object's keys in ordinal order and undefined members left out, so that equal values give
 * equal text whatever order their properties were set in: the input of a content hash (a build step's cache
 * key, a compose service's config hash). Inside arrays undefined is null, as JSON.stringify writes it.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => byCodeUnits(a, b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
