// Warm tsnetctl processes, so the native tsnetctl (native/ctl-front) costs a connect instead of a Node start:
// the agent keeps `count` of them (the client loaded, waiting: pkg/ctl/warm-client.ts) and hands each
// connection on its warm socket (beside the API socket) to one of them, which then becomes that client. A
// warm process whose command left nothing behind comes back for the next connection; one that ends (its
// command did not, or it served its share) is replaced. One busy for longer than a short command is replaced
// at once (a `logs -f` holds it), and a surplus one that comes back ends. With none ready (a burst of calls,
// or while one starts) the front is told so and runs the Node tsnetctl itself, as it does without an agent.
// New ones start as SCHED_IDLE: they take the CPU the commands leave. The agent never reads a byte of a
// connection (the warm process checks its peer and request).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Counter, type Registry } from 'prom-client';
import { runEveryThreadAt, SCHED_IDLE, setSchedulingPolicy } from '../../native/libc.ts';
import { CLIENT_MESSAGE, READY_MESSAGE } from '../ctl/warm-client.ts';
import { NO_WARM_ENV, WARM_ENV, warmSocketOf } from '../ctl/warm-protocol.ts';
import type { Logger } from '../log/index.ts';
import { listenUnix } from '../unixsock/listen.ts';
import type { Service, ServiceHealth, StartContext } from './service.ts';

export interface WarmClientOptions {
  /** The agent's API socket: the warm socket is beside it. */
  readonly apiSocket: string;
  /** The Node tsnetctl's launcher (dist/libexec/tsnetctl-node). */
  readonly launcher: string;
  /** How many to keep ready (or starting). */
  readonly count: number;
}

/** sockaddr_un's sun_path, with its NUL (the native tsnetctl makes the same check). */
const SUN_PATH_MAX = 108;
/** Niceness of a warm process that cannot be SCHED_IDLE. */
const WARM_NICE = 19;
/** Warm processes that end before they are ready, in a row, before the pool stops replacing them. */
const MAX_FAILED_STARTS = 3;
/**
 * A warm process lives for many commands: V8's young generation capped at 1 MiB per semi-space, and the old
 * generation let grow 20% past what a full collection kept (as the agent's own, scripts/build.ts), so what a
 * burst of commands allocated is given back instead of kept until the process ends.
 */
const WARM_NODE_FLAGS = ['--max-semi-space-size=1', '--heap-growing-percent=20'];
/** How long a pool that stopped replacing waits before it tries again. */
const RETRY_AFTER_MS = 30_000;
/** A warm process busy for longer than this (a command that follows, streams, waits) is replaced. */
const LONG_BUSY_MS = 500;
/**
 * How long a front waits for a busy warm process to come back when none is ready: a short command's is back
 * within milliseconds of its front's end, sooner than the Node tsnetctl starts (~100 ms here).
 */
const RETURN_WAIT_MS = 50;

export class WarmClientService implements Service {
  readonly name = 'warm-clients';
  private readonly opts: WarmClientOptions;
  private readonly path: string;
  private server: Server | undefined;
  private log: Logger | undefined;
  private readonly ready: ChildProcess[] = [];
  private readonly starting = new Set<ChildProcess>();
  /** Those serving a front, each with its timer that stops counting it as coming back soon. */
  private readonly busy = new Map<ChildProcess, NodeJS.Timeout | undefined>();
  /** Fronts that wait for a busy one to come back, oldest first. */
  private readonly waiting: { socket: Socket; timer: NodeJS.Timeout }[] = [];
  /** A starting warm process a front waits for, and that front's connection. */
  private readonly awaited = new Map<ChildProcess, Socket>();
  private failedStarts = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private connections: Counter<'result'> | undefined;

  constructor(opts: WarmClientOptions) {
    this.opts = opts;
    this.path = warmSocketOf(opts.apiSocket);
  }

  registerMetrics(registry: Registry): void {
    this.connections = new Counter({
      name: 'tsnet_warm_client_calls_total',
      help: 'Calls of the native tsnetctl, by result: handed to a warm tsnetctl, or none ready (busy)',
      labelNames: ['result'] as const,
      registers: [registry],
    });
  }

