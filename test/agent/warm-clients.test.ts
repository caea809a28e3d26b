// The agent's pool of warm tsnetctl processes (pkg/agent/warm-clients.ts) with fake warm processes: each takes
// a connection, answers with its pid, and says it is ready again after the time the caller asked for (the
// length of "its command"). What the pool does with one that comes back, one busy for long, and a front that
// finds none ready.
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { Registry } from 'prom-client';
import { WarmClientService } from '../../pkg/agent/warm-clients.ts';
import { warmSocketOf } from '../../pkg/ctl/warm-protocol.ts';
import { silentLogger } from '../../pkg/log/index.ts';
import { childrenOf } from '../helpers/processes.ts';
import { withTempDir } from '../helpers/tmp.ts';

const FAKE_WARM = `
process.on('message', (message, socket) => {
  if (message !== 'tsnetctl-client' || !socket) return;
  socket.once('data', (data) => {
    const busyMs = Number(String(data).trim());
    socket.end(process.pid + '\\n');
    setTimeout(() => process.send('tsnetctl-ready'), busyMs);
  });
  socket.resume();
});
process.send('tsnetctl-ready');
`;

interface Pool {
  service: WarmClientService;
  /** a front's call: what the pool's process (or the agent) answered */
  call(busyMs: number): Promise<string>;
  /** the fake warm processes alive */
  processes(): number[];
}

async function withPool(fn: (pool: Pool) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const launcher = join(dir, 'fake-warm.cjs');
    writeFileSync(launcher, FAKE_WARM);
    const apiSocket = join(dir, 'tsnet.sock');
    const service = new WarmClientService({ apiSocket, launcher, count: 1 });
    service.registerMetrics(new Registry());
    const processes = () =>
      childrenOf(process.pid)
        .filter((c) => c.cmdline.includes(launcher))
        .map((c) => c.pid);
    const call = (busyMs: number) =>
      new Promise<string>((resolve, reject) => {
        let text = '';
        const socket = connect(warmSocketOf(apiSocket));
        socket.on('error', reject);
        socket.on('data', (chunk) => (text += chunk.toString()));
        socket.on('close', () => resolve(text));
        socket.write(`${busyMs}\n`);
      });
    await service.start({
      signal: new AbortController().signal,
      log: silentLogger,
      status: { health: () => ({ healthy: true, live: true, services: {} }), registry: new Registry() },
      fatal: () => undefined,
    });
    try {
      await fn({ service, call, processes });
    } finally {
      await service.stop();
      await until(() => processes().length === 0);
    }
  });
}

async function until(done: () => boolean, what = 'the condition'): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if (done()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const warm = (pool: Pool) => pool.service.health()['warm'];

test.serial('a warm process that comes back serves the next calls: none is started beside it', async (t) => {
  await withPool(async (pool) => {
    await until(() => warm(pool) === 1, 'a ready warm process');
    const first = await pool.call(0);
    t.regex(first, /^\d+\n$/);
    // the next front comes before or after the first one is back: it waits for it, or finds it ready
    for (let i = 0; i < 5; i++) t.is(await pool.call(0), first);
    t.deepEqual(pool.processes(), [Number(first)], 'no replacement was started');
  });
});

test.serial(
  'one busy for long is replaced; a front meanwhile waits briefly, then is told none is ready; the surplus one ends when it comes back',
  async (t) => {
    await withPool(async (pool) => {
      await until(() => warm(pool) === 1, 'a ready warm process');
      const busy = Number(await pool.call(1500));
      t.true(busy > 0);
      // busy, not long yet: nothing ready, nothing started; the front waits for it to come back, in vain
      t.is(await pool.call(0), 'no no warm tsnetctl is ready\n');
      await until(() => warm(pool) === 1, 'a replacement for the busy one');
      const replacement = Number(await pool.call(0));
      t.not(replacement, busy);
      // back after its 1.5 s: one too many, it ends
      await until(() => !pool.processes().includes(busy), 'the surplus one to end');
      t.deepEqual(pool.processes(), [replacement]);
      t.is(Number(await pool.call(0)), replacement);
    });
  },
);
