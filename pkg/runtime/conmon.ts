// One conmon (Debian's 2.1.6) per container is its monitor, the shim role: it runs `runc create`, stays
// the container's parent (so the exit status is not lost), holds stdio and the terminal, writes the
// k8s-file log, records the exit code, and outlives the agent. This module starts it, reads what it
// leaves behind (exit file, oom marker) and talks to its control fifo.
//
// Measured here (conmon 2.1.6, runc 1.1.5; test/runtime/conmon.test.ts checks each):
// - The conmon we spawn forks the monitor and exits within ~5 ms; the monitor is reparented to PID 1, so
//   a SIGKILL of the caller (the agent) touches neither it nor the container: same PID 1, the log keeps
//   growing, the exit is still recorded. Closing our end of the sync pipe early does not hurt it either.
//   An ended monitor stays a zombie until PID 1 reaps it: liveness checks treat state Z as dead.
// - The exit code (decimal text, 128+n after signal n) is written to `<exit-dir>/<id>` and to
//   `<persist-dir>/exit` (the team saw no exit file at all without --persist-dir: always pass both).
//   After an OOM kill it writes `oom` both into the persist dir and into its working directory.
// - The bundle dir receives `ctl` and `winsz` (fifos) and, with --full-attach, the `attach` socket (else
//   the socket is reached through a symlink `<socket-dir>/<uuid>` to the bundle dir).
// - The ctl fifo takes "TYPE A B\n", always three integers: "1 ROWS COLS\n" resizes the terminal and
//   "2 0 0\n" reopens the log; a bare "2\n" is ignored (it keeps writing into a renamed file).
// - A failed `runc create` comes back on the sync pipe as {"pid": -1, "message": "runc create failed: ..."}
//   and conmon exits, leaving its fifos and socket in the bundle dir (removed here).
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  type FSWatcher,
  constants as fsConstants,
  readdirSync,
  readFileSync,
  watch,
} from 'node:fs';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { CgroupManager } from '../cgroups/manager.ts';
import { processStartTime } from './proc-stat.ts';
import { classifyStartFailure, DEFAULT_RUNC, Runc, validateContainerId } from './runc.ts';

export const DEFAULT_CONMON = '/usr/bin/conmon';

export interface MonitorOptions {
  readonly id: string;
  readonly name: string;
  /** the OCI bundle (config.json); conmon also puts its `ctl` and `winsz` fifos and the `attach` socket here */
  readonly bundleDir: string;
  readonly runtime: { readonly binary?: string; readonly root: string };
  /** the k8s-file log */
  readonly logPath: string;
  /** conmon's --exit-dir: a file named by the container id holds the exit code */
  readonly exitDir: string;
  /** conmon's --persist-dir: `exit` (the code) and `oom` (a marker) land here; without it, no exit file */
  readonly persistDir: string;
  /** conmon's --socket-dir-path (ignored with the full attach path conmon is given here: see attachPath) */
  readonly socketDir?: string;
  /** PID 1 of the container, written by runc */
  readonly pidFile: string;
  readonly conmonPidFile: string;
  readonly tty?: boolean;
  /** open a pipe for the container's stdin (-i) */
  readonly stdin?: boolean;
  /**
   * Docker's StdinOnce: the container's stdin is closed when an attached client's input ends (or the client
   * leaves); otherwise it stays open for the next attach (conmon's --leave-stdin-open)
   */
  readonly stdinOnce?: boolean;
  /** conmon's working directory (the container's persistent dir): it writes an `oom` marker into it */
  readonly cwd: string;
  /** runc's own log (JSON lines), for the error of a failed create */
  readonly runtimeLogPath?: string;
  readonly conmonBinary?: string;
  /** how long to wait for `runc create` to report (default 30 s) */
  readonly timeoutMs?: number;
}

export interface Monitor {
  /** the container's PID 1 */
  readonly pid: number;
  readonly monitorPid: number;
  /** the monitor's start time (/proc/PID/stat): record it so monitorAlive can tell a reused PID apart */
  readonly monitorStartTime: number | undefined;
  readonly attachPath: string;
  readonly ctlPath: string;
  readonly winszPath: string;
}

