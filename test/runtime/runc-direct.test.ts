// What Runc does without a runc process, against runc's own view (runc state) and conmon's exit file: kill's
// direct path (PID 1 signalled through a pidfd, as runc kill does it; never a pid another process now has)
// and forgetStopped (runc delete's state removal, for a container whose init has ended).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { waitForExit } from '../../pkg/runtime/conmon.ts';
import { processRunning, processStartTime } from '../../pkg/runtime/proc-stat.ts';
import { Runc, RuncError } from '../../pkg/runtime/runc.ts';
import { type FixtureContainer, runFixtureContainer, whyContainersCannotRun } from '../helpers/container.ts';

const skipReason = whyContainersCannotRun({ conmon: true });
const containerTest = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`runc direct: ${skipReason}`, () => undefined);

/** Conmon's exit code for the container, or a failure after `ms` (a test never hangs on it). */
function exitWithin(c: FixtureContainer, ms = 20_000): Promise<number | undefined> {
  return Promise.race([
    waitForExit(c.exitDir, c.id),
    sleep(ms).then(() => Promise.reject(new Error(`container ${c.id} did not exit within ${ms} ms`))),
  ]);
}

/** Waits for `text` in the container's log (its process got that far). */
async function logShows(c: FixtureContainer, text: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (existsSync(c.logPath) && readFileSync(c.logPath, 'utf8').includes(text)) return;
    await sleep(25);
  }
  throw new Error(`${text} never came in ${c.logPath}`);
}

containerTest('a direct kill reaches PID 1; a second one finds it not running', async (t) => {
  const c = await runFixtureContainer({
    args: ['sh', '-c', 'trap "exit 9" TERM; echo ready; while :; do sleep 0.1; done'],
  });
  try {
    await logShows(c, 'ready'); // its trap is set: PID 1 of a namespace ignores a signal it has no handler for
    await c.runc.kill(c.id, 'TERM', { direct: true });
    t.is(await exitWithin(c), 9, 'the trap ran: PID 1 got SIGTERM');
    t.is((await c.runc.state(c.id))?.status, 'stopped');
    const err = await t.throwsAsync(c.runc.kill(c.id, 'KILL', { direct: true }), { instanceOf: RuncError });
    t.regex(err?.runcMessage ?? '', /not running/);
  } finally {
    await c.cleanup();
  }
});

test('a pid whose start time is not the recorded one is never signalled', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tsnet-runc-kill-'));
  const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const pid = bystander.pid ?? 0;
    const start = processStartTime(pid) ?? 0;
    const id = 'reused';
    mkdirSync(join(root, id));
    // runc's state of a container whose init had this pid before: another start time
    writeFileSync(
      join(root, id, 'state.json'),
      JSON.stringify({ init_process_pid: pid, init_process_start: start - 1 }),
    );
    const runc = new Runc({ root });
    const err = await t.throwsAsync(runc.kill(id, 'KILL', { direct: true }), { instanceOf: RuncError });
    t.regex(err?.runcMessage ?? '', /not running/);
    // a SIGKILL would have made it a zombie (or reaped it) by now
    await sleep(200);
    t.true(processRunning(pid), 'the process that has the pid now was not killed');
    t.is(bystander.signalCode, null);
  } finally {
    bystander.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
});

containerTest('forgetStopped removes the state and the cgroups of an ended container only', async (t) => {
  const c = await runFixtureContainer({ args: ['sh', '-c', 'exec sleep 30'] });
  try {
    t.false(await c.runc.forgetStopped(c.id), 'a running init keeps its state');
    t.is((await c.runc.state(c.id))?.status, 'running');
    const state = JSON.parse(readFileSync(join(c.runc.root, c.id, 'state.json'), 'utf8')) as {
      cgroup_paths: Record<string, string>;
    };
    const cgroupDirs = Object.values(state.cgroup_paths);
    t.true(cgroupDirs.length > 0 && cgroupDirs.every((dir) => existsSync(dir)));
    await c.runc.kill(c.id, 'KILL', { direct: true });
    t.is(await exitWithin(c), 137);
    t.true(await c.runc.forgetStopped(c.id));
    t.false(c.runc.holds(c.id));
    t.is(await c.runc.state(c.id), undefined, 'runc no longer knows it');
    t.deepEqual(
      cgroupDirs.filter((dir) => existsSync(dir)),
      [],
      'every cgroup directory runc made is gone, as runc delete leaves it',
    );
  } finally {
    await c.cleanup();
  }
});
