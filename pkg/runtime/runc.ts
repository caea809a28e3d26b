// The runc CLI as a typed executor: one async method per verb, errors that carry runc's own message and
// the command that failed. runc keeps its state under `root` (R/runc); containers are created by conmon
// (conmon.ts), everything after that goes through here.
import { type ChildProcess, execFile, type StdioOptions, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, rmdir } from 'node:fs/promises';
import { constants } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { close, pidfdOpen, pidfdSendSignal, SyscallError } from '../../native/libc.ts';
import { execFifoOf, releaseInit } from './exec-fifo.ts';
import { processIs } from './proc-stat.ts';

export const DEFAULT_RUNC = '/usr/sbin/runc';

/** runc failed: `message` is runc's own (from --log-format json when it gave one), `command` what ran. */
export class RuncError extends Error {
  override name = 'RuncError';
  constructor(
    readonly command: readonly string[],
    readonly runcMessage: string,
    readonly exitCode: number | null,
  ) {
    super(`${command.join(' ')}: ${runcMessage}`);
  }
}

/** The text is none of the signal spellings Docker accepts ("KILL", "SIGKILL", "9"). */
export class SignalError extends Error {
  override name = 'SignalError';
}

const SIGNALS = constants.signals as Readonly<Record<string, number>>;
const MAX_SIGNAL = 64; // SIGRTMAX on Linux

/** Docker's signal syntax: a name with or without SIG (any case), a number, or SIGRTMIN+n / SIGRTMAX-n. */
export function parseSignal(text: string): number {
  const raw = text.trim();
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n >= 1 && n <= MAX_SIGNAL) return n;
    throw new SignalError(`invalid signal ${JSON.stringify(text)}: a number must be in 1..${MAX_SIGNAL}`);
  }
  const name = raw.toUpperCase().replace(/^SIG/, '');
  const rt = /^RTM(IN|AX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    // glibc's SIGRTMIN is 34 (32 and 33 belong to the threading library), SIGRTMAX 64
    const base = rt[1] === 'IN' ? 34 : 64;
    const offset = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '-' ? -1 : 1);
    const n = base + offset;
    if (n >= 34 && n <= MAX_SIGNAL) return n;
  } else {
    const n = SIGNALS[`SIG${name}`];
    if (n !== undefined && name !== '') return n;
  }
  throw new SignalError(`invalid signal ${JSON.stringify(text)}: not a signal name (e.g. KILL, SIGTERM, 9)`);
}

/** What `runc state` prints (runc 1.1). */
export interface RuncState {
  readonly ociVersion: string;
  readonly id: string;
  readonly pid: number;
  readonly status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  readonly bundle: string;
  readonly rootfs: string;
  readonly created: string;
  readonly annotations?: Record<string, string>;
  readonly owner?: string;
}

export interface RuncOptions {
  readonly binary?: string;
  /** runc's --root: where it keeps its state */
  readonly root: string;
}

export interface RuncExecOptions {
  /** return once the process runs (runc exec -d): the ChildProcess then ends when runc does */
  readonly detach?: boolean;
  readonly pidFile?: string;
  /** stdio for runc (default: pipes); the exec process inherits it */
  readonly stdio?: StdioOptions;
}

const ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export function validateContainerId(id: string): string {
  if (!ID_RE.test(id)) {
    throw new Error(
      `invalid container id ${JSON.stringify(id)}: up to 128 letters, digits, '_', '.', '-', not starting with a symbol`,
    );
  }
  return id;
}

/** The message of runc's last error line (it logs JSON with --log-format json), else its raw stderr. */
export function runcErrorMessage(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const entry = JSON.parse(lines[i] ?? '') as { level?: string; msg?: string };
      if (entry.level === 'error' && entry.msg) return entry.msg;
    } catch {
      // not a JSON line
    }
  }
  return lines.join('; ') || 'no message';
}

export class Runc {
  readonly binary: string;
  readonly root: string;

  constructor(opts: RuncOptions) {
    this.binary = opts.binary ?? DEFAULT_RUNC;
    this.root = opts.root;
  }

  /** The global arguments every invocation starts with. */
  globalArgs(): string[] {
    return ['--root', this.root, '--log-format', 'json'];
  }

