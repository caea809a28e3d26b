/**
 * Ordinal order of two strings (UTF-16 code units; for names and keys, which are ASCII, the bytes' order as
 * Go's sort.Strings and the kernel give it). Not localeCompare: its first call makes V8 set up an ICU
 * collator, about 3 MiB of resident memory in every process that sorts a name once, and its order moves
 * with the locale.
 */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
