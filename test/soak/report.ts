// What the soak did, injected and found: counters per activity, and findings (losses, leaks, errors a user
// would see). The soak fails when there is any finding.

export class Report {
  private readonly counts = new Map<string, number>();
  private readonly notes = new Map<string, string>();
  readonly findings: string[] = [];

  count(key: string, by = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** A figure that is not a count (a delay, a ratio), printed beside the counts. */
  note(key: string, text: string): void {
    this.notes.set(key, text);
  }

  /** A loss, a leak or an error the soak does not expect: the run fails. */
  find(what: string): void {
    this.findings.push(what);
    console.log(`  FOUND: ${what}`);
  }

  print(title: string): void {
    const rows: [string, string][] = [
      ...[...this.counts].map(([k, v]): [string, string] => [k, String(v)]),
      ...this.notes,
    ].sort(([a], [b]) => a.localeCompare(b));
    const width = Math.max(...rows.map(([k]) => k.length), 10);
    console.log(`\n${title}`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
    console.log(
      this.findings.length === 0
        ? '\nfindings: none'
        : `\nfindings (${this.findings.length}):\n${this.findings.map((f) => `  - ${f}`).join('\n')}`,
    );
  }
}

/** Uniform integer in [lo, hi]. */
export function randomInt(lo: number, hi: number): number {
  return lo + Math.floor(Math.random() * (hi - lo + 1));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