export { ContainerStartError } from './runc.ts';

const SUN_PATH_MAX = 107; // sockaddr_un.sun_path minus the NUL

/** conmon's command line for one container in created state. */
export function conmonArgs(opts: MonitorOptions): string[] {
  const runtime = opts.runtime.binary ?? DEFAULT_RUNC;
  return [
    ...['-c', opts.id, '-u', opts.id, '-n', opts.name],
    ...['-r', runtime, '-b', opts.bundleDir],
    ...['-p', opts.pidFile, '-P', opts.conmonPidFile],
    ...['-l', `k8s-file:${opts.logPath}`],
    ...['--exit-dir', opts.exitDir, '-0', opts.persistDir],
    ...(opts.socketDir ? ['--socket-dir-path', opts.socketDir] : []),
    // the attach socket at bundle/attach, not behind a symlink named by the id in the socket dir
    '--full-attach',
    ...(opts.tty ? ['-t'] : []),
    ...(opts.stdin ? ['-i', ...(opts.stdinOnce ? [] : ['--leave-stdin-open'])] : []),
    ...['--runtime-arg', `--root=${opts.runtime.root}`],
    ...(opts.runtimeLogPath
      ? ['--runtime-arg', '--log-format=json', '--runtime-arg', `--log=${opts.runtimeLogPath}`]
      : []),
    '--log-level=error',
  ];
}

function isCompleteJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The last error runc logged (its --log file, JSON lines), for when the sync pipe has no message. */
function lastRuntimeError(logPath: string | undefined): string | undefined {
  if (!logPath) return undefined;
  try {
    const lines = readFileSync(logPath, 'utf8').trim().split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const entry = JSON.parse(lines[i] ?? '{}') as { level?: string; msg?: string };
      if (entry.level === 'error' && entry.msg) return entry.msg;
    }
  } catch {
    // no log, or not JSON
  }
  return undefined;
}

/**
 * Starts conmon for one container (its bundle written, runc not yet run) and waits until `runc create`
 * is done: conmon writes `{"pid": N}` to the sync pipe (`_OCI_SYNCPIPE`, fd 3), or `{"pid": -1,
 * "message": ...}` when runc failed. conmon runs in its own session with no stdio tied to the caller, so
 * it and the container survive the caller's death.
 */
export async function startMonitor(opts: MonitorOptions): Promise<Monitor> {
  validateContainerId(opts.id);
  const attachPath = join(opts.bundleDir, 'attach');
  if (Buffer.byteLength(attachPath) > SUN_PATH_MAX) {
    throw new Error(`attach socket path ${attachPath} is longer than ${SUN_PATH_MAX} bytes`);
  }
  if (monitorAlive(opts.conmonPidFile)) throw new Error(`a monitor already runs for container ${opts.id}`);
  await removeStaleRunFiles(opts);
  const child = spawn(opts.conmonBinary ?? DEFAULT_CONMON, conmonArgs(opts), {
    cwd: opts.cwd,
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3' },
  });
  child.unref();
  // the process we spawn exits 0 once it has forked the monitor; anything else is conmon refusing to run
  let conmonExit: string | undefined;
  // conmon's first process writes the monitor's pid file after its fork, then exits; the monitor may answer
  // on the sync pipe before that write, so the file is read once that first process has gone.
  const forked = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      if (code !== 0) conmonExit = signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve();
    });
  });
  try {
    const answer = await readSyncAnswer(child, opts.id, opts.timeoutMs ?? 30_000);
    if (answer.pid === undefined || answer.pid <= 0) {
      throw classifyStartFailure(
        answer.message ||
          lastRuntimeError(opts.runtimeLogPath) ||
          `conmon ended without a container pid${conmonExit ? ` (${conmonExit})` : ''}`,
      );
    }
    await settledWithin(forked, opts.timeoutMs ?? 30_000, `conmon for ${opts.id} did not finish its fork`);
    if (conmonExit !== undefined)
      throw new Error(`conmon for ${opts.id} failed after the fork (${conmonExit})`);
    const monitorPid = Number(readFileSync(opts.conmonPidFile, 'utf8').trim());
    return {
      pid: answer.pid,
      monitorPid,
      monitorStartTime: processStartTime(monitorPid),
      attachPath,
      ctlPath: join(opts.bundleDir, 'ctl'),
      winszPath: join(opts.bundleDir, 'winsz'),
    };
  } catch (err) {
    await removeMonitorLeftovers(opts);
    throw err;
  }
}

