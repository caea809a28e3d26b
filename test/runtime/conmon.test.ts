// conmon as each container's monitor, with the real runc and conmon on a busybox rootfs: exit codes and
// the k8s-file log, SIGTERM escalation, surviving the death of whoever started conmon, OOM kills, a missing
// executable (typed error, nothing left), pause/resume and signal names. runc's own `state`/`list` and the
// files conmon writes are the oracles. Skipped with the reason where runc, conmon or busybox is missing.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { cgroupManager, detectCgroupLayout } from '../../pkg/cgroups/index.ts';
import {
  ContainerStartError,
  type Monitor,
  type MonitorOptions,
  monitorAlive,
  readExitStatus,
  reopenLog,
  resizeTerminal,
  startMonitor,
  waitForExit,
} from '../../pkg/runtime/conmon.ts';
import type { OciSpec } from '../../pkg/runtime/oci.ts';
import {
  execStartFailure,
  parseSignal,
  Runc,
  RuncError,
  runcErrorMessage,
  SignalError,
} from '../../pkg/runtime/runc.ts';
import {
  type FixtureContainer,
  makeBusyboxBundle,
  runFixtureContainer,
  whyContainersCannotRun,
  withBusyboxBundle,
} from '../helpers/container.ts';

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

const STARTER = new URL('../helpers/start-monitor-child.ts', import.meta.url).pathname;

function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function processEnded(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true;
  }
}

/** Polls `cond` (every 20 ms, up to 10 s): for effects that have no event to wait on. */
async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await sleep(20);
  }
  throw new Error('condition not reached within 10 s');
}

/** Whether a conmon process for container `id` is alive (not a zombie). */
function conmonRunning(id: string): boolean {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .some((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return /conmon$/.test(argv[0] ?? '') && argv.includes(id);
      } catch {
        return false;
      }
    });
}

/** The k8s-file log's lines as [stream, text]. */
function logLines(path: string): [string, string][] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(\S+) (stdout|stderr) (F|P) (.*)$/s.exec(line);
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

test("runcErrorMessage takes runc's last JSON error line, else the raw text", (t) => {
  const stderr = [
    '{"level":"warning","msg":"a warning","time":"2026-01-01T00:00:00Z"}',
    '{"level":"error","msg":"container \\"x\\" does not exist","time":"2026-01-01T00:00:00Z"}',
  ].join('\n');
  t.is(runcErrorMessage(stderr), 'container "x" does not exist');
  t.is(runcErrorMessage('plain failure\n'), 'plain failure');
  t.is(execStartFailure(1, stderr), undefined, 'only exit 255 is runc failing to start the process');
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
        // a second run of the same container: the first run's exit code is gone until the new one ends
        await c.runc.delete(c.id);
        const again = await startMonitor(c.monitorOptions);
        t.is(
          await readExitStatus({ id: c.id, persistDir: c.persistDir, exitDir: c.exitDir }),
          undefined,
          'no stale exit status',
        );
        await c.runc.start(c.id);
        t.is(await waitForExit(c.exitDir, c.id), code);
        t.not(again.pid, undefined);
      },
    );
  }
});

conmonTest('a missing executable is a typed error (127) and leaves nothing behind', async (t) => {
  await withBusyboxBundle(t, { args: ['true'] }, async ({ bundleDir }) => {
    const runc = new Runc({ root: join(bundleDir, 'runc') });
    for (const [args, reason, exitCode] of [
      [['no-such-command'], 'not-found', 127],
      [['/etc/passwd'], 'permission', 126],
    ] as const) {
      const id = `tsnet-test-${randomBytes(6).toString('hex')}`;
      makeBusyboxBundle(bundleDir, { args, cgroupsPath: id, namespaces: { network: 'host' } });
      // runc's root and the two logs stay (the runtime's own); anything else would be a leftover
      const files = (): string[] =>
        readdirSync(bundleDir)
          .filter((f) => !['runc', 'ctr.log', 'runc.log'].includes(f))
          .sort();
      const before = files();
      const opts: MonitorOptions = {
        id,
        name: id,
        bundleDir,
        runtime: { root: runc.root },
        logPath: join(bundleDir, 'ctr.log'),
        exitDir: bundleDir,
        persistDir: bundleDir,
        socketDir: bundleDir,
        pidFile: join(bundleDir, 'pidfile'),
        conmonPidFile: join(bundleDir, 'conmon.pid'),
        cwd: bundleDir,
        runtimeLogPath: join(bundleDir, 'runc.log'),
      };
      const err = await t.throwsAsync(startMonitor(opts), { instanceOf: ContainerStartError });
      t.is(err?.reason, reason, err?.message);
      t.is(err?.exitCode, exitCode);
      t.true(err?.message.includes(args[0]), 'the message names the command');
      t.deepEqual(await runc.list(), [], 'runc knows no container');
      t.deepEqual(files(), before, 'no fifo, socket, pid or exit file left');
      t.false(cgroupManager(id, detectCgroupLayout()).exists(), 'no cgroup left');
      t.false(conmonRunning(id), 'no conmon left');
    }
  });
});