  async start(ctx: StartContext): Promise<void> {
    this.log = ctx.log.child({ service: this.name });
    if (!existsSync(this.opts.launcher)) {
      // from the sources (no build): the front is not installed either
      this.log.info({ launcher: this.opts.launcher }, 'no built tsnetctl beside the agent: no warm clients');
      return;
    }
    if (Buffer.byteLength(this.path) >= SUN_PATH_MAX) {
      this.log.warn({ socket: this.path }, 'the warm tsnetctl socket path is too long: no warm clients');
      return;
    }
    const server = createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
    await listenUnix(server, this.path, { what: 'warm tsnetctl socket' });
    this.server = server;
    this.fill();
    this.log.info({ socket: this.path, count: this.opts.count }, 'keeping warm tsnetctl processes');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const server = this.server;
    this.server = undefined;
    if (server) {
      // Not waiting for its 'close': the connections it counts are the warm processes' now (or told "no"),
      // and Node's count of a connection handed to a child never comes back to zero.
      server.close();
      await rm(this.path, { force: true });
    }
    // the waiting ones; those serving a client are the client's and end with its command
    for (const child of [...this.ready, ...this.starting]) child.kill('SIGTERM');
    for (const timer of this.busy.values()) clearTimeout(timer);
    for (const { socket, timer } of this.waiting.splice(0)) {
      clearTimeout(timer);
      socket.destroy();
    }
    for (const socket of this.awaited.values()) socket.destroy();
    this.awaited.clear();
  }

  health(): ServiceHealth {
    return {
      ready: true,
      socket: this.server ? this.path : undefined,
      warm: this.ready.length,
      starting: this.starting.size,
      busy: this.busy.size,
    };
  }

