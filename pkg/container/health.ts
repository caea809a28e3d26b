// A container's health check by Docker's rules (moby's daemon/health.go): the create spec's Healthcheck over
// the image's, the timing with Docker's defaults, and how one probe's result moves State.Health (starting →
// healthy/unhealthy, the failing streak, the last five log entries). The scheduler that runs the probes is
// pkg/agent/health.ts; this module only decides.
import type { HealthcheckSpec } from './create-spec.ts';

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One probe, as inspect's State.Health.Log shows it (times RFC 3339). */
export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** State.Health, kept in the record. */
export interface HealthState {
  status: HealthStatus;
  failingStreak: number;
  log: HealthLogEntry[];
}

/** What a probe runs and when: the resolved check, milliseconds. */
export interface HealthProbe {
  /** the argv to exec: CMD's words, or the shell with CMD-SHELL's command */
  readonly argv: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly startPeriodMs: number;
  readonly startIntervalMs: number;
  readonly retries: number;
}

/** Docker's defaults (moby: defaultProbeInterval, defaultProbeTimeout, defaultStartInterval, ...). */
const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_START_INTERVAL_MS = 5_000;
const DEFAULT_RETRIES = 3;
/** Docker keeps the last five results. */
export const HEALTH_LOG_ENTRIES = 5;
/** Docker keeps at most this much of a probe's output (stdout and stderr together). */
export const HEALTH_OUTPUT_BYTES = 4096;
/** The exit code Docker records for a probe that timed out or could not run. */
export const PROBE_FAILED_EXIT = -1;

const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

/**
 * The container's check: the spec's fields over the image's, field by field, as Docker's merge does (an empty
 * Test inherits the image's test, a zero duration the image's duration). Undefined when neither has one.
 */
export function mergeHealthcheck(
  spec: HealthcheckSpec | undefined,
  image: HealthcheckSpec | undefined,
): HealthcheckSpec | undefined {
  const img = wellFormed(image);
  if (!spec) return img;
  const test = spec.Test?.length ? spec.Test : img?.Test;
  const pick = (k: 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval' | 'Retries') =>
    spec[k] || img?.[k] || undefined;
  const merged: HealthcheckSpec = {
    ...(test && { Test: [...test] }),
    ...(pick('Interval') && { Interval: pick('Interval') }),
    ...(pick('Timeout') && { Timeout: pick('Timeout') }),
    ...(pick('StartPeriod') && { StartPeriod: pick('StartPeriod') }),
    ...(pick('StartInterval') && { StartInterval: pick('StartInterval') }),
    ...(pick('Retries') && { Retries: pick('Retries') }),
  };
  return merged.Test ? merged : undefined;
}

/** An image's Healthcheck is not checked at the edge as a create spec is: take only what has the right shape. */
function wellFormed(h: HealthcheckSpec | undefined): HealthcheckSpec | undefined {
  if (!h || !Array.isArray(h.Test) || h.Test.some((w) => typeof w !== 'string')) return undefined;
  const n = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined);
  const out: { -readonly [K in keyof HealthcheckSpec]: HealthcheckSpec[K] } = { Test: [...h.Test] };
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    const v = n(h[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * What to run for a check, or undefined when there is none to run (no check, `NONE`, an unknown kind).
 * CMD-SHELL runs under the image's SHELL, /bin/sh -c by default.
 */
export function probeOf(
  check: HealthcheckSpec | undefined,
  shell?: readonly string[],
): HealthProbe | undefined {
  const [kind, ...words] = check?.Test ?? [];
  let argv: readonly string[];
  if (kind === 'CMD' && words.length > 0) argv = words;
  else if (kind === 'CMD-SHELL' && words.length > 0)
    argv = [...(shell?.length ? shell : DEFAULT_SHELL), words.join(' ')];
  else return undefined;
  const ms = (ns: number | undefined, fallback: number) =>
    ns ? Math.max(1, Math.round(ns / 1e6)) : fallback;
  return {
    argv,
    intervalMs: ms(check?.Interval, DEFAULT_INTERVAL_MS),
    timeoutMs: ms(check?.Timeout, DEFAULT_TIMEOUT_MS),
    startPeriodMs: ms(check?.StartPeriod, 0),
    startIntervalMs: ms(check?.StartInterval, DEFAULT_START_INTERVAL_MS),
    retries: check?.Retries || DEFAULT_RETRIES,
  };
}

/** The wait before the next probe: the start interval while starting within the start period (Docker 25). */
export function nextProbeDelayMs(
  probe: HealthProbe,
  health: HealthState | undefined,
  startedAt: string,
  now: number,
): number {
  const inStartPeriod = now - Date.parse(startedAt) < probe.startPeriodMs;
  return inStartPeriod && (health?.status ?? 'starting') === 'starting'
    ? probe.startIntervalMs
    : probe.intervalMs;
}

/** A (re)started run begins "starting" with no failures; the log of earlier runs stays, as in Docker. */
export function startingHealth(previous: HealthState | undefined): HealthState {
  return { status: 'starting', failingStreak: 0, log: previous?.log ?? [] };
}

/** Docker marks a check whose monitor stopped (the container exited) unhealthy. */
export function stoppedHealth(previous: HealthState | undefined): HealthState | undefined {
  return previous && { ...previous, status: 'unhealthy' };
}

/**
 * One probe's result applied: exit 0 makes the container healthy and clears the streak; any other code is a
 * failure, which does not count while the container is starting within its start period, and makes it
 * unhealthy once `retries` failures follow one another.
 */
export function applyProbeResult(
  health: HealthState | undefined,
  result: HealthLogEntry,
  probe: HealthProbe,
  startedAt: string,
): HealthState {
  const current = health ?? startingHealth(undefined);
  const log = [...current.log, result].slice(-HEALTH_LOG_ENTRIES);
  if (result.ExitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  const sinceStart = Date.parse(result.Start) - Date.parse(startedAt);
  if (current.status === 'starting' && sinceStart < probe.startPeriodMs) return { ...current, log };
  const failingStreak = current.failingStreak + 1;
  return {
    status: failingStreak >= probe.retries ? 'unhealthy' : current.status,
    failingStreak,
    log,
  };
}

/** inspect's State.Health. */
export function inspectHealth(health: HealthState): Record<string, unknown> {
  return { Status: health.status, FailingStreak: health.failingStreak, Log: health.log };
}

/** What `ps` appends to "Up 3 seconds": " (healthy)", " (health: starting)", " (unhealthy)". */
export function healthSuffix(health: HealthState | undefined): string {
  if (!health) return '';
  return health.status === 'starting' ? ' (health: starting)' : ` (${health.status})`;
}
