// attachToMonitor against real conmon + runc busybox containers: stdout and stderr arrive apart and in
// order, stdin reaches the process, the connection ends when the process does; a terminal container (run
// -it) has its size from the spec before the first byte and follows resizes through conmon's fifo.
// Needs `npm run build` (the attach relay in dist/libexec).
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { AttachError, attachToMonitor } from '../../pkg/runtime/attach.ts';
import { resizeTerminal, waitForExit } from '../../pkg/runtime/conmon.ts';
import { type FixtureContainer, runFixtureContainer } from '../helpers/container.ts';
import { readAll, readUntil, whyAttachCannotRun } from '../helpers/stdio.ts';

const skipReason = whyAttachCannotRun();
const attachTest = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`attach: ${skipReason}`, () => undefined);

async function withContainer(
  opts: Parameters<typeof runFixtureContainer>[0],
  fn: (ctr: FixtureContainer) => Promise<void>,
): Promise<void> {
  const ctr = await runFixtureContainer(opts);
  try {
    await fn(ctr);
  } finally {
    await ctr.cleanup();
  }
}

attachTest('attach sees stdout and stderr apart, writes stdin, and ends with the process', async (t) => {
  await withContainer(
    {
      args: ['sh', '-c', 'echo out; echo err >&2; read line; echo "got $line"; echo bye >&2; exit 5'],
      stdin: true,
      start: false,
    },
    async (ctr) => {
      // attached before the start: nothing the process writes is missed
      const a = await attachToMonitor(ctr.monitor.attachPath);
      const stdout = readAll(a.stdout);
      const stderr = readAll(a.stderr);
      const firstLine = readUntil(a.stdout, /out\n/);
      await ctr.runc.start(ctr.id);
      await firstLine;
      a.stdin.write('typed\n');
      t.is(await stdout, 'out\ngot typed\n');
      t.is(await stderr, 'err\nbye\n');
      await a.closed;
      // conmon writes the exit file right after it closed its clients
      t.is(await waitForExit(ctr.exitDir, ctr.id), 5);
    },
  );
});

attachTest('cat echoes what an attached client types', async (t) => {
  await withContainer({ args: ['cat'], stdin: true }, async (ctr) => {
    const a = await attachToMonitor(ctr.monitor.attachPath);
    a.stdin.write('hello\n');
    t.is(await readUntil(a.stdout, /hello\n/), 'hello\n');
    a.stdin.write('again\n');
    t.is(await readUntil(a.stdout, /again\n/), 'again\n');
    a.close();
    await a.closed;
  });
});

attachTest('a terminal container has its size before the first byte and follows resizes', async (t) => {
  await withContainer(
    {
      args: ['sh', '-c', 'stty size; read line; stty size; exit 0'],
      tty: true,
      stdin: true,
      consoleSize: { height: 30, width: 100 },
      start: false,
    },
    async (ctr) => {
      const stty = join(ctr.bundleDir, 'rootfs', 'bin', 'stty');
      if (!existsSync(stty)) symlinkSync('busybox', stty);
      const a = await attachToMonitor(ctr.monitor.attachPath);
      await ctr.runc.start(ctr.id);
      t.is(await readUntil(a.stdout, /\r\n/), '30 100\r\n');
      await resizeTerminal(ctr.monitor.ctlPath, 40, 120);
      a.stdin.write('go\r');
      t.regex(await readUntil(a.stdout, /40 120\r\n/), /40 120\r\n$/);
      await a.closed;
    },
  );
});

attachTest('attaching to a socket nobody serves is a clear error', async (t) => {
  await t.throwsAsync(attachToMonitor('/nonexistent-dir/attach'), {
    instanceOf: AttachError,
    message: /cannot attach to \/nonexistent-dir\/attach: open \/nonexistent-dir\/attach: No such file/,
  });
});
