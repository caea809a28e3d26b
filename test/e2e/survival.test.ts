// What survives and what does not, end to end through tsnetctl against a real agent: containers outlive an
// agent SIGKILL (same PID, the log grows, an exit meanwhile is shown with its code), `rm -f` leaves nothing
// behind, and refused requests (a taken port, exec in a stopped container, a bad signal) are one line with
// docker's exit code and leave nothing. (bad-input.test.ts has -m 12x, an unknown network and image.)
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { pollUntil } from '../../pkg/cluster/exec.ts';
import { assertOneLineError } from '../ctl/cli.ts';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { type Engine, TEST_IMAGE, withEngine } from '../helpers/engine.ts';

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`tsnetctl survival end to end (${skip})`, () => undefined);

const field = async (e: Engine, template: string, container: string): Promise<string> =>
  (await e.ok('inspect', '--format', template, container)).trim();

const statusOf = async (e: Engine, name: string): Promise<string> =>
  (await e.ok('ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Status}}')).trim();

/** Whether `pid` is a live process (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const grows = (path: string) => {
  const before = statSync(path).size;
  return pollUntil(`${path} grows`, async () => (statSync(path).size > before ? true : undefined), {
    timeoutMs: 30_000,
  });
};

e2e(
  'the agent SIGKILLed: containers keep their PID and log; the new agent shows them Up, or Exited (N)',
  async (t) => {
    await withEngine(t, async (e) => {
      await e.ok(
        ...['run', '-d', '--name', 'ticker', '--network', 'none', TEST_IMAGE],
        ...['sh', '-c', 'while true; do echo tick; sleep 0.2; done'],
      );
      // ends with 7 once the file exists: made while no agent watches
      await e.ok(
        ...['run', '-d', '--name', 'quitter', '--network', 'none', TEST_IMAGE],
        ...['sh', '-c', 'while [ ! -e /go ]; do sleep 0.1; done; exit 7'],
      );
      const pid = Number(await field(e, '{{.State.Pid}}', 'ticker'));
      const quitterPid = Number(await field(e, '{{.State.Pid}}', 'quitter'));
      const log = await field(e, '{{.LogPath}}', 'ticker');

      e.agent.child.kill('SIGKILL');
      await e.agent.exited;
      try {
        t.true(alive(pid), 'the container runs on without the agent');
        await grows(log);
        writeFileSync(`/proc/${quitterPid}/root/go`, '');
        await pollUntil('quitter ends', async () => (alive(quitterPid) ? undefined : true), {
          timeoutMs: 30_000,
        });
      } finally {
        await e.restart(); // also after a failure: the teardown removes the containers through it
      }
      t.is(Number(await field(e, '{{.State.Pid}}', 'ticker')), pid, 'the same process');
      t.regex(await statusOf(e, 'ticker'), /^Up /);
      t.regex(await statusOf(e, 'quitter'), /^Exited \(7\) /);
      t.is(await field(e, '{{.State.ExitCode}}', 'quitter'), '7');
      await grows(log);
      // the new agent still drives it: its logs, and its end
      t.is(await e.ok('logs', '--tail', '1', 'ticker'), 'tick\n');
      await e.ok('kill', 'ticker');
      t.is(await e.ok('wait', 'ticker'), '137\n');
      // what the new agent removes is gone too: no rootfs mount stays behind
      for (const name of ['ticker', 'quitter']) {
        const id = await field(e, '{{.Id}}', name);
        await e.ok('rm', '-f', name);
        t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes(id), `${name}: no mount left`);
      }
    });
  },
);

e2e(
  'rm -f of a running container on the bridge leaves no netns, mount, cgroup, conmon or bundle',
  async (t) => {
    await withEngine(t, async (e) => {
      const id = (await e.ok('run', '-d', '-m', '64m', TEST_IMAGE, 'busybox', 'sleep', '1000')).trim();
      const conmonPid = Number(readFileSync(join(e.dir, 'run', 'containers', id, 'conmon.pid'), 'utf8'));
      const pid = Number(await field(e, '{{.State.Pid}}', id));
      const cgroups = readdirSync('/sys/fs/cgroup')
        .map((h) => `/sys/fs/cgroup/${h}/tsnet/${id}`)
        .filter((p) => existsSync(p));
      t.true(cgroups.length > 0, 'the container has cgroups while it runs');
      t.true(existsSync(join(e.dir, 'run', 'netns', id)));

      t.is(await e.ok('rm', '-f', id), `${id}\n`);
      t.false(existsSync(join(e.dir, 'run', 'netns', id)), 'netns');
      t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes(id), 'mounts');
      t.deepEqual(
        cgroups.filter((p) => existsSync(p)),
        [],
        'cgroups',
      );
      t.false(alive(pid), 'container process');
      t.false(
        alive(conmonPid) && readFileSync(`/proc/${conmonPid}/cmdline`, 'utf8').includes('conmon'),
        'conmon',
      );
      t.false(existsSync(join(e.dir, 'run', 'containers', id)), 'bundle');
      t.false(existsSync(join(e.dir, 'data', 'containers', id)), 'record and log');
      t.is(await e.ok('ps', '-aq'), '');
    });
  },
);

e2e(
  'refused: a taken port, exec in a stopped container, a bad signal: one line, exit code, nothing left',
  async (t) => {
    await withEngine(t, async (e) => {
      await e.ok('run', '-d', '--name', 'first', '-p', '18081:80', TEST_IMAGE, 'busybox', 'sleep', '1000');
      const taken = await e.ctl(
        'run',
        '-d',
        '--name',
        'second',
        '-p',
        '18081:80',
        TEST_IMAGE,
        'busybox',
        'sleep',
        '1000',
      );
      assertOneLineError(t, taken, /port is already allocated/);
      t.is(taken.code, 125);
      // the refused one left no container, no netns, no run dir
      t.is((await e.ok('ps', '-a', '--format', '{{.Names}}')).trim(), 'first');
      const firstId = await field(e, '{{.Id}}', 'first');
      t.deepEqual(readdirSync(join(e.dir, 'run', 'netns')), [firstId]);
      const runDirs = () => readdirSync(join(e.dir, 'run', 'containers')).filter((n) => !n.startsWith('.'));
      t.deepEqual(runDirs(), [firstId]);
      // and the port still belongs to the first
      t.is(await e.ok('port', 'first'), '80/tcp -> 0.0.0.0:18081\n');

      const badSignal = await e.ctl('kill', '-s', 'SIGNOPE', 'first');
      assertOneLineError(t, badSignal, /^Error response from daemon: .*SIGNOPE/);
      t.is(badSignal.code, 1);
      t.regex(await statusOf(e, 'first'), /^Up /, 'a bad signal kills nothing');

      await e.ok('stop', '-t', '0', 'first');
      const exec = await e.ctl('exec', 'first', 'busybox', 'true');
      assertOneLineError(t, exec, /^Error response from daemon: Container [0-9a-f]+ is not running$/m);
      t.is(exec.code, 125);
      const execs = runDirs().filter((n) => n !== firstId);
      t.deepEqual(execs, [], 'no exec session dir left');
    });
  },
);