  private run(args: readonly string[], timeoutMs = 30_000): Promise<string> {
    const argv = [...this.globalArgs(), ...args];
    return new Promise((resolve, reject) => {
      execFile(
        this.binary,
        argv,
        { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const code = typeof err.code === 'number' ? err.code : null;
          const message = stderr ? runcErrorMessage(stderr) : err.message;
          reject(new RuncError([this.binary, ...argv], message, code));
        },
      );
    });
  }

  /** The container's state, or undefined when runc does not know the id. */
  async state(id: string): Promise<RuncState | undefined> {
    try {
      return JSON.parse(await this.run(['state', validateContainerId(id)])) as RuncState;
    } catch (err) {
      if (err instanceof RuncError && /does not exist/i.test(err.runcMessage)) return undefined;
      throw err;
    }
  }

  /**
   * Starts a created container. Given its init's pid, through the init's exec.fifo as `runc start` does
   * (exec-fifo.ts: one runc process fewer); without it, or without the fifo, by `runc start`.
   */
  async start(id: string, opts: { initPid?: number } = {}): Promise<void> {
    const fifo = opts.initPid ? execFifoOf(this.root, validateContainerId(id)) : undefined;
    if (fifo && opts.initPid) {
      try {
        await releaseInit(fifo, opts.initPid);
      } catch (err) {
        throw new RuncError(['start', id], (err as Error).message, null);
      }
      return;
    }
    await this.run(['start', validateContainerId(id)]);
  }

  /**
   * Sends a signal (a number, or a name parseSignal accepts) to PID 1, or to every process with `all`.
   * `direct`: the caller knows the container is not paused (runc thaws a paused one for SIGKILL); PID 1 is
   * then signalled here, as runc kill does it, without a runc process.
   */
  async kill(
    id: string,
    signal: number | string,
    opts: { all?: boolean; direct?: boolean } = {},
  ): Promise<void> {
    const n = typeof signal === 'number' ? signal : parseSignal(signal);
    if (!Number.isInteger(n) || n < 1 || n > MAX_SIGNAL) throw new SignalError(`invalid signal ${n}`);
    validateContainerId(id);
    if (opts.direct && !opts.all && (await this.signalInit(id, n))) return;
    await this.run(['kill', ...(opts.all ? ['--all'] : []), id, String(n)]);
  }

  /**
   * runc kill's own steps: the init runc's state.json names (pid and start time, so a reused pid is never
   * signalled) gets the signal through a pidfd. False when the state cannot tell (then runc decides).
   */
  private async signalInit(id: string, signal: number): Promise<boolean> {
    const init = await this.initOf(id);
    if (!init) return false;
    const notRunning = new RuncError(['kill', id, String(signal)], 'container not running', 1);
    let pidfd: number;
    try {
      pidfd = pidfdOpen(init.pid);
    } catch (err) {
      if (err instanceof SyscallError && err.code === 'ESRCH') throw notRunning;
      return false;
    }
    try {
      // checked after the pidfd is held: the process it names is the one checked (a zombie init counts as
      // stopped, as for runc)
      if (!processIs(init.pid, init.start) || !pidfdSendSignal(pidfd, signal)) throw notRunning;
      return true;
    } finally {
      close(pidfd);
    }
  }

  async pause(id: string): Promise<void> {
    await this.run(['pause', validateContainerId(id)]);
  }

  async resume(id: string): Promise<void> {
    await this.run(['resume', validateContainerId(id)]);
  }

  /**
   * Whether runc keeps anything for the id (its directory under the root, state.json or what an aborted
   * create left): `delete` has nothing to do otherwise, and a run of runc costs a process start.
   */
  holds(id: string): boolean {
    return existsSync(join(this.root, validateContainerId(id)));
  }

