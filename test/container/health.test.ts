// Docker's health check rules without a container: the spec's check over the image's, the probe and its
// timing with Docker's defaults, a result's effect on State.Health (start period, retries, the five-entry
// log), the create spec's refusals, and ps's status suffix.
import test from 'ava';
import {
  applyProbeResult,
  type HealthLogEntry,
  type HealthState,
  healthSuffix,
  mergeHealthcheck,
  nextProbeDelayMs,
  probeOf,
  startingHealth,
  stoppedHealth,
} from '../../pkg/container/health.ts';
import { CreateSpecError, parseCreateSpec } from '../../pkg/container/parse.ts';

const STARTED = '2024-01-01T00:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(STARTED) + ms).toISOString();
const result = (startMs: number, exitCode: number): HealthLogEntry => ({
  Start: at(startMs),
  End: at(startMs + 10),
  ExitCode: exitCode,
  Output: `exit ${exitCode}\n`,
});

test('merge: the spec field by field over the image, an empty Test inherits, NONE disables', (t) => {
  const image = { Test: ['CMD', 'check'], Interval: 5e9, Retries: 2 };
  t.deepEqual(mergeHealthcheck(undefined, image), image);
  t.deepEqual(mergeHealthcheck({ Interval: 1e9 }, image), {
    Test: ['CMD', 'check'],
    Interval: 1e9,
    Retries: 2,
  });
  t.deepEqual(mergeHealthcheck({ Test: ['CMD-SHELL', 'x'], Timeout: 2e9 }, undefined), {
    Test: ['CMD-SHELL', 'x'],
    Timeout: 2e9,
  });
  t.deepEqual(mergeHealthcheck({ Test: ['NONE'] }, image)?.Test, ['NONE']);
  t.is(probeOf(mergeHealthcheck({ Test: ['NONE'] }, image)), undefined);
  t.is(mergeHealthcheck({ Interval: 1e9 }, undefined), undefined, 'no test anywhere: no check');
  // an image's config is not checked at the edge: a malformed check is ignored
  t.is(mergeHealthcheck(undefined, { Test: 'CMD x' as unknown as string[] }), undefined);
});

test('probe: CMD runs its words, CMD-SHELL the shell (the image SHELL or /bin/sh -c), Docker defaults', (t) => {
  t.like(probeOf({ Test: ['CMD', 'curl', '-f', 'x'] }), {
    argv: ['curl', '-f', 'x'],
    intervalMs: 30_000,
    timeoutMs: 30_000,
    startPeriodMs: 0,
    startIntervalMs: 5_000,
    retries: 3,
  });
  t.deepEqual(probeOf({ Test: ['CMD-SHELL', 'exit 1'] })?.argv, ['/bin/sh', '-c', 'exit 1']);
  t.deepEqual(probeOf({ Test: ['CMD-SHELL', 'exit 1'] }, ['/bin/bash', '-ec'])?.argv, [
    '/bin/bash',
    '-ec',
    'exit 1',
  ]);
  t.like(probeOf({ Test: ['CMD', 'x'], Interval: 200e6, Timeout: 1e9, Retries: 1 }), {
    intervalMs: 200,
    timeoutMs: 1000,
    retries: 1,
  });
  t.is(probeOf({ Test: ['CMD'] }), undefined);
  t.is(probeOf({ Test: ['BOGUS', 'x'] }), undefined);
});

test('the start interval applies while starting within the start period', (t) => {
  const probe = probeOf({ Test: ['CMD', 'x'], Interval: 10e9, StartPeriod: 60e9, StartInterval: 1e9 })!;
  const starting = startingHealth(undefined);
  t.is(nextProbeDelayMs(probe, starting, STARTED, Date.parse(at(5_000))), 1_000);
  t.is(nextProbeDelayMs(probe, { ...starting, status: 'healthy' }, STARTED, Date.parse(at(5_000))), 10_000);
  t.is(nextProbeDelayMs(probe, starting, STARTED, Date.parse(at(61_000))), 10_000);
});

