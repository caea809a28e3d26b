// A created container started through its init's exec.fifo (the agent's runc start), against runc's own
// view of the container (runc state) and conmon's exit file.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { waitForExit } from '../../pkg/runtime/conmon.ts';
import { EXEC_FIFO, execFifoOf } from '../../pkg/runtime/exec-fifo.ts';
import { RuncError } from '../../pkg/runtime/runc.ts';
import { runFixtureContainer, whyContainersCannotRun } from '../helpers/container.ts';

const skipReason = whyContainersCannotRun({ conmon: true });
const fifoTest = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`exec fifo: ${skipReason}`, () => undefined);

fifoTest('a created container runs once its init is released; runc then sees it running', async (t) => {
  const c = await runFixtureContainer({ args: ['sh', '-c', 'echo started; exec sleep 30'], start: false });
  try {
    t.is((await c.runc.state(c.id))?.status, 'created');
    const fifo = execFifoOf(c.runc.root, c.id);
    t.is(fifo, join(c.runc.root, c.id, EXEC_FIFO));
    await c.runc.start(c.id, { initPid: c.monitor.pid });
    t.false(existsSync(join(c.runc.root, c.id, EXEC_FIFO)), 'the fifo is removed, as runc start does');
    t.is((await c.runc.state(c.id))?.status, 'running');
    for (let i = 0; i < 100 && !readFileSync(c.logPath, 'utf8').includes('started'); i++) await sleep(20);
    t.regex(readFileSync(c.logPath, 'utf8'), /started/);
    // started already: no fifo, so runc start answers, with runc's refusal
    t.is(execFifoOf(c.runc.root, c.id), undefined);
    await t.throwsAsync(c.runc.start(c.id, { initPid: c.monitor.pid }), { instanceOf: RuncError });
  } finally {
    await c.cleanup();
  }
});

fifoTest('a process that ends at once after its release still counts as started', async (t) => {
  const c = await runFixtureContainer({ args: ['sh', '-c', 'exit 4'], start: false });
  try {
    await c.runc.start(c.id, { initPid: c.monitor.pid });
    t.is(await waitForExit(c.exitDir, c.id), 4);
  } finally {
    await c.cleanup();
  }
});

fifoTest('an init killed before its start: the start fails with the reason, not a hang', async (t) => {
  const c = await runFixtureContainer({ args: ['true'], start: false });
  try {
    process.kill(c.monitor.pid, 'SIGKILL');
    const err = await t.throwsAsync(c.runc.start(c.id, { initPid: c.monitor.pid }), {
      instanceOf: RuncError,
    });
    t.regex(err?.message ?? '', /ended before its start/);
  } finally {
    await c.cleanup();
  }
});