  /**
   * The init process runc's state.json names (pid and start time) and the cgroup directories runc made
   * for the container, undefined when the state cannot tell.
   */
  private async initOf(
    id: string,
  ): Promise<{ pid: number; start: number; cgroupDirs: string[] } | undefined> {
    try {
      const state = JSON.parse(await readFile(join(this.root, id, 'state.json'), 'utf8')) as {
        init_process_pid?: unknown;
        init_process_start?: unknown;
        cgroup_paths?: unknown;
      };
      if (typeof state.init_process_pid !== 'number' || typeof state.init_process_start !== 'number')
        return undefined;
      const paths = state.cgroup_paths && typeof state.cgroup_paths === 'object' ? state.cgroup_paths : {};
      const cgroupDirs = [...new Set(Object.values(paths))].filter(
        (dir): dir is string => typeof dir === 'string' && isAbsolute(dir) && dir.includes(id),
      );
      return { pid: state.init_process_pid, start: state.init_process_start, cgroupDirs };
    } catch {
      return undefined;
    }
  }

  /**
   * What runc delete does for a stopped container: when runc's state names an init that has ended (gone, a
   * zombie, or its pid another process's), the cgroup directories runc made and its state directory are
   * removed. False when the init may still run, a cgroup still holds a process, or the state cannot tell:
   * then `delete` is the way.
   */
  async forgetStopped(id: string): Promise<boolean> {
    validateContainerId(id);
    const init = await this.initOf(id);
    if (!init || processIs(init.pid, init.start)) return false;
    // runc delete's removal of the cgroup directories it made, in every hierarchy (also those the caller
    // does not manage); one still holding a process (EBUSY) is left to runc delete, which kills it first
    const removed = await Promise.all(
      init.cgroupDirs.map((dir) =>
        rmdir(dir).then(
          () => true,
          (err: NodeJS.ErrnoException) => err.code === 'ENOENT',
        ),
      ),
    );
    if (removed.includes(false)) return false;
    await rm(join(this.root, id), { recursive: true, force: true });
    return true;
  }

  /** Deletes a stopped container; `force` kills a running one first (runc polls every 100 ms then). */
  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.run(['delete', ...(opts.force ? ['--force'] : []), validateContainerId(id)]);
  }

  async list(): Promise<RuncState[]> {
    const out = (await this.run(['list', '--format', 'json'])).trim();
    if (out === '' || out === 'null') return [];
    return JSON.parse(out) as RuncState[];
  }

  /**
   * Runs a process (an OCI process spec written to `processSpecFile`, terminal false) in a running
   * container. Without `detach` the child ends with the process and its exit code is the process's; runc's
   * own failure to start it (exit 255, a JSON error on stderr) is told apart by execStartFailure.
   */
  exec(id: string, processSpecFile: string, opts: RuncExecOptions = {}): ChildProcess {
    const argv = [
      ...this.globalArgs(),
      'exec',
      '--process',
      processSpecFile,
      ...(opts.detach ? ['--detach'] : []),
      ...(opts.pidFile ? ['--pid-file', opts.pidFile] : []),
      validateContainerId(id),
    ];
    return spawn(this.binary, argv, { stdio: opts.stdio ?? 'pipe' });
  }
}

/** The container's (or an exec's) process could not be started: `reason` picks Docker's exit code. */
export class ContainerStartError extends Error {
  override name = 'ContainerStartError';
  constructor(
    readonly reason: 'not-found' | 'permission' | 'other',
    readonly runtimeMessage: string,
  ) {
    super(runtimeMessage);
  }
  /** Docker's exit code for the failure: 127 not found, 126 not executable, 125 otherwise. */
  get exitCode(): number {
    return this.reason === 'not-found' ? 127 : this.reason === 'permission' ? 126 : 125;
  }
}

/** runc's message for a process that did not start, typed: missing (127), not executable (126), other. */
export function classifyStartFailure(message: string): ContainerStartError {
  if (/executable file not found|no such file or directory/i.test(message))
    return new ContainerStartError('not-found', message);
  if (/permission denied|exec format error/i.test(message))
    return new ContainerStartError('permission', message);
  return new ContainerStartError('other', message);
}

/**
 * After `exec` ended: runc's own failure to start the process (it exits 255 and logs a JSON error line on
 * stderr), typed, or undefined when the exit code is the process's.
 */
export function execStartFailure(exitCode: number | null, stderr: string): ContainerStartError | undefined {
  if (exitCode !== 255) return undefined;
  for (const line of stderr.trim().split('\n').reverse()) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.level === 'error' && entry.msg) return classifyStartFailure(entry.msg);
    } catch {
      // the process's own output
    }
  }
  return undefined;
}
