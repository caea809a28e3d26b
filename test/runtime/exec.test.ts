// exec in a real busybox container under conmon: exit codes (0, the command's own, 126, 127), stdout and
// stderr apart, stdin, -u/-w/-e, -d; with a terminal: the size from the first byte, resize, Ctrl-C.
// Needs `npm run build` (the attach relay in dist/libexec).
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import anyTest, { type TestFn } from 'ava';
import { type ExecOptions, execRootOf, startExec } from '../../pkg/runtime/exec.ts';
import { execTargetOf, type FixtureContainer, runFixtureContainer } from '../helpers/container.ts';
import { readAll, readUntil, whyAttachCannotRun } from '../helpers/stdio.ts';
import { resizeThenInterrupt, terminalSizeScript, tmuxMissing, withTmux } from '../helpers/tmux.ts';

const test = anyTest as TestFn<{ ctr: FixtureContainer }>;

const skipReason = whyAttachCannotRun();
const execTest = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`exec: ${skipReason}`, () => undefined);

test.before(async (t) => {
  if (skipReason) return;
  const ctr = await runFixtureContainer({ args: ['sleep', '1000'] });
  const stty = join(ctr.bundleDir, 'rootfs', 'bin', 'stty');
  if (!existsSync(stty)) symlinkSync('busybox', stty);
  t.context.ctr = ctr;
});

execTest("exec --privileged has every capability, a plain exec the container's", async (t) => {
  const { ctr } = t.context;
  const capEff = async (privileged: boolean) =>
    (await execToEnd(ctr, { cmd: ['grep', 'CapEff', '/proc/self/status'], privileged })).stdout.trim();
  // all the agent holds (root here lacks CAP_SYS_RESOURCE)
  const agentCaps = /^CapBnd:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  t.is(await capEff(true), `CapEff:\t${agentCaps}`);
  t.is(await capEff(false), 'CapEff:\t00000000a80425fb', "Docker's default set");
});

test.after.always(async (t) => {
  const { ctr } = t.context;
  try {
    // every session, attached or detached, removed its directory when it ended
    if (ctr && existsSync(execRootOf(ctr.bundleDir))) {
      t.deepEqual(readdirSync(execRootOf(ctr.bundleDir)), [], 'no exec session left behind');
    }
  } finally {
    await ctr?.cleanup();
  }
});

async function execToEnd(ctr: FixtureContainer, opts: ExecOptions, input?: string) {
  const session = await startExec(execTargetOf(ctr), opts);
  if (input !== undefined) session.stdin?.end(input);
  const [stdout, stderr, exit] = await Promise.all([
    readAll(session.stdout),
    readAll(session.stderr),
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
  await t.throwsAsync(startExec(execTargetOf(ctr), { cmd: ['true'], user: 'nobody-here' }), {
    message: /unable to find user nobody-here/,
  });
});

execTest('exec -d returns once the process runs and leaves it running', async (t) => {
  const { ctr } = t.context;
  const session = await startExec(execTargetOf(ctr), {
    cmd: ['sh', '-c', 'echo done > /tmp/detached'],
    detach: true,
  });
  t.regex(session.id, /^[0-9a-f]{64}$/);
  t.is((await session.exit).exitCode, 0);
  t.like(await execToEnd(ctr, { cmd: ['cat', '/tmp/detached'] }), { stdout: 'done\n' });
});

execTest('exec -t has the client size from the first byte, resizes, and Ctrl-C interrupts', async (t) => {
  const { ctr } = t.context;
  const session = await startExec(execTargetOf(ctr), {
    cmd: ['sh', '-c', 'stty size; read line; stty size; sleep 100'],
    tty: true,
    stdin: true,
    size: { rows: 30, cols: 100 },
  });
  const first = await readUntil(session.stdout, /\r\n/);
  t.is(first, '30 100\r\n', 'the very first output already sees the client size');
  await session.resize({ rows: 40, cols: 120 });
  session.stdin?.write('go\r');
  await readUntil(session.stdout, /40 120\r\n/);
  session.stdin?.write('\x03');
  t.is((await session.exit).exitCode, 130);
});

const TTY_CLIENT = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'exec-tty-client.ts');

const tmuxTest = skipReason || tmuxMissing() ? test.skip : test.serial;

tmuxTest('exec -it under tmux: the pane size from the first output, resize, Ctrl-C gives 130', async (t) => {
  const { ctr } = t.context;
  await withTmux(async (session) => {
    const { run: tmux, pane, eventually } = session;
    const resultFile = join(ctr.root, `tty-result-${randomBytes(4).toString('hex')}`);
    tmux(
      'new-session',
      '-d',
      '-s',
      'main',
      '-x',
      '100',
      '-y',
      '30',
      process.execPath,
      '--import',
      'tsx',
      TTY_CLIENT,
      resultFile,
      JSON.stringify(execTargetOf(ctr)),
      'sh',
      '-c',
      terminalSizeScript(),
    );
    tmux('set-option', '-t', 'main', 'remain-on-exit', 'on');
    const first = await eventually(() => pane()[0], 'the first output');
    t.is(first, '30 100', 'the first line the process printed already has the pane size');
    await resizeThenInterrupt(session);
    const result = await eventually(
      () => (existsSync(resultFile) ? readFileSync(resultFile, 'utf8').trim() || undefined : undefined),
      'the exit code',
    );
    t.is(result, '130');
  });
});
