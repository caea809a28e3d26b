// tsnetctl run, create, start and attach against a real agent: a daemon error while the session is attached
// (the start failing) ends with one line and docker's exit code, never a stack trace; a foreground `run -i`
// closes the container's stdin when ours ends (Docker's StdinOnce), a detached one keeps it open.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import test from 'ava';
import { pollUntil } from '../../pkg/cluster/exec.ts';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { TEST_IMAGE, withEngine } from '../helpers/engine.ts';

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`tsnetctl run end to end (${skip})`, () => undefined);

e2e('run of a command that is not found: one line, exit 127 as docker, no stack trace', async (t) => {
  await withEngine(t, async (e) => {
    for (const args of [
      ['run', '--network', 'none', TEST_IMAGE, '/no/such/command'],
      ['run', '-i', '--network', 'none', TEST_IMAGE, '/no/such/command'],
    ]) {
      const r = await e.ctl(...args);
      t.is(r.code, 127, `exit ${r.code}: ${r.stderr}`);
      t.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      t.notRegex(r.stderr, /\n\s+at /);
      t.regex(r.stderr, /^Error response from daemon: /);
    }
  });
});

e2e(
  'run -i without -d: the container stdin ends with ours (StdinOnce), so `echo hi | run -i IMG cat` ends',
  async (t) => {
    await withEngine(t, async (e) => {
      const r = await e.ctlWithInput(
        'hi\n',
        'run',
        '-i',
        '--rm',
        '--network',
        'none',
        TEST_IMAGE,
        'busybox',
        'cat',
      );
      t.is(r.code, 0, r.stderr);
      t.is(r.stdout, 'hi\n');
      t.is(r.stderr, '');
      // a command that reads to the end of stdin and then goes on: its exit code is still run's
      const counted = await e.ctlWithInput(
        'a\nb\nc\n',
        ...['run', '-i', '--network', 'none', TEST_IMAGE, 'sh', '-c', 'wc -l; exit 5'],
      );
      t.is(counted.code, 5, counted.stderr);
      t.is(counted.stdout.trim(), '3');
    });
  },
);

e2e('create -i, then start -a -i: our stdin reaches the container and its end ends it', async (t) => {
  await withEngine(t, async (e) => {
    const created = await e.ctl(
      'create',
      '-i',
      '--name',
      'once',
      '--network',
      'none',
      TEST_IMAGE,
      'busybox',
      'cat',
    );
    t.is(created.code, 0, created.stderr);
    const inspected = JSON.parse((await e.ctl('inspect', 'once')).stdout) as [
      { Config: { OpenStdin: boolean; StdinOnce: boolean } },
    ];
    t.like(inspected[0]?.Config, { OpenStdin: true, StdinOnce: true });
    const r = await e.ctlWithInput('from start\n', 'start', '-a', '-i', 'once');
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'from start\n');
  });
});

e2e('run -d -i keeps stdin open across attaches; attach refuses a stopped container', async (t) => {
  await withEngine(t, async (e) => {
    const run = await e.ctl(
      'run',
      '-d',
      '-i',
      '--name',
      'kept',
      '--network',
      'none',
      TEST_IMAGE,
      'busybox',
      'cat',
    );
    t.is(run.code, 0, run.stderr);
    // an attach whose input ends leaves the container's stdin open: cat still runs for the next one
    for (const word of ['first', 'second']) {
      const attach = spawn(e.argv[0]!, [...e.argv.slice(1), 'attach', 'kept'], { stdio: 'pipe' });
      let seen = '';
      attach.stdout.setEncoding('utf8').on('data', (s: string) => {
        seen += s;
      });
      attach.stdin.end(`${word}\n`);
      await pollUntil(`${word} echoed`, async () => (seen.includes(word) ? true : undefined), {
        timeoutMs: 30_000,
      });
      attach.kill('SIGKILL');
      await once(attach, 'close');
    }
    const logs = await e.ctl('logs', 'kept');
    t.is(logs.stdout, 'first\nsecond\n');
    const state = JSON.parse((await e.ctl('inspect', 'kept')).stdout) as [
      { State: { Running: boolean }; Config: { StdinOnce: boolean } },
    ];
    t.true(state[0]?.State.Running, 'cat still reads its open stdin');
    t.false(state[0]?.Config.StdinOnce);

    t.is((await e.ctl('stop', '-t', '0', 'kept')).code, 0);
    const stopped = await e.ctl('attach', 'kept');
    t.is(stopped.code, 1);
    t.is(stopped.stderr, 'tsnetctl: You cannot attach to a stopped container, start it first\n');
  });
});

e2e('start -a of an exited container attaches to its new run: its output and exit code', async (t) => {
  await withEngine(t, async (e) => {
    const first = await e.ctl(
      'run',
      '--name',
      'again',
      '--network',
      'none',
      TEST_IMAGE,
      'sh',
      '-c',
      'echo run; exit 3',
    );
    t.is(first.code, 3, first.stderr);
    t.is(first.stdout, 'run\n');
    const again = await e.ctl('start', '-a', 'again');
    t.is(again.code, 3, again.stderr);
    t.is(again.stdout, 'run\n', 'only the new run, not the log of the first');
  });
});