conmonTest('pause and resume through runc; a bad signal name is a clear error', async (t) => {
  await withContainer({ args: ['sleep', '60'] }, async (c) => {
    t.is((await c.runc.state(c.id))?.status, 'running');
    t.true(monitorAlive(c.conmonPidFile, c.monitor.monitorStartTime));
    t.false(monitorAlive(c.conmonPidFile, (c.monitor.monitorStartTime ?? 0) + 1), 'a reused PID');
    const notConmon = join(c.root, 'other.pid');
    writeFileSync(notConmon, String(process.pid));
    t.false(monitorAlive(notConmon), 'a live process that is not conmon');
    await t.throwsAsync(startMonitor(c.monitorOptions), { message: /a monitor already runs/ });
    await c.runc.pause(c.id);
    t.is((await c.runc.state(c.id))?.status, 'paused');
    t.is((await c.runc.list()).find((s) => s.id === c.id)?.status, 'paused');
    await c.runc.resume(c.id);
    t.is((await c.runc.state(c.id))?.status, 'running');
    await t.throwsAsync(c.runc.kill(c.id, 'SIGNOPE'), { instanceOf: SignalError, message: /SIGNOPE/ });
    await c.runc.kill(c.id, 'KILL');
    t.is(await waitForExit(c.exitDir, c.id), 137);
  });
  const runc = new Runc({ root: '/nonexistent-runc-root' });
  t.is(await runc.state('unknown'), undefined);
  const err = await t.throwsAsync(runc.start('unknown'), { instanceOf: RuncError });
  t.regex(err?.runcMessage ?? '', /does not exist/, "runc's own message");
  t.true(err?.command.includes('start'), 'the command that failed');
  t.throws(() => runc.exec('../escape', '/dev/null'), { message: /invalid container id/ });
});

conmonTest('a PID 1 ignoring SIGTERM keeps running; SIGKILL then ends it with 137', async (t) => {
  // busybox sleep installs no handler, and the kernel drops unhandled signals sent to a PID namespace's init
  await withContainer({ args: ['sleep', '60'] }, async (c) => {
    await c.runc.kill(c.id, 'TERM');
    await t.throwsAsync(waitForExit(c.exitDir, c.id, AbortSignal.timeout(1000)), { name: 'AbortError' });
    t.is((await c.runc.state(c.id))?.status, 'running');
    await c.runc.kill(c.id, 'SIGKILL', { all: true });
    t.is(await waitForExit(c.exitDir, c.id), 137);
    const status = await readExitStatus({ id: c.id, persistDir: c.persistDir, cwd: c.containerDir });
    t.deepEqual([status?.exitCode, status?.oomKilled], [137, false]);
  });
});

/** Starts conmon from a child process (test/helpers/start-monitor-child.ts), which the test then kills. */
function launchFromChild(onChild: (child: ChildProcess) => void) {
  return (opts: MonitorOptions): Promise<Monitor> => {
    const child = spawn(process.execPath, ['--import=tsx', STARTER, JSON.stringify(opts)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onChild(child);
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (!out.includes('\n')) return;
        const answer = JSON.parse(out) as Monitor | { error: string };
        if ('error' in answer) reject(new Error(answer.error));
        else resolve(answer);
      });
      child.once('exit', (code) => reject(new Error(`the starter exited with ${code}`)));
    });
  };
}

