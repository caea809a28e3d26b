// Health checks at run time on a real agent, driven through tsnetctl as users drive them (--health-* flags):
// a check that passes makes the container healthy, one that fails makes it unhealthy after --health-retries
// failures with the exit codes and output in State.Health.Log, a probe past its timeout is killed and counts
// as exit -1, failures within the start period do not count, ps shows the status and filters by it, the
// engine publishes docker's health_status events, checks stop while paused and after the exit, and they
// resume after the agent is SIGKILLed and started again. States are polled with generous limits; nothing
// assumes how fast the machine is.
import test from 'ava';
import type { Event__Output } from '../../pkg/api/generated/tsnet/v1/Event.ts';
import { pollUntil } from '../../pkg/cluster/exec.ts';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { type Engine, TEST_IMAGE, withEngine } from '../helpers/engine.ts';

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`health checks end to end (${skip})`, () => undefined);

interface LogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}
interface Health {
  Status: string;
  FailingStreak: number;
  Log: LogEntry[];
}

const POLL = { timeoutMs: 90_000, intervalMs: 250 };

async function inspect(e: Engine, name: string): Promise<{ State: { Health?: Health; Status: string } }> {
  const r = await e.ctl('inspect', name);
  if (r.code !== 0) throw new Error(`inspect ${name}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { State: { Health?: Health; Status: string } }[])[0]!;
}

async function healthOf(e: Engine, name: string): Promise<Health | undefined> {
  return (await inspect(e, name)).State.Health;
}

/** Polls until the container's check has `status` and `extra` holds of it. */
function waitForHealth(
  e: Engine,
  name: string,
  status: string,
  extra: (h: Health) => boolean = () => true,
): Promise<Health> {
  return pollUntil(
    `${name} ${status}`,
    async () => {
      const h = await healthOf(e, name);
      return h?.Status === status && extra(h) ? h : undefined;
    },
    POLL,
  );
}

async function run(e: Engine, name: string, ...flags: string[]): Promise<void> {
  const r = await e.ctl(
    'run',
    '-d',
    '--name',
    name,
    '--network',
    'none',
    ...flags,
    TEST_IMAGE,
    '/bin/busybox',
    'sleep',
    '1000',
  );
  if (r.code !== 0) throw new Error(`run ${name}: ${r.stderr}`);
}

const psNames = async (e: Engine, ...filters: string[]) => {
  const r = await e.ctl('ps', '-a', '--format', '{{.Names}}', ...filters.flatMap((f) => ['--filter', f]));
  if (r.code !== 0) throw new Error(`ps: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).sort();
};