test('results: healthy clears the streak, retries failures make unhealthy, the log keeps five', (t) => {
  const probe = probeOf({ Test: ['CMD', 'x'], Retries: 2 })!;
  let h: HealthState = startingHealth(undefined);
  h = applyProbeResult(h, result(100, 1), probe, STARTED);
  t.like(h, { status: 'starting', failingStreak: 1 });
  h = applyProbeResult(h, result(200, 0), probe, STARTED);
  t.like(h, { status: 'healthy', failingStreak: 0 });
  h = applyProbeResult(h, result(300, 1), probe, STARTED);
  t.like(h, { status: 'healthy', failingStreak: 1 }, 'one failure of two keeps it healthy');
  h = applyProbeResult(h, result(400, -1), probe, STARTED);
  t.like(h, { status: 'unhealthy', failingStreak: 2 });
  for (let i = 0; i < 4; i++) h = applyProbeResult(h, result(500 + i, 2), probe, STARTED);
  t.is(h.log.length, 5);
  t.deepEqual(
    h.log.map((e) => e.ExitCode),
    [-1, 2, 2, 2, 2],
  );
  t.is(healthSuffix(h), ' (unhealthy)');
});

test('failures within the start period do not count until the first success', (t) => {
  const probe = probeOf({ Test: ['CMD', 'x'], Retries: 1, StartPeriod: 10e9 })!;
  let h = startingHealth(undefined);
  h = applyProbeResult(h, result(1_000, 1), probe, STARTED);
  h = applyProbeResult(h, result(2_000, 1), probe, STARTED);
  t.like(h, { status: 'starting', failingStreak: 0 });
  t.is(h.log.length, 2);
  t.is(healthSuffix(h), ' (health: starting)');
  t.like(applyProbeResult(h, result(11_000, 1), probe, STARTED), { status: 'unhealthy', failingStreak: 1 });
  // once healthy, the start period no longer shields a failure
  const healthy = applyProbeResult(h, result(3_000, 0), probe, STARTED);
  t.like(applyProbeResult(healthy, result(4_000, 1), probe, STARTED), { status: 'unhealthy' });
});

test('a new run starts over as starting and keeps the log; an exit makes it unhealthy', (t) => {
  const probe = probeOf({ Test: ['CMD', 'x'] })!;
  const healthy = applyProbeResult(undefined, result(1, 0), probe, STARTED);
  t.deepEqual(startingHealth(healthy), { status: 'starting', failingStreak: 0, log: healthy.log });
  t.like(stoppedHealth(healthy), { status: 'unhealthy', log: healthy.log });
  t.is(stoppedHealth(undefined), undefined);
  t.is(healthSuffix(undefined), '');
  t.is(healthSuffix(healthy), ' (healthy)');
});

test('create spec: Healthcheck refused with the field named', (t) => {
  const spec = (h: unknown) => JSON.stringify({ Image: 'busybox', Healthcheck: h });
  t.notThrows(() => parseCreateSpec(spec({ Test: ['CMD-SHELL', 'true'], Interval: 1e6, Retries: 0 })));
  t.notThrows(() => parseCreateSpec(spec({ Test: [], Interval: 2e9 })));
  t.notThrows(() => parseCreateSpec(spec({ Test: ['NONE'] })));
  for (const [h, field] of [
    [{ Test: ['CURL', 'x'] }, 'Healthcheck.Test'],
    [{ Test: ['CMD'] }, 'Healthcheck.Test'],
    [{ Test: ['NONE', 'x'] }, 'Healthcheck.Test'],
    [{ Test: 'true' }, 'Healthcheck.Test'],
    [{ Test: ['CMD', 'x'], Interval: 999 }, 'Healthcheck.Interval'],
    [{ Test: ['CMD', 'x'], Timeout: -1 }, 'Healthcheck.Timeout'],
    [{ Test: ['CMD', 'x'], Retries: -1 }, 'Healthcheck.Retries'],
  ] as const) {
    const err = t.throws(() => parseCreateSpec(spec(h)), { instanceOf: CreateSpecError });
    t.regex(err?.message ?? '', new RegExp(`^invalid container spec: ${field.replace('.', '\\.')} must be`));
  }
});