conmonTest('the container survives the SIGKILL of the process that started conmon', async (t) => {
  let starter: ChildProcess | undefined;
  const launch = launchFromChild((child) => {
    starter = child;
  });
  try {
    await withContainer(
      { args: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo tick$i; sleep 0.05; done'], launch },
      async (c) => {
        const starterPid = starter?.pid;
        const exited = new Promise((resolve) => starter?.once('exit', resolve));
        starter?.kill('SIGKILL');
        await exited;
        t.false(existsSync(`/proc/${starterPid}`), 'the starter is gone');
        t.true(monitorAlive(c.conmonPidFile), 'conmon lives on');
        t.not(parentPid(c.monitor.monitorPid), starterPid, 'conmon was never its child (it double-forks)');
        const before = logLines(c.logPath).length;
        await waitUntil(() => logLines(c.logPath).length > before + 3);
        const state = await c.runc.state(c.id);
        t.is(state?.status, 'running');
        t.is(state?.pid, c.monitor.pid, 'the same PID 1');
        t.is(Number(readFileSync(c.pidFile, 'utf8')), c.monitor.pid);
        await c.runc.kill(c.id, 'KILL');
        t.is(await waitForExit(c.exitDir, c.id), 137, 'conmon still records the exit');
      },
    );
  } finally {
    starter?.kill('SIGKILL');
  }
});

conmonTest('an OOM kill gives 137 and oomKilled', async (t) => {
  await withContainer(
    {
      // PID 1 itself holds the 64 MiB string, so the OOM killer picks it
      args: ['sh', '-c', 'x=$(head -c 64m /dev/zero | tr "\\0" a); echo survived'],
      resources: { memory: 8 * 1024 * 1024 },
    },
    async (c) => {
      t.is(await waitForExit(c.exitDir, c.id), 137);
      const cgroup = cgroupManager(c.cgroupPath, detectCgroupLayout());
      t.true((await cgroup.stats()).oomKills > 0, 'the cgroup counted an OOM kill');
      const status = await readExitStatus({
        id: c.id,
        persistDir: c.persistDir,
        cwd: c.containerDir,
        cgroup,
      });
      t.deepEqual([status?.exitCode, status?.oomKilled], [137, true]);
      t.true(existsSync(join(c.persistDir, 'oom')), "conmon's oom marker in the persist dir");
      t.false(logLines(c.logPath).some(([, text]) => text === 'survived'));
    },
  );
});

conmonTest('exec: the exit code and separate streams come back; a missing command is typed', async (t) => {
  await withContainer({ args: ['sleep', '60'] }, async (c) => {
    const spec = JSON.parse(readFileSync(join(c.bundleDir, 'config.json'), 'utf8')) as OciSpec;
    const exec = async (args: string[]) => {
      const file = join(c.root, 'process.json');
      writeFileSync(file, JSON.stringify({ ...spec.process, args }));
      const child = c.runc.exec(c.id, file);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      return { code, stdout, stderr };
    };
    const ok = await exec(['sh', '-c', 'echo out; echo err >&2; exit 5']);
    t.deepEqual(ok, { code: 5, stdout: 'out\n', stderr: 'err\n' });
    t.is(execStartFailure(ok.code, ok.stderr), undefined);
    const missing = await exec(['no-such-command']);
    t.is(execStartFailure(missing.code, missing.stderr)?.exitCode, 127);
    const notExecutable = await exec(['/etc/passwd']);
    t.is(execStartFailure(notExecutable.code, notExecutable.stderr)?.exitCode, 126);
  });
});

conmonTest('the ctl fifo: "2 0 0" makes conmon reopen a rotated log without losing lines', async (t) => {
  await withContainer(
    { args: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo n$i; sleep 0.02; done'] },
    async (c) => {
      await waitUntil(() => logLines(c.logPath).length >= 5);
      renameSync(c.logPath, `${c.logPath}.1`);
      await reopenLog(c.monitor.ctlPath);
      await waitUntil(() => existsSync(c.logPath) && logLines(c.logPath).length >= 5);
      await c.runc.kill(c.id, 'KILL');
      await waitForExit(c.exitDir, c.id);
      const numbers = [...logLines(`${c.logPath}.1`), ...logLines(c.logPath)].map(([, text]) =>
        Number(text.slice(1)),
      );
      t.deepEqual(
        numbers,
        numbers.map((_, i) => i + 1),
        'every line once, in order, across the two files',
      );
      // fully ended (a zombie or reaped): while exiting, the kernel drops its cmdline before its fds
      await waitUntil(() => !monitorAlive(c.conmonPidFile) && processEnded(c.monitor.monitorPid));
      await t.throwsAsync(reopenLog(c.monitor.ctlPath), { message: /conmon is not running/ });
      await t.throwsAsync(resizeTerminal(c.monitor.ctlPath, 0, 80), { message: /invalid terminal rows/ });
    },
  );
});

conmonTest(
  'a container with a terminal: its output is logged as stdout, its exit code recorded',
  async (t) => {
    await withContainer(
      { args: ['sh', '-c', 'echo hi; [ -t 1 ] && echo on-a-tty; exit 4'], tty: true, stdin: true },
      async (c) => {
        t.is(await waitForExit(c.exitDir, c.id), 4);
        // the terminal's line discipline turns \n into \r\n; conmon keeps the \r
        t.deepEqual(logLines(c.logPath), [
          ['stdout', 'hi\r'],
          ['stdout', 'on-a-tty\r'],
        ]);
      },
    );
  },
);
