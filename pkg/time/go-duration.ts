// Go's duration syntax ("1m30s", "500ms", "10s"), which compose files and docker's --health-* flags use,
// held as nanoseconds as Docker's API does.
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** "1m30s" → 90e9; a bare number counts as seconds (Compose accepts `interval: 10`). */
export function parseGoDuration(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new Error(`invalid duration ${text}`);
    return Math.round(text * 1e9);
  }
  const s = text.trim();
  if (s === '0') return 0;
  if (/^\d+$/.test(s)) return Number(s) * 1e9;
  let ns = 0;
  PART.lastIndex = 0;
  let matched = 0;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (!m) break;
    ns += Number(m[1]) * (UNIT_NS[m[2] as string] as number);
    matched = PART.lastIndex;
  }
  if (s === '' || matched !== s.length) {
    throw new Error(
      `invalid duration ${JSON.stringify(text)}: use a number with a unit (ns, us, ms, s, m, h), e.g. "1m30s"`,
    );
  }
  return Math.round(ns);
}

/** 90e9 → "1m30s", as Go prints a time.Duration (the form `compose config` shows). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3)}µs`;
  if (ns < 1e9) return `${trim(ns / 1e6)}ms`;
  const h = Math.floor(ns / 3600e9);
  const m = Math.floor((ns % 3600e9) / 60e9);
  const sec = (ns % 60e9) / 1e9;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${trim(sec)}s`;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}