/** Resolves with `promise`, or rejects with `what` after `ms`. */
async function settledWithin(promise: Promise<void>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * conmon's first message on the sync pipe (fd 3): `{"pid": N}` once `runc create` is done, or
 * `{"pid": -1, "message": ...}`. conmon keeps the pipe open afterwards (exec sessions get their exit code
 * on it later), so the first complete line is the whole answer; EOF without one means conmon died.
 */
function readSyncAnswer(
  child: ChildProcess,
  id: string,
  timeoutMs: number,
): Promise<{ pid?: number; message?: string }> {
  const sync = child.stdio[3] as Readable | null | undefined;
  if (!sync) return Promise.reject(new Error('conmon: no sync pipe'));
  return new Promise((resolve, reject) => {
    let text = '';
    const settle = (fn: () => void): void => {
      clearTimeout(timer);
      sync.destroy();
      fn();
    };
    const timer = setTimeout(
      () =>
        settle(() => reject(new Error(`conmon for ${id}: no answer from runc create in ${timeoutMs} ms`))),
      timeoutMs,
    );
    child.once('error', (err) => settle(() => reject(new Error(`cannot run conmon: ${err.message}`))));
    const parse = (): { pid?: number; message?: string } => {
      try {
        const v = JSON.parse(text.split('\n')[0] ?? '') as { pid?: unknown; message?: unknown };
        return {
          ...(typeof v.pid === 'number' ? { pid: v.pid } : {}),
          ...(typeof v.message === 'string' ? { message: v.message.trim() } : {}),
        };
      } catch {
        return { message: text.trim() ? `conmon answered ${JSON.stringify(text.trim())}` : '' };
      }
    };
    sync.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n') || isCompleteJson(text)) settle(() => resolve(parse()));
    });
    // a spawn failure closes the pipe too: let its 'error' (a clearer message) come first
    sync.on('close', () => setImmediate(() => settle(() => resolve(parse()))));
    sync.on('error', () => undefined);
  });
}

/**
 * After a failed create: stops conmon if it still runs, has runc forget the container, and removes the
 * files conmon made (fifos, attach socket, pid files, an exit file), so nothing is left half-created.
 */
