// Log rotation live in the engine: --log-opt max-size/max-file rotate the log while the container writes,
// `logs` shows every line once and in order across the rotated files, and `logs -f` started before the
// rotations follows across them. A bad --log-opt is refused at create.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { pollUntil } from '../../pkg/cluster/exec.ts';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { TEST_IMAGE, withEngine } from '../helpers/engine.ts';

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`container logs end to end (${skip})`, () => undefined);

const LINES = 1500;
// ~100 bytes a line, in bursts: the log passes 16k many times while the container runs
const PRINTER = `echo ready; sleep 2; i=1; while [ $i -le ${LINES} ]; do echo "line $i $(printf '%0.sx' $(seq 1 80))"; if [ $((i % 50)) -eq 0 ]; then sleep 0.2; fi; i=$((i+1)); done`;

const expected = ['ready', ...Array.from({ length: LINES }, (_, i) => `line ${i + 1} ${'x'.repeat(80)}`)];

e2e(
  'max-size=16k rotates while the container writes: logs and logs -f show every line once, in order',
  async (t) => {
    await withEngine(t, async (e) => {
      const created = await e.ctl(
        'create',
        '--name',
        'printer',
        '--network',
        'none',
        '--log-opt',
        'max-size=16k',
        '--log-opt',
        'max-file=100',
        TEST_IMAGE,
        'sh',
        '-c',
        PRINTER,
      );
      t.is(created.code, 0, created.stderr);
      const id = created.stdout.trim();
      const started = await e.ctl('start', 'printer');
      t.is(started.code, 0, started.stderr);
      // logs -f following before the first rotation: the container prints "ready", then waits
      const follower = spawn(e.argv[0]!, [...e.argv.slice(1), 'logs', '-f', 'printer'], { stdio: 'pipe' });
      let followed = '';
      follower.stdout.setEncoding('utf8').on('data', (s: string) => {
        followed += s;
      });
      const followerDone = new Promise<number | null>((resolve) => follower.once('close', resolve));
      try {
        await pollUntil('logs -f to follow', async () => (followed.startsWith('ready\n') ? true : undefined));
        const waited = await e.ctl('wait', 'printer');
        t.is(waited.stdout.trim(), '0');
        const rotated = readdirSync(join(e.dir, 'data', 'containers', id)).filter((f) =>
          /^ctr\.log\.\d+$/.test(f),
        );
        t.true(rotated.length >= 3, `rotated files: ${rotated.join(' ')}`);
        const logs = await e.ctl('logs', 'printer');
        t.is(logs.code, 0, logs.stderr);
        t.deepEqual(logs.stdout.trimEnd().split('\n'), expected);
        // logs -f ends by itself when the container has exited
        t.is(await followerDone, 0);
        t.deepEqual(followed.trimEnd().split('\n'), expected);
      } finally {
        follower.kill('SIGINT');
        await followerDone;
      }
    });
  },
);

e2e('a bad --log-opt is refused at create with one line, nothing created', async (t) => {
  await withEngine(t, async (e) => {
    for (const opt of ['max-size=12x', 'max-file=0', 'colour=blue']) {
      const r = await e.ctl('create', '--network', 'none', '--log-opt', opt, TEST_IMAGE);
      t.not(r.code, 0, opt);
      t.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      t.notRegex(r.stderr, /\n\s+at /);
    }
    t.is((await e.ctl('ps', '-aq')).stdout, '');
  });
});