e2e(
  'health checks: healthy, unhealthy after retries, start period, ps, events, pause and stop',
  async (t) => {
    await withEngine(t, async (e) => {
      t.timeout(600_000);
      const since = `${Math.floor(Date.now() / 1000) - 1}`;
      const every = ['--health-interval', '500ms'];
      await run(e, 'ok', '--health-cmd', 'echo fine', ...every);
      await run(e, 'bad', '--health-cmd', 'echo nope >&2; exit 3', ...every, '--health-retries', '2');
      await run(
        e,
        'warming',
        ...['--health-cmd', 'exit 1', ...every, '--health-retries', '1'],
        ...['--health-start-period', '1h', '--health-start-interval', '500ms'],
      );
      await run(e, 'plain');

      const ok = await waitForHealth(e, 'ok', 'healthy');
      t.is(ok.FailingStreak, 0);
      t.true(ok.Log.length >= 1 && ok.Log.length <= 5, `${ok.Log.length} entries`);
      const last = ok.Log.at(-1)!;
      t.deepEqual(Object.keys(last).sort(), ['End', 'ExitCode', 'Output', 'Start']);
      t.like(last, { ExitCode: 0, Output: 'fine\n' });
      t.true(Date.parse(last.End) >= Date.parse(last.Start), `${last.Start} .. ${last.End}`);
      const okInspect = JSON.parse((await e.ctl('inspect', 'ok')).stdout) as {
        Config: { Healthcheck?: unknown };
      }[];
      t.deepEqual(okInspect[0]?.Config.Healthcheck, { Test: ['CMD-SHELL', 'echo fine'], Interval: 500e6 });

      const bad = await waitForHealth(e, 'bad', 'unhealthy');
      t.true(bad.FailingStreak >= 2, `streak ${bad.FailingStreak}`);
      t.true(bad.Log.length >= 2);
      for (const entry of bad.Log) t.like(entry, { ExitCode: 3, Output: 'nope\n' });
      // the log keeps the last five
      const five = await waitForHealth(e, 'bad', 'unhealthy', (h) => h.FailingStreak >= 6);
      t.is(five.Log.length, 5);

      // failures within the start period are logged but do not count
      const warming = await waitForHealth(e, 'warming', 'starting', (h) => h.Log.length >= 3);
      t.is(warming.FailingStreak, 0);
      for (const entry of warming.Log) t.is(entry.ExitCode, 1);

      t.is(await healthOf(e, 'plain'), undefined, 'no check, no State.Health');

      const ps = await e.ctl('ps', '--format', '{{.Names}} {{.Status}}');
      t.regex(ps.stdout, /^ok Up .+ \(healthy\)$/m);
      t.regex(ps.stdout, /^bad Up .+ \(unhealthy\)$/m);
      t.regex(ps.stdout, /^warming Up .+ \(health: starting\)$/m);
      t.regex(ps.stdout, /^plain Up [^(]+$/m);
      t.deepEqual(await psNames(e, 'health=healthy'), ['ok']);
      t.deepEqual(await psNames(e, 'health=unhealthy'), ['bad']);
      t.deepEqual(await psNames(e, 'health=starting'), ['warming']);
      t.deepEqual(await psNames(e, 'health=none'), ['plain']);
      const badFilter = await e.ctl('ps', '--filter', 'health=sick');
      t.not(badFilter.code, 0);
      t.regex(badFilter.stderr, /health=sick/);

      // docker's event, once per change
      const client = await e.agent.connect();
      try {
        const stream = client.events({
          sinceUnixNano: `${BigInt(since) * 1_000_000_000n}`,
          filters: ['type=container'],
        });
        const seen: string[] = [];
        for await (const ev of stream as AsyncIterable<Event__Output>) {
          if (ev.action.startsWith('health_status')) seen.push(`${ev.attributes.name} ${ev.action}`);
          if (['ok', 'bad'].every((n) => seen.some((s) => s.startsWith(`${n} `)))) break;
        }
        stream.cancel();
        t.deepEqual(seen.sort(), ['bad health_status: unhealthy', 'ok health_status: healthy']);
      } finally {
        client.close();
      }
      for (const name of ['bad', 'warming', 'plain']) t.is((await e.ctl('rm', '-f', name)).code, 0);

      // paused: no probe is recorded; unpaused: they go on
      t.is((await e.ctl('pause', 'ok')).code, 0);
      const paused = (await healthOf(e, 'ok'))!;
      await new Promise((resolve) => setTimeout(resolve, 2000));
      t.deepEqual((await healthOf(e, 'ok'))!.Log, paused.Log, 'no probe while paused');
      t.is((await e.ctl('unpause', 'ok')).code, 0);
      await waitForHealth(e, 'ok', 'healthy', (h) => h.Log.at(-1)!.Start > paused.Log.at(-1)!.Start);

      // stopped: the checks end, and the status is unhealthy as Docker reports it
      t.is((await e.ctl('stop', '-t', '0', 'ok')).code, 0);
      const stopped = await healthOf(e, 'ok');
      t.is(stopped?.Status, 'unhealthy');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      t.deepEqual((await healthOf(e, 'ok'))?.Log, stopped?.Log, 'no probe after the stop');
      // started again: starting, then healthy
      t.is((await e.ctl('start', 'ok')).code, 0);
      t.regex((await healthOf(e, 'ok'))?.Status ?? '', /^(starting|healthy)$/);
      await waitForHealth(e, 'ok', 'healthy', (h) => h.Log.at(-1)!.Start > stopped!.Log.at(-1)!.Start);
    });
  },
);

e2e(
  'health checks: a probe past its timeout is killed and fails with -1; checks resume after an agent SIGKILL',
  async (t) => {
    await withEngine(t, async (e) => {
      t.timeout(600_000);
      const every = ['--health-interval', '500ms'];
      await run(
        e,
        'slow',
        ...['--health-cmd', '/bin/busybox sleep 30', ...every, '--health-timeout', '300ms'],
        ...['--health-retries', '1'],
      );
      const slow = await waitForHealth(e, 'slow', 'unhealthy');
      t.like(slow.Log[0], { ExitCode: -1, Output: 'Health check exceeded timeout (300ms)' });
      // each timed-out probe was killed: at most the one in flight is left in the container
      await waitForHealth(e, 'slow', 'unhealthy', (h) => h.FailingStreak >= 3);
      const procs = await e.ctl('exec', 'slow', '/bin/busybox', 'ps');
      t.is(procs.code, 0, procs.stderr);
      // the probe's shell may be there too: count the sleeps themselves
      const sleeping = procs.stdout
        .split('\n')
        .filter((l) => /^\s*\d+\s+\S+\s+\S+\s+\/bin\/busybox sleep 30$/.test(l)).length;
      t.true(sleeping <= 1, procs.stdout);
      t.is((await e.ctl('rm', '-f', 'slow')).code, 0);

      await run(e, 'counted', '--health-cmd', 'echo x >> /probes; exit 0', ...every);
      await run(e, 'failing', '--health-cmd', 'exit 1', ...every, '--health-retries', '1');
      await waitForHealth(e, 'counted', 'healthy');
      await waitForHealth(e, 'failing', 'unhealthy');
      const probes = async () => {
        const r = await e.ctl('exec', 'counted', '/bin/busybox', 'cat', '/probes');
        if (r.code !== 0) throw new Error(`exec cat: ${r.stderr}`);
        return r.stdout.split('\n').filter(Boolean).length;
      };
      await e.restart();
      const restartedAt = new Date().toISOString();
      // the status kept in the record, then new probes of the same run
      t.is((await healthOf(e, 'counted'))?.Status, 'healthy');
      t.is((await healthOf(e, 'failing'))?.Status, 'unhealthy');
      const before = await probes();
      await pollUntil('probes after the restart', async () => (await probes()) > before + 1, POLL);
      const counted = await waitForHealth(e, 'counted', 'healthy', (h) => h.Log.at(-1)!.Start > restartedAt);
      t.is(counted.Log.at(-1)!.ExitCode, 0);
      await waitForHealth(e, 'failing', 'unhealthy', (h) => h.Log.at(-1)!.Start > restartedAt);
    });
  },
);