async function removeMonitorLeftovers(opts: MonitorOptions): Promise<void> {
  if (monitorAlive(opts.conmonPidFile)) {
    try {
      process.kill(Number(readFileSync(opts.conmonPidFile, 'utf8').trim()), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  await new Runc({ binary: opts.runtime.binary ?? DEFAULT_RUNC, root: opts.runtime.root })
    .delete(opts.id, { force: true })
    .catch(() => undefined);
  await removeStaleRunFiles(opts);
}

/**
 * The files one run of a monitor leaves (fifos, socket, pid files, exit code, oom markers): removed before
 * a new run, so a restarted container never shows the previous run's exit or OOM, and after a failure.
 */
async function removeStaleRunFiles(opts: MonitorOptions): Promise<void> {
  const files = [
    ...['attach', 'ctl', 'winsz'].map((f) => join(opts.bundleDir, f)),
    ...(opts.socketDir ? [join(opts.socketDir, opts.id)] : []),
    opts.pidFile,
    opts.conmonPidFile,
    join(opts.exitDir, opts.id),
    join(opts.persistDir, 'exit'),
    join(opts.persistDir, 'oom'),
    join(opts.cwd, 'oom'),
  ];
  await Promise.all(files.map((f) => rm(f, { force: true }).catch(() => undefined)));
}

export interface ExitStatus {
  readonly exitCode: number;
  readonly oomKilled: boolean;
  readonly finishedAt: Date;
}

/**
 * What conmon recorded about the container's end: the code in persistDir/exit (or exitDir/<id>), 128+n
 * for a signal; OOM from conmon's `oom` marker (persist dir or its cwd) or, when given, the cgroup's own
 * OOM kill counter (conmon misses the event when the cgroup is gone first). Undefined while it runs.
 */
export async function readExitStatus(opts: {
  id: string;
  persistDir: string;
  exitDir?: string;
  /** conmon's working directory, where it also writes `oom` */
  cwd?: string;
  cgroup?: CgroupManager;
}): Promise<ExitStatus | undefined> {
  const files = [join(opts.persistDir, 'exit'), ...(opts.exitDir ? [join(opts.exitDir, opts.id)] : [])];
  for (const file of files) {
    let text: string;
    let mtime: Date;
    try {
      [text, mtime] = await Promise.all([readFile(file, 'utf8'), stat(file).then((s) => s.mtime)]);
    } catch {
      continue;
    }
    const exitCode = Number(text.trim());
    // conmon creates the file before writing it: an empty one means "being written", not an exit
    if (text.trim() === '' || !Number.isInteger(exitCode)) continue;
    const markers = [join(opts.persistDir, 'oom'), ...(opts.cwd ? [join(opts.cwd, 'oom')] : [])];
    let oomKilled = markers.some((m) => existsSync(m));
    if (!oomKilled && opts.cgroup?.exists()) {
      const stats = await opts.cgroup.stats().catch(() => undefined);
      oomKilled = (stats?.oomKills ?? 0) > 0;
    }
    return { exitCode, oomKilled, finishedAt: mtime };
  }
  return undefined;
}

/**
 * True when the pid in `conmonPidFile` is a live conmon: the pid exists, is not a zombie, runs the conmon
 * binary, and (when `startTime` is given) started when recorded, so a reused PID is not mistaken for it.
 */
export function monitorAlive(conmonPidFile: string, startTime?: number): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(conmonPidFile, 'utf8').trim());
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    // conmon has threads: its main thread may already be a zombie while another still holds the fifos
    // and the log, so the process lives while any of its threads does
    const live = readdirSync(`/proc/${pid}/task`).find((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state !== 'Z' && state !== 'X';
    });
    if (live === undefined) return false;
    const argv0 = readFileSync(`/proc/${pid}/task/${live}/cmdline`, 'utf8').split('\0')[0] ?? '';
    if (!/(^|\/)conmon$/.test(argv0)) return false;
  } catch {
    return false;
  }
  return startTime === undefined || processStartTime(pid) === startTime;
}

/**
 * Resolves with the exit code once conmon has written exitDir/<id>. One watcher per exit directory serves every
 * container waiting there (an agent with many running containers holds one inotify watch and one timer, not
 * one of each per container): fs.watch names the file that changed, and a poll that lists the directory is the
 * fallback (inotify can miss a rename or be unavailable). Rejects with an Error named AbortError (its cause the
 * signal's reason) on abort.
 */
export function waitForExit(exitDir: string, id: string, signal?: AbortSignal): Promise<number> {
  validateContainerId(id);
  return new Promise((resolve, reject) => {
    let cancel = (): void => undefined;
    const onAbort = (): void => {
      cancel();
      const err = new Error(`waiting for the exit of ${id} was aborted`, { cause: signal?.reason });
      err.name = 'AbortError';
      reject(err);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    cancel = exitDirWatcher(exitDir).add(id, (code) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(code);
    });
  });
}

const EXIT_POLL_MS = 250;
const exitDirWatchers = new Map<string, ExitDirWatcher>();

