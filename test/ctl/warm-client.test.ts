// The native tsnetctl (dist/bin/tsnetctl) handing its invocations to the agent's warm tsnetctl processes, end to
// end against a real agent: the warm one is the client (its stdio the caller's own open files, its argv,
// environment, working directory, exit code, signals), and every case it cannot take runs the Node tsnetctl
// instead, with the same result. TSNET_CTL_DEBUG makes the front say which path it took.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { TITLE_READY } from '../../pkg/ctl/warm-client.ts';
import { type Engine, TEST_IMAGE, withEngine } from '../helpers/engine.ts';
import { withNetnses } from '../helpers/netns.ts';
import { childrenOf } from '../helpers/processes.ts';
import { resizeThenInterrupt, terminalSizeScript, tmuxMissing, withTmux } from '../helpers/tmux.ts';
import { type Outcome, outcome } from './cli.ts';

const FRONT = resolve(import.meta.dirname, '../../dist/bin/tsnetctl');
const SERVED = /^tsnetctl: served by the warm tsnetctl, pid (\d+)\n/;

interface Warm {
  engine: Engine;
  netnsPath: string;
  /** argv of the native tsnetctl in the agent's namespace, -H its socket */
  argv: string[];
  /** the front with TSNET_CTL_DEBUG, its first stderr line (the path it took) split off */
  run(
    args: readonly string[],
    opts?: { env?: NodeJS.ProcessEnv; cwd?: string },
  ): Promise<Outcome & { path: string }>;
}

function withWarmAgent(t: ExecutionContext, fn: (w: Warm) => Promise<void>): Promise<void> {
  if (!existsSync(FRONT)) throw new Error(`${FRONT} missing: npm run build`);
  return withNetnses('warm', 1, ([ns]) =>
    withEngine(
      t,
      async (engine) => {
        const netnsPath = ns!.path;
        const argv = ['nsenter', `--net=${netnsPath}`, FRONT, '-H', `unix://${engine.agent.socket}`];
        const run: Warm['run'] = async (args, opts = {}) => {
          const env = { ...process.env, TSNET_CTL_DEBUG: '1', ...opts.env };
          const r = await outcomeIn(argv, args, env, opts.cwd);
          const nl = r.stderr.indexOf('\n');
          return { ...r, path: r.stderr.slice(0, nl + 1), stderr: r.stderr.slice(nl + 1) };
        };
        await fn({ engine, netnsPath, argv, run });
      },
      { netnsPath: ns!.path, agentArgs: ['--warm-clients', '2'] },
    ),
  );
}

