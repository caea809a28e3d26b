// exec in a real busybox container under conmon: exit codes (0, the command's own, 126, 127), stdout and
// stderr apart, stdin, -u/-w/-e, -d; with a terminal: the size from the first byte, resize, Ctrl-C.
// Needs `npm run build` (the attach relay in dist/libexec).
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import anyTest, { type TestFn } from 'ava';
import { attachRelayPath } from '../../pkg/runtime/attach.ts';
import { type ExecOptions, type ExecSession, startExec } from '../../pkg/runtime/exec.ts';
import { type FixtureContainer, runFixtureContainer, whyContainersCannotRun } from '../helpers/container.ts';

const test = anyTest as TestFn<{ ctr: FixtureContainer }>;

function whySkip(): string | undefined {
  const reason = whyContainersCannotRun({ conmon: true });
  if (reason) return reason;
  try {
    attachRelayPath();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}
const skipReason = whySkip();
const execTest = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`exec: ${skipReason}`, () => undefined);

test.before(async (t) => {
  if (skipReason) return;
  const ctr = await runFixtureContainer({ args: ['sleep', '1000'] });
  const stty = join(ctr.bundleDir, 'rootfs', 'bin', 'stty');
  if (!existsSync(stty)) symlinkSync('busybox', stty);
  t.context.ctr = ctr;
});

test.after.always(async (t) => {
  await t.context.ctr?.cleanup();
});

function target(ctr: FixtureContainer) {
  return {
    id: ctr.id,
    bundleDir: ctr.bundleDir,
    rootfs: join(ctr.bundleDir, 'rootfs'),
    runtime: { root: ctr.runc.root },
  };
}

async function collect(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += (chunk as Buffer).toString('utf8');
  return text;
}

async function execToEnd(ctr: FixtureContainer, opts: ExecOptions, input?: string) {
  const session = await startExec(target(ctr), opts);
  if (input !== undefined) session.stdin?.end(input);
  const [stdout, stderr, exit] = await Promise.all([
    collect(session.stdout),
    collect(session.stderr),
    session.exit,
  ]);
  return { stdout, stderr, ...exit };
}

execTest('exec exits with the command exit code and keeps stdout and stderr apart', async (t) => {
  const { ctr } = t.context;
  t.like(await execToEnd(ctr, { cmd: ['true'] }), { exitCode: 0, stdout: '', stderr: '' });
  t.like(await execToEnd(ctr, { cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'] }), {
    exitCode: 3,
    stdout: 'out\n',
    stderr: 'err\n',
  });
});

execTest('exec answers 127 for a missing command and 126 for one that cannot run', async (t) => {
  const { ctr } = t.context;
  const missing = await execToEnd(ctr, { cmd: ['no-such-command'] });
  t.is(missing.exitCode, 127);
  t.regex(missing.error ?? '', /no-such-command.*not found/);
  const notExecutable = await execToEnd(ctr, { cmd: ['/etc/passwd'] });
  t.is(notExecutable.exitCode, 126);
  t.regex(notExecutable.error ?? '', /permission denied/);
  // a process's own 255 is not mistaken for a failure of runc
  t.like(await execToEnd(ctr, { cmd: ['sh', '-c', 'exit 255'] }), { exitCode: 255, error: undefined });
  // the same codes with a terminal
  t.is((await execToEnd(ctr, { cmd: ['no-such-command'], tty: true })).exitCode, 127);
});

execTest('exec applies -u, -w and -e and passes stdin with -i', async (t) => {
  const { ctr } = t.context;
  const run = await execToEnd(ctr, {
    cmd: ['sh', '-c', 'echo "$(id -u):$(id -g) $(pwd) $FOO $HOME"'],
    user: 'app',
    workingDir: '/tmp',
    env: ['FOO=bar'],
  });
  t.is(run.stdout, '1000:1000 /tmp bar /home/app\n');
  t.like(await execToEnd(ctr, { cmd: ['cat'], stdin: true }, 'typed\n'), { exitCode: 0, stdout: 'typed\n' });
  await t.throwsAsync(startExec(target(ctr), { cmd: ['true'], user: 'nobody-here' }), {
    message: /unable to find user nobody-here/,
  });
});

execTest('exec -d returns once the process runs and leaves it running', async (t) => {
  const { ctr } = t.context;
  const session = await startExec(target(ctr), {
    cmd: ['sh', '-c', 'echo done > /tmp/detached'],
    detach: true,
  });
  t.regex(session.id, /^[0-9a-f]{64}$/);
  t.is((await session.exit).exitCode, 0);
  t.like(await execToEnd(ctr, { cmd: ['cat', '/tmp/detached'] }), { stdout: 'done\n' });
});

/** Reads a terminal's output until `pattern` shows. */
function waitForOutput(session: ExecSession, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (pattern.test(text)) {
        session.stdout.off('data', onData);
        resolve(text);
      }
    };
    session.stdout.on('data', onData);
    session.stdout.once('end', () =>
      reject(new Error(`output ended before ${pattern}: ${JSON.stringify(text)}`)),
    );
  });
}

execTest('exec -t has the client size from the first byte, resizes, and Ctrl-C interrupts', async (t) => {
  const { ctr } = t.context;
  const session = await startExec(target(ctr), {
    cmd: ['sh', '-c', 'stty size; read line; stty size; sleep 100'],
    tty: true,
    stdin: true,
    size: { rows: 30, cols: 100 },
  });
  const first = await waitForOutput(session, /\r\n/);
  t.is(first, '30 100\r\n', 'the very first output already sees the client size');
  await session.resize({ rows: 40, cols: 120 });
  session.stdin?.write('go\r');
  await waitForOutput(session, /40 120\r\n/);
  session.stdin?.write('\x03');
  t.is((await session.exit).exitCode, 130);
});