function exitDirWatcher(dir: string): ExitDirWatcher {
  let watcher = exitDirWatchers.get(dir);
  if (!watcher) {
    const created = new ExitDirWatcher(dir, () => {
      if (exitDirWatchers.get(dir) === created) exitDirWatchers.delete(dir);
    });
    watcher = created;
    exitDirWatchers.set(dir, watcher);
  }
  return watcher;
}

class ExitDirWatcher {
  private readonly waiting = new Map<string, Set<(code: number) => void>>();
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;

  constructor(
    private readonly dir: string,
    private readonly onIdle: () => void,
  ) {}

  /** Calls `done` once with the exit code of `id`; the returned function cancels the wait. */
  add(id: string, done: (code: number) => void): () => void {
    let callbacks = this.waiting.get(id);
    if (!callbacks) {
      callbacks = new Set();
      this.waiting.set(id, callbacks);
    }
    callbacks.add(done);
    this.start();
    this.check(id); // already written
    return () => {
      const set = this.waiting.get(id);
      set?.delete(done);
      if (set?.size === 0) this.waiting.delete(id);
      this.stopIfIdle();
    };
  }

  private start(): void {
    if (this.poll) return;
    try {
      this.watcher = watch(this.dir, (_event, name) => {
        if (name) this.check(String(name));
        else this.checkAll();
      });
      this.watcher.on('error', () => undefined); // the poll still runs
    } catch {
      this.watcher = undefined; // no inotify, or no directory yet: the poll finds it
    }
    this.poll = setInterval(() => this.checkAll(), EXIT_POLL_MS);
  }

  private stopIfIdle(): void {
    if (this.waiting.size > 0 || this.poll === undefined) return;
    this.watcher?.close();
    this.watcher = undefined;
    clearInterval(this.poll);
    this.poll = undefined;
    this.onIdle();
  }

  /** One listing of the directory, then a read of the files of those waited for only. */
  private checkAll(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) if (this.waiting.has(name)) this.check(name);
  }

  private check(id: string): void {
    const callbacks = this.waiting.get(id);
    if (!callbacks) return;
    let text: string;
    try {
      text = readFileSync(join(this.dir, id), 'utf8').trim();
    } catch {
      return;
    }
    const code = Number(text);
    if (text === '' || !Number.isInteger(code)) return; // created, not yet written
    this.waiting.delete(id);
    for (const done of callbacks) done(code);
    this.stopIfIdle();
  }
}

/**
 * Writes one message to conmon's control fifo (bundle/ctl). Opening a fifo for writing blocks until a
 * reader is there; conmon keeps it open for reading while it lives, so O_NONBLOCK fails fast (ENXIO)
 * when conmon is gone instead of hanging, and EPIPE says it went away between the open and the write.
 */
export async function writeControl(ctlPath: string, msg: string): Promise<void> {
  const fail = (err: NodeJS.ErrnoException): never => {
    const gone = err.code === 'ENXIO' || err.code === 'EPIPE';
    throw new Error(`conmon control fifo ${ctlPath}: ${gone ? 'conmon is not running' : err.message}`);
  };
  const fh = await open(ctlPath, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK).catch(fail);
  try {
    await fh.write(msg).catch(fail);
  } finally {
    await fh.close();
  }
}

/** Resizes the container's terminal ("1 ROWS COLS\n"). */
export async function resizeTerminal(ctlPath: string, rows: number, cols: number): Promise<void> {
  for (const [what, n] of [
    ['rows', rows],
    ['columns', cols],
  ] as const) {
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`invalid terminal ${what} ${n}`);
  }
  return writeControl(ctlPath, `1 ${rows} ${cols}\n`);
}

/**
 * Makes conmon reopen its log file after a rotation renamed it. conmon 2.1.6 parses every control
 * message as three integers ("%d %d %d"): a bare "2\n" is dropped silently (measured: it keeps writing to
 * the renamed file); "2 0 0\n" reopens, and no line is lost across the switch.
 */
export function reopenLog(ctlPath: string): Promise<void> {
  return writeControl(ctlPath, '2 0 0\n');
}