function outcomeIn(argv: readonly string[], args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string) {
  if (!cwd) return outcome(argv[0]!, [...argv.slice(1), ...args], env);
  return outcome('sh', ['-c', 'cd "$0" && exec "$@"', cwd, ...argv, ...args], env);
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

/** Waits until the agent has `count` warm tsnetctl processes ready (their title says so); returns how many are. */
async function warmReady(engine: Engine, count = 2): Promise<number> {
  const agentPid = engine.agent.child.pid;
  const ready = () =>
    agentPid ? childrenOf(agentPid).filter((c) => c.cmdline.startsWith(TITLE_READY)).length : 0;
  for (let i = 0; i < 600 && ready() < count; i++) await new Promise((r) => setTimeout(r, 50));
  return ready();
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

test.serial(
  'served warm: the same output and exit codes as the Node tsnetctl, stdout and stderr apart',
  async (t) => {
    await withWarmAgent(t, async ({ engine, run }) => {
      const id = (
        await engine.ok('run', '-d', '--name', 'w1', TEST_IMAGE, '/bin/busybox', 'sleep', '1000')
      ).trim();
      const warm = await run(['ps', '-q', '--no-trunc']);
      t.regex(warm.path, SERVED, warm.stderr);
      t.is(warm.code, 0);
      t.is(warm.stdout, `${id}\n`);
      const cold = await run(['ps', '-q', '--no-trunc'], { env: { TSNET_CTL_NO_WARM: '1' } });
      t.regex(cold.path, /running the Node tsnetctl: TSNET_CTL_NO_WARM is set/);
      t.is(cold.stdout, warm.stdout);

      await warmReady(engine);
      const exited = await run(['exec', 'w1', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
      t.regex(exited.path, SERVED);
      t.is(exited.code, 7);
      t.is(exited.stdout, 'out\n');
      t.is(exited.stderr, 'err\n');

      await warmReady(engine);
      const missing = await run(['inspect', 'no-such-thing']);
      t.regex(missing.path, SERVED);
      t.is(missing.code, 1);
      t.regex(missing.stderr, /no-such-thing/);
    });
  },
);

test.serial(
  'served warm: the caller’s open files, stdin, working directory, environment and umask',
  async (t) => {
    await withWarmAgent(t, async ({ engine, argv }) => {
      await engine.ok('run', '-d', '--name', 'w2', TEST_IMAGE, '/bin/busybox', 'sleep', '1000');
      const dir = engine.dir;
      writeFileSync(join(dir, 'vars'), 'FROM_FILE=1\n');
      // appended to a file the shell opened with O_APPEND, after what it wrote itself: the same open file
      const script = [
        'cd "$1" && shift',
        'echo first > out',
        'printf "line1\\nline2\\n" | "$@" exec -i w2 /bin/busybox cat >> out',
        `"$@" run --rm --env-file vars -e FROM_ENV "$IMAGE" sh -c 'echo $FROM_FILE-$FROM_ENV' >> out`,
        'umask 077; "$@" save -o saved.tar "$IMAGE" && stat -c %a saved.tar >> out',
      ].join('\n');
      const env = { ...process.env, TSNET_CTL_DEBUG: '1', FROM_ENV: 'env', IMAGE: TEST_IMAGE };
      await warmReady(engine);
      const r = await outcome('sh', ['-c', script, 'sh', dir, ...argv], env);
      t.is(r.code, 0, r.stderr);
      t.is((r.stderr.match(/served by the warm tsnetctl/g) ?? []).length, 3, r.stderr);
      t.is(readFileSync(join(dir, 'out'), 'utf8'), 'first\nline1\nline2\n1-env\n600\n');
    });
  },
);

test.serial(
  'not served warm, the same result: another network namespace, Node variables, no warm socket',
  async (t) => {
    await withWarmAgent(t, async ({ engine, run }) => {
      // from the test's own namespace: the socket is reachable, the peer is refused, the Node tsnetctl runs
      const elsewhere = await outcome(
        FRONT,
        ['-H', `unix://${engine.agent.socket}`, 'version', '--format', '{{.Server.Version}}'],
        {
          ...process.env,
          TSNET_CTL_DEBUG: '1',
        },
      );
      t.regex(elsewhere.stderr, /running the Node tsnetctl: peer pid \d+ runs in another net namespace/);
      t.is(elsewhere.code, 0, elsewhere.stderr);
      const nodeOptions = await run(['version', '--format', '{{.Server.Version}}'], {
        env: { NODE_OPTIONS: '--no-warnings' },
      });
      t.regex(
        nodeOptions.path,
        /running the Node tsnetctl: NODE_OPTIONS is not what this warm tsnetctl started with/,
      );
      t.is(nodeOptions.stdout, elsewhere.stdout);
      const noSocket = await run(['-H', 'unix:///nonexistent/tsnet.sock', 'ps']);
      t.regex(noSocket.path, /no warm tsnetctl at \/nonexistent\/tsnet\.sock\.ctl/);
      t.is(noSocket.code, 1);
      t.regex(noSocket.stderr, /cannot connect to the tsnet agent/);
    });
  },
);

test.serial(
  'one warm process serves command after command, each its own: output, exit code, environment, directory, umask',
  async (t) => {
    await withWarmAgent(t, async ({ engine, argv, run }) => {
      await engine.ok('run', '-d', '--name', 'w5', TEST_IMAGE, '/bin/busybox', 'sleep', '1000');
      const pids: number[] = [];
      const served = (r: { path: string }) => {
        const pid = Number(SERVED.exec(r.path)?.[1]);
        t.true(pid > 0, r.path);
        pids.push(pid);
        return pid;
      };
      await warmReady(engine);
      // FOO as the container sees it (docker's -e FOO: the client's value, none when the client has none)
      const showFoo = (code: number) => [
        'exec',
        '-e',
        'FOO',
        'w5',
        '/bin/busybox',
        'sh',
        '-c',
        `echo "[$\{FOO-unset}]"; exit ${code}`,
      ];
      const first = await run(showFoo(4), { env: { FOO: 'one' } });
      served(first);
      t.deepEqual([first.code, first.stdout], [4, '[one]\n'], first.stderr);
      // the next ones: none sees the first one's variable, each has its own exit code
      for (const code of [0, 5, 0]) {
        const next = await run(showFoo(code));
        served(next);
        t.deepEqual([next.code, next.stdout], [code, '[unset]\n'], next.stderr);
      }
      t.true(new Set(pids).size < pids.length, `warm processes came back: ${pids.join(' ')}`);
      // files relative to each command's own directory, made with its own umask; a pipe's reader sees its end
      const dirs = ['a', 'b', 'c'].map((d) => join(engine.dir, d));
      const script = [
        'set -e; a=$1 b=$2 c=$3; shift 3',
        '(cd "$a" && umask 077 && "$@" save -o img.tar "$IMAGE")',
        '(cd "$b" && umask 022 && "$@" save -o img.tar "$IMAGE")',
        '(cd "$c" && "$@" version --format "{{.Server.Version}}" | cat > version)',
      ].join('\n');
      for (const d of dirs) mkdirSync(d);
      const env = { ...process.env, TSNET_CTL_DEBUG: '1', IMAGE: TEST_IMAGE };
      const r = await outcome('sh', ['-c', script, 'sh', ...dirs, ...argv], env);
      t.is(r.code, 0, r.stderr);
      t.is((r.stderr.match(/served by the warm tsnetctl/g) ?? []).length, 3, r.stderr);
      t.is(statSync(join(dirs[0]!, 'img.tar')).mode & 0o777, 0o600);
      t.is(statSync(join(dirs[1]!, 'img.tar')).mode & 0o777, 0o644);
      t.regex(readFileSync(join(dirs[2]!, 'version'), 'utf8'), /^\d+\.\d+\.\d+\n$/);

      // a command that made stdin is its process's last; the pool is whole again after it
      await warmReady(engine);
      const stdinRead = await outcome(
        'sh',
        ['-c', 'echo piped | "$@" exec -i w5 /bin/busybox cat', 'sh', ...argv],
        env,
      );
      t.is(stdinRead.stdout, 'piped\n', stdinRead.stderr);
      const reader = Number(SERVED.exec(stdinRead.stderr)?.[1]);
      t.true(reader > 0, stdinRead.stderr);
      t.true(await gone(reader), 'the process that read stdin ended');
      t.is(await warmReady(engine), 2);
    });
  },
);

/** The front started in the agent's namespace, with the pid of the warm process that serves it. */
async function startServed(w: Warm, args: string[]) {
  const child = spawn(w.argv[0]!, [...w.argv.slice(1), ...args], {
    env: { ...process.env, TSNET_CTL_DEBUG: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  // 'close': what the command wrote is all read by then ('exit' can come first)
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('close', (code, signal) => done({ code, signal })),
  );
  for (let i = 0; i < 200 && !SERVED.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
  const pid = Number(SERVED.exec(stderr)?.[1]);
  return { child, exit, pid, output: () => stdout, errors: () => stderr };
}

test.serial(
  "signals reach the warm process (and a run's container); a killed front takes its warm one along",
  async (t) => {
    await withWarmAgent(t, async (w) => {
      await w.engine.ok(
        'run',
        '-d',
        '--name',
        'w3',
        TEST_IMAGE,
        'sh',
        '-c',
        'while true; do echo tick; /bin/busybox sleep 0.1; done',
      );
      // SIGINT to the front: the warm run passes it to the container (docker's --sig-proxy), whose trap answers
      const trap = 'trap "echo got-INT; exit 3" INT; echo ready; while :; do /bin/busybox sleep 0.1; done';
      await warmReady(w.engine);
      const attached = await startServed(w, ['run', '--rm', TEST_IMAGE, 'sh', '-c', trap]);
      t.true(attached.pid > 0, attached.errors());
      for (let i = 0; i < 200 && !attached.output().includes('ready'); i++)
        await new Promise((r) => setTimeout(r, 50));
      attached.child.kill('SIGINT');
      t.deepEqual(await attached.exit, { code: 3, signal: null }, attached.errors());
      t.is(attached.output(), 'ready\ngot-INT\n');

      await warmReady(w.engine);
      const follow = await startServed(w, ['logs', '-f', 'w3']);
      t.true(follow.pid > 0, follow.errors());
      for (let i = 0; i < 100 && !follow.output().includes('tick'); i++)
        await new Promise((r) => setTimeout(r, 50));
      // the pool is whole again while the command the taken one became still runs
      t.is(await warmReady(w.engine), 2);
      t.true(alive(follow.pid), 'the log is still followed');
      follow.child.kill('SIGINT');
      t.deepEqual(
        await follow.exit,
        { code: null, signal: 'SIGINT' },
        'ends as the client would: by the signal',
      );
      t.true(await gone(follow.pid), 'the warm process that followed the log ended');

      await warmReady(w.engine);
      const killed = await startServed(w, ['logs', '-f', 'w3']);
      t.true(killed.pid > 0, killed.errors());
      killed.child.kill('SIGKILL');
      await killed.exit;
      t.true(await gone(killed.pid), 'the warm process of a killed front ended');
    });
  },
);

(tmuxMissing() ? test.skip : test.serial)(
  'exec -it served warm under tmux: the pane size from the first output, resize, Ctrl-C, exit code',
  async (t) => {
    await withWarmAgent(t, async (w) => {
      await w.engine.ok('run', '-d', '--name', 'w4', TEST_IMAGE, '/bin/busybox', 'sleep', '1000');
      await warmReady(w.engine);
      await withTmux(async (session) => {
        const { run: tmux, pane, eventually } = session;
        const script = terminalSizeScript('/bin/busybox ');
        // biome-ignore format: the command line as one list
        tmux('new-session', '-d', '-s', 'main', '-x', '100', '-y', '30',
          'env', 'TSNET_CTL_DEBUG=1', ...w.argv, 'exec', '-it', 'w4', 'sh', '-c', script);
        tmux('set-option', '-t', 'main', 'remain-on-exit', 'on');
        await eventually(() => (pane().includes('30 100') ? true : undefined), 'the first output');
        t.true(
          pane().some((l) => SERVED.test(`${l}\n`)),
          pane().join('\n'),
        );
        t.is(
          pane().find((l) => /^\d+ \d+$/.test(l)),
          '30 100',
          'the first size is the pane\u2019s',
        );
        await resizeThenInterrupt(session);
        const status = await eventually(() => {
          const shown = tmux('display-message', '-p', '-t', 'main', '#{pane_dead} #{pane_dead_status}');
          const [dead, code] = shown.trim().split(' ');
          return dead === '1' ? code : undefined;
        }, 'the exit');
        t.is(status, '130');
      });
    });
  },
);
