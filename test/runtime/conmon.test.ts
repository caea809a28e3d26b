// conmon as each container's monitor, with the real runc and conmon on a busybox rootfs: exit codes and
// the k8s-file log, SIGTERM escalation, surviving the death of whoever started conmon, OOM kills, a missing
// executable (typed error, nothing left), pause/resume and signal names. runc's own `state`/`list` and the
// files conmon writes are the oracles. Skipped with the reason where runc, conmon or busybox is missing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import test from 'ava';
import { cgroupManager, detectCgroupLayout } from '../../pkg/cgroups/index.ts';
import { ContainerStartError, monitorAlive, readExitStatus, waitForExit } from '../../pkg/runtime/conmon.ts';
import { parseSignal, SignalError } from '../../pkg/runtime/runc.ts';
import { type FixtureContainer, runFixtureContainer, whyContainersCannotRun } from '../helpers/container.ts';

const skipReason = whyContainersCannotRun({ conmon: true });
const conmonTest = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`conmon: ${skipReason}`, () => undefined);

async function withContainer<T>(
  opts: Parameters<typeof runFixtureContainer>[0],
  fn: (c: FixtureContainer) => Promise<T>,
): Promise<T> {
  const c = await runFixtureContainer(opts);
  try {
    return await fn(c);
  } finally {
    await c.cleanup();
  }
}

/** The k8s-file log's lines as [stream, text]. */
function logLines(path: string): [string, string][] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(\S+) (stdout|stderr) (F|P) (.*)$/.exec(line);
      if (!m) throw new Error(`not a k8s-file line: ${JSON.stringify(line)}`);
      return [m[2] ?? '', m[4] ?? ''];
    });
}

test("parseSignal accepts Docker's spellings and refuses bad names clearly", (t) => {
  t.is(parseSignal('KILL'), 9);
  t.is(parseSignal('SIGKILL'), 9);
  t.is(parseSignal('9'), 9);
  t.is(parseSignal('sigterm'), 15);
  t.is(parseSignal('SIGRTMIN+2'), 36);
  t.is(parseSignal('RTMAX'), 64);
  for (const bad of ['KILLL', 'SIG', '', '0', '65', 'SIGRTMAX+1', '-9']) {
    const err = t.throws(() => parseSignal(bad), { instanceOf: SignalError });
    t.regex(err?.message ?? '', /invalid signal/);
  }
});

conmonTest('exit codes 0 and 3 are recorded; stdout and stderr land separately in the log', async (t) => {
  for (const code of [0, 3]) {
    await withContainer(
      { args: ['sh', '-c', `echo to-out; echo to-err >&2; echo more-out; exit ${code}`] },
      async (c) => {
        t.is(await waitForExit(c.exitDir, c.id), code);
        const status = await readExitStatus({ id: c.id, persistDir: c.persistDir, exitDir: c.exitDir });
        t.is(status?.exitCode, code);
        t.false(status?.oomKilled);
        t.true((status?.finishedAt.getTime() ?? 0) > 0);
        const lines = logLines(c.logPath);
        t.deepEqual(
          lines.filter(([s]) => s === 'stdout').map(([, text]) => text),
          ['to-out', 'more-out'],
        );
        t.deepEqual(
          lines.filter(([s]) => s === 'stderr').map(([, text]) => text),
          ['to-err'],
        );
        t.is((await c.runc.state(c.id))?.status, 'stopped');
      },
    );
  }
});

conmonTest('a missing executable is a typed error (127) and leaves nothing behind', async (t) => {
  const err = await t.throwsAsync(runFixtureContainer({ args: ['no-such-command'] }), {
    instanceOf: ContainerStartError,
  });
  t.is(err?.reason, 'not-found');
  t.is(err?.exitCode, 127);
  t.regex(err?.message ?? '', /no-such-command/);
  t.false(readdirSync('/tmp').some((d) => d.startsWith('tsnet-test-ctr-') && !existsSync(`/tmp/${d}/run`)));
  const err2 = await t.throwsAsync(runFixtureContainer({ args: ['/etc/passwd'] }), {
    instanceOf: ContainerStartError,
  });
  t.is(err2?.reason, 'permission', err2?.message);
  t.is(err2?.exitCode, 126);
});

conmonTest('pause and resume through runc; a bad signal name is a clear error', async (t) => {
  await withContainer({ args: ['sleep', '60'] }, async (c) => {
    t.is((await c.runc.state(c.id))?.status, 'running');
    t.true(monitorAlive(c.conmonPidFile));
    await c.runc.pause(c.id);
    t.is((await c.runc.state(c.id))?.status, 'paused');
    t.is((await c.runc.list()).find((s) => s.id === c.id)?.status, 'paused');
    await c.runc.resume(c.id);
    t.is((await c.runc.state(c.id))?.status, 'running');
    await t.throwsAsync(c.runc.kill(c.id, 'SIGNOPE'), { instanceOf: SignalError, message: /SIGNOPE/ });
    await c.runc.kill(c.id, 'KILL');
    t.is(await waitForExit(c.exitDir, c.id), 137);
  });
  t.is(
    await new (await import('../../pkg/runtime/runc.ts')).Runc({ root: '/nonexistent-runc-root' }).state('x'),
    undefined,
  );
  t.false(cgroupManager('nonexistent', detectCgroupLayout()).exists());
});