  /**
   * A front's connection: to a ready warm process; else to one that is starting, once it is ready (it
   * started before this call, so it is ready sooner than the Node tsnetctl the front would start, and now
   * it runs as the caller's, no longer on idle CPU only); else the front is told none is ready.
   */
  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    const child = this.ready.shift();
    if (child) {
      this.handOver(child, socket);
      this.fill();
      return;
    }
    const starting = [...this.starting].find((c) => !this.awaited.has(c));
    if (starting) {
      this.awaited.set(starting, socket);
      if (starting.pid !== undefined) runAsCaller(starting.pid);
      return;
    }
    if (this.waiting.length >= this.comingBack) {
      this.refuse(socket, 'no warm tsnetctl is ready');
      return;
    }
    const front = {
      socket,
      timer: setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(front), 1);
        this.refuse(socket, 'no warm tsnetctl is ready');
      }, RETURN_WAIT_MS),
    };
    this.waiting.push(front);
  }

  /** The front runs the Node tsnetctl: it is told why, and the connection goes (it was never read). */
  private refuse(socket: Socket, why: string): void {
    this.connections?.inc({ result: 'busy' });
    socket.end(`no ${why}\n`, () => socket.destroy());
  }

  private handOver(child: ChildProcess, socket: Socket): void {
    if (!child.connected) {
      this.refuse(socket, 'no warm tsnetctl is ready');
      return;
    }
    this.connections?.inc({ result: 'served' });
    // on the caller's path now: no longer on idle CPU only
    if (child.pid !== undefined) runAsCaller(child.pid);
    child.send(CLIENT_MESSAGE, socket, (err) => {
      if (err) {
        this.log?.warn({ err, pid: child.pid }, 'cannot hand a call to a warm tsnetctl');
        this.refuse(socket, 'the warm tsnetctl did not take the call');
        child.kill('SIGKILL');
        return;
      }
      // sent: the connection is the warm process's (its own descriptor)
      socket.destroy();
    });
    const timer = setTimeout(() => {
      // still serving: no longer counted as one that comes back soon
      if (!this.busy.has(child)) return;
      this.busy.set(child, undefined);
      this.fill();
    }, LONG_BUSY_MS);
    timer.unref();
    this.busy.set(child, timer);
  }

  /** Busy ones serving a command that has not taken long yet. */
  private get comingBack(): number {
    let soon = 0;
    for (const timer of this.busy.values()) if (timer !== undefined) soon++;
    return soon;
  }

  /** Ready, starting, or coming back soon. */
  private get counted(): number {
    return this.ready.length + this.starting.size + this.comingBack;
  }

  /** Starts warm processes until `count` are ready or starting. */
  private fill(): void {
    while (!this.stopped && this.server && this.retryTimer === undefined) {
      if (this.counted >= this.opts.count) return;
      this.spawnOne();
    }
  }

  private spawnOne(): void {
    const env: NodeJS.ProcessEnv = { ...process.env, [WARM_ENV]: this.opts.apiSocket };
    // as the Node tsnetctl's launcher line starts it (scripts/build.ts CLI_SHEBANG); the client's own
    // environment replaces this one when it takes over
    delete env['NODE_EXTRA_CA_CERTS'];
    delete env[NO_WARM_ENV];
    const child = spawn(process.execPath, [...WARM_NODE_FLAGS, this.opts.launcher], {
      env,
      // its own session: a signal to the agent's process group is not one to a client's command
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.starting.add(child);
    const spawnedAt = performance.now();
    if (child.pid !== undefined) yieldTheCpu(child.pid);
    let diagnostics = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      if (diagnostics.length < 4096) diagnostics += text;
    });
    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null) => {
      if (ended) return;
      ended = true;
      this.ended(child, code, signal, diagnostics);
    };
    // a spawn that fails (EAGAIN, EMFILE) says 'error' and never 'exit'
    child.on('error', (err) => {
      diagnostics ||= err.message;
      if (child.exitCode === null && child.signalCode === null && child.pid === undefined) onEnd(null, null);
    });
    child.on('exit', onEnd);
    child.on('message', (message) => {
      if (message !== READY_MESSAGE) return;
      const first = this.starting.delete(child);
      // READY again: its command is over (or it refused the call) and it waits for another
      if (!first && (this.ready.includes(child) || !child.connected)) return;
      if (!first) {
        clearTimeout(this.busy.get(child));
        this.busy.delete(child);
      }
      if (first) {
        this.failedStarts = 0;
        this.log?.debug(
          { pid: child.pid, ms: Math.round(performance.now() - spawnedAt) },
          'warm tsnetctl ready',
        );
        // it waits on its channel, which must not keep the agent alive
        child.unref();
        (child.channel as { unref?: () => void } | null | undefined)?.unref?.();
        child.stderr?.destroy();
      }
      const waiting = this.awaited.get(child);
      this.awaited.delete(child);
      if (waiting) {
        this.handOver(child, waiting);
        this.fill();
        return;
      }
      const front = this.waiting.shift();
      if (front) {
        clearTimeout(front.timer);
        this.handOver(child, front.socket);
        return;
      }
      if (!first && (this.stopped || this.ready.length + this.starting.size >= this.opts.count)) {
        // replaced while it was busy: one too many now
        child.kill('SIGTERM');
        return;
      }
      this.ready.push(child);
      // back from a command (or a refused call) at the caller's priority: behind the others again
      if (!first && child.pid !== undefined) yieldTheCpu(child.pid);
    });
  }

  private ended(
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
    diagnostics: string,
  ): void {
    const wasStarting = this.starting.delete(child);
    const wasBusy = this.busy.has(child);
    clearTimeout(this.busy.get(child));
    this.busy.delete(child);
    const waiting = this.awaited.get(child);
    this.awaited.delete(child);
    if (waiting) this.refuse(waiting, 'the warm tsnetctl it waited for ended');
    const i = this.ready.indexOf(child);
    if (i >= 0) this.ready.splice(i, 1);
    if (this.stopped) return;
    if (wasStarting) {
      this.failedStarts++;
      this.log?.warn(
        { pid: child.pid, code, signal, stderr: diagnostics.trim() || undefined },
        'a warm tsnetctl ended before it was ready',
      );
      if (this.failedStarts >= MAX_FAILED_STARTS) {
        this.log?.warn({ retryInMs: RETRY_AFTER_MS }, 'warm tsnetctl processes keep failing to start');
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.failedStarts = 0;
          this.fill();
        }, RETRY_AFTER_MS);
        this.retryTimer.unref();
        return;
      }
    }
    if (i >= 0 || wasStarting || wasBusy) this.fill();
  }
}

/**
 * A warm process starts on the CPU the commands leave (SCHED_IDLE, inherited by the threads it makes; set
 * before Node made them, as spawn returns once the program is executed): started beside a command (the one
 * it replaces a warm process for), it would otherwise slow it down. The client's command resets its own.
 */
function yieldTheCpu(pid: number): void {
  try {
    setSchedulingPolicy(pid, SCHED_IDLE);
  } catch {
    try {
      setPriority(pid, WARM_NICE);
    } catch {
      // it ended already: 'exit' says so
    }
  }
}

/** A starting warm process a caller waits for: back to the CPU share of the caller's own work. */
function runAsCaller(pid: number): void {
  try {
    runEveryThreadAt(pid, 0);
  } catch {
    // it ended meanwhile: 'exit' says so
  }
}
