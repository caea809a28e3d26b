// `exec`: a process run in a running container. The process spec starts from the container's own (its
// config.json) with the exec's command, env, user, working directory, terminal and capabilities.
// - Without a terminal, `runc exec` runs it in the foreground with our pipes as its stdio and ends with its
//   exit code (one runc, no monitor). Faster still, the native exec (native/nsexec) does what runc exec does
//   for such a process without starting runc, when it is built and the process needs nothing it lacks.
// - With a terminal, conmon runs it the way podman does (`--exec --exec-attach -t`): conmon holds the pty,
//   we attach to its socket before the process starts (so no output is missed), and the process spec's
//   consoleSize makes the first byte come from a terminal of the client's size; resizes go through conmon's
//   control fifo, and the exit code comes back on conmon's sync pipe.
// - Detached (-d), conmon runs it without an attached client and reaps it.
// Each session has a directory beside the container's bundle (R/containers/<id>/exec/<exec id>) holding the
// process spec, conmon's fifos and socket and the exit file; it goes when the session ends.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { attachToMonitor, type MonitorAttachment } from './attach.ts';
import { hostCapabilities } from './capabilities.ts';
import { DEFAULT_CONMON, resizeTerminal } from './conmon.ts';
import { nativeExecUnsupported, nsexecDescription, nsexecPath, readRuncState } from './nsexec.ts';
import type { OciProcess, OciSpec } from './oci.ts';
import { classifyStartFailure, DEFAULT_RUNC, validateContainerId } from './runc.ts';
import { checkContainerPath, mergeEnv } from './spec.ts';
import { resolveUser } from './user.ts';

/** Docker's exit codes for a command that could not be run. */
export const EXIT_NOT_FOUND = 127;
export const EXIT_CANNOT_RUN = 126;

export interface TerminalSize {
  readonly rows: number;
  readonly cols: number;
}

/** The container an exec runs in. */
export interface ExecTarget {
  readonly id: string;
  /** the container's bundle: its config.json's process is the base of the exec's */
  readonly bundleDir: string;
  /** the container's root filesystem on the host, for resolving `user` */
  readonly rootfs: string;
  readonly runtime: { readonly binary?: string; readonly root: string };
}

export interface ExecOptions {
  readonly cmd: readonly string[];
  readonly env?: readonly string[];
  /** user[:group], names resolved in the container's /etc/passwd and /etc/group */
  readonly user?: string;
  readonly workingDir?: string;
  readonly tty?: boolean;
  readonly stdin?: boolean;
  readonly detach?: boolean;
  /** every capability, as Docker's exec --privileged */
  readonly privileged?: boolean;
  /** the client's terminal, applied before the process starts */
  readonly size?: TerminalSize;
  readonly conmonBinary?: string;
  readonly relayBinary?: string;
  /** the native exec helper; null: always runc (default: the built one, see nsexecPath) */
  readonly nsexecBinary?: string | null;
}

export interface ExecExit {
  readonly exitCode: number;
  /** why the command could not run (exit codes 126 and 127), in runc's words */
  readonly error?: string;
}

export interface ExecSession {
  readonly id: string;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** the process's stdin, when the exec has one */
  readonly stdin?: Writable;
  /** settles after all output has been delivered to stdout/stderr */
  readonly exit: Promise<ExecExit>;
  /** Resizes the terminal (nothing without one). */
  resize(size: TerminalSize): Promise<void>;
  /** SIGKILLs the process and every process it started (a health probe past its timeout). */
  kill(): Promise<void>;
}

/** The exec cannot be started at all (bad user, bad working directory, no command). */
export class ExecSetupError extends Error {
  override name = 'ExecSetupError';
}

/** The exec's process spec: the container's process with the exec's changes. */
export function execProcessSpec(base: OciProcess, rootfs: string, opts: ExecOptions): OciProcess {
  if (opts.cmd.length === 0) throw new ExecSetupError('exec needs a command');
  const user = opts.user ? resolveUser(opts.user, rootfs) : undefined;
  const userEnv = [...(opts.env ?? [])];
  const extra: string[] = [];
  if (opts.tty && !base.env.some((e) => e.startsWith('TERM='))) extra.push('TERM=xterm');
  // the container's HOME was the container user's: another user gets their own
  if (user && !userEnv.some((e) => e.startsWith('HOME='))) extra.push(`HOME=${user.home}`);
  const spec: OciProcess = {
    ...base,
    args: [...opts.cmd],
    env: mergeEnv(base.env, extra, userEnv),
    cwd: opts.workingDir ? checkContainerPath('working directory', opts.workingDir) : base.cwd,
    terminal: opts.tty ?? false,
    user: user
      ? { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids, umask: base.user.umask }
      : base.user,
  };
  delete spec.consoleSize;
  if (opts.tty && opts.size) spec.consoleSize = { height: opts.size.rows, width: opts.size.cols };
  if (opts.privileged) {
    const all = hostCapabilities();
    spec.capabilities = { bounding: all, effective: all, permitted: all };
  }
  return spec;
}

/**
 * The exit of a command runc could not start: 127 when it is missing, 126 otherwise (Docker's codes; an exec
 * has no 125, the daemon's own failures are the call's error).
 */
export function execFailureExit(message: string): ExecExit {
  const notFound = classifyStartFailure(message).reason === 'not-found';
  return { exitCode: notFound ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN, error: message };
}

/** The last error runc logged in its JSON log, if any. */
function runcLoggedError(logPath: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.trim().split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const entry = JSON.parse(lines[i] ?? '') as { level?: string; msg?: string };
      if (entry.level === 'error' && entry.msg) return entry.msg.replace(/^exec failed: /, '');
    } catch {
      // a partial line
    }
  }
  return undefined;
}

/** The process in `pidFile` and its descendants, SIGKILLed; nothing when it has not started or has gone. */
async function killProcessTree(pidFile: string): Promise<boolean> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  // every descendant first: once the parent dies they belong to the container's init and are hard to find
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    const tasks = await readdir(`/proc/${tree[i]}/task`).catch(() => [] as string[]);
    for (const tid of tasks) {
      const children = await readFile(`/proc/${tree[i]}/task/${tid}/children`, 'utf8').catch(() => '');
      for (const c of children.split(' ').filter(Boolean)) tree.push(Number(c));
    }
  }
  for (const p of tree) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  return true;
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? constants.signals[signal] : 9);
}

/** Directory of the container's exec sessions, beside its bundle. */
export function execRootOf(bundleDir: string): string {
  return join(bundleDir, '..', 'exec');
}

/** Starts an exec session in the (running) container. */
export async function startExec(target: ExecTarget, opts: ExecOptions): Promise<ExecSession> {
  validateContainerId(target.id);
  const config = JSON.parse(await readFile(join(target.bundleDir, 'config.json'), 'utf8')) as OciSpec;
  const processSpec = execProcessSpec(config.process, target.rootfs, opts);
  const id = randomBytes(32).toString('hex');
  const dir = join(execRootOf(target.bundleDir), id);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    if (!opts.tty && !opts.detach) {
      const native = await nativeExec(target, opts, config, processSpec, dir);
      if (native) return runForeground(opts, id, dir, native);
    }
    const specFile = join(dir, 'process.json');
    // read once by runc right away and gone with the session: no temp + fsync + rename (that costs an exec
    // several milliseconds of disk flushes)
    await writeFile(specFile, JSON.stringify(processSpec), { flag: 'wx', mode: 0o600 });
    if (!opts.tty && !opts.detach) return runForeground(opts, id, dir, runcExec(target, dir, specFile));
    return await runUnderConmon(target, opts, id, dir, specFile);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function runcGlobalArgs(target: ExecTarget, logPath: string): string[] {
  return ['--root', target.runtime.root, '--log', logPath, '--log-format', 'json'];
}

/** A program that runs the exec's process in the foreground and ends with its exit code. */
interface ForegroundCommand {
  readonly file: string;
  readonly args: readonly string[];
  /** where a failure to start is logged as runc's JSON lines */
  readonly logPath: string;
  /** where the process's host pid is written */
  readonly pidFile: string;
}

function runcExec(target: ExecTarget, dir: string, specFile: string): ForegroundCommand {
  const logPath = join(dir, 'runc.log');
  const pidFile = join(dir, 'pid');
  return {
    file: target.runtime.binary ?? DEFAULT_RUNC,
    args: [
      ...runcGlobalArgs(target, logPath),
      'exec',
      '--pid-file',
      pidFile,
      '--process',
      specFile,
      target.id,
    ],
    logPath,
    pidFile,
  };
}

/**
 * The native exec of the process, when the helper is there, the runtime is runc (its state names the
 * container's process and cgroups) and the process needs nothing the helper lacks; else undefined.
 */
async function nativeExec(
  target: ExecTarget,
  opts: ExecOptions,
  config: OciSpec,
  processSpec: OciProcess,
  dir: string,
): Promise<ForegroundCommand | undefined> {
  const binary = opts.nsexecBinary === undefined ? nsexecPath() : opts.nsexecBinary;
  if (!binary || nativeExecUnsupported(config, processSpec)) return undefined;
  const state = await readRuncState(target.runtime.root, target.id);
  if (!state) return undefined;
  const pidFile = join(dir, 'pid');
  const logPath = join(dir, 'nsexec.log');
  const description = join(dir, 'nsexec');
  // runc gives the process the user's HOME when its environment has none
  const env = processSpec.env.some((e) => e.startsWith('HOME='))
    ? processSpec.env
    : [...processSpec.env, `HOME=${homeOf(processSpec.user.uid, target.rootfs)}`];
  // the container's bundle dir: root's, and gone with the container
  const input = {
    id: target.id,
    spec: config,
    process: { ...processSpec, env },
    state,
    pidFile,
    cacheDir: target.bundleDir,
  };
  await writeFile(description, nsexecDescription(input), { flag: 'wx', mode: 0o600 });
  return { file: binary, args: [description, logPath], logPath, pidFile };
}

/** The home directory of `uid` in the container's /etc/passwd, "/" without an entry. */
function homeOf(uid: number, rootfs: string): string {
  try {
    return resolveUser(String(uid), rootfs).home;
  } catch {
    return '/';
  }
}

/** The process in the foreground: it shares the command's pipes and the command ends with its exit code. */
function runForeground(opts: ExecOptions, id: string, dir: string, command: ForegroundCommand): ExecSession {
  const { logPath, pidFile } = command;
  const child = spawn(command.file, command.args, {
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  child.stdin?.on('error', () => undefined);
  const exit = new Promise<ExecExit>((resolve) => {
    child.once('error', (err) =>
      resolve({ exitCode: EXIT_CANNOT_RUN, error: `cannot run ${command.file}: ${err.message}` }),
    );
    // 'close' comes after stdout and stderr have ended: all output is delivered by then
    child.once('close', (code, signal) => {
      // 255 is also a process's own code: only runc's log tells an exec failure apart
      const failure = code === 255 ? runcLoggedError(logPath) : undefined;
      resolve(failure ? execFailureExit(failure) : { exitCode: exitCodeOf(code, signal) });
    });
  }).finally(() => rm(dir, { recursive: true, force: true }));
  return {
    id,
    stdout: child.stdout as Readable,
    stderr: child.stderr as Readable,
    ...(child.stdin ? { stdin: child.stdin } : {}),
    exit,
    resize: async () => undefined,
    kill: async () => {
      // before runc wrote the pid the process has not run: ending runc ends the exec
      if (!(await killProcessTree(pidFile))) child.kill('SIGKILL');
    },
  };
}

/** Lines conmon writes on a pipe, as parsed JSON (`{"data": N, "message"?: ...}` with --api-version 1). */
function conmonMessages(pipe: Readable): AsyncGenerator<{ data?: number; message?: string }> {
  return (async function* () {
    let text = '';
    for await (const chunk of pipe) {
      text += (chunk as Buffer).toString('utf8');
      let nl = text.indexOf('\n');
      while (nl >= 0) {
        const line = text.slice(0, nl).trim();
        text = text.slice(nl + 1);
        if (line) yield JSON.parse(line) as { data?: number; message?: string };
        nl = text.indexOf('\n');
      }
    }
  })();
}

function conmonExecArgs(
  target: ExecTarget,
  opts: ExecOptions,
  id: string,
  dir: string,
  specFile: string,
): string[] {
  return [
    '--api-version',
    '1',
    ...['-c', target.id, '-u', id, '-n', target.id],
    ...['-r', target.runtime.binary ?? DEFAULT_RUNC, '-b', dir],
    ...['-p', join(dir, 'pidfile'), '-P', join(dir, 'conmon.pid')],
    // an exec's output is not the container's log; no --exit-dir either: its file is named by the
    // container id and would pass for the container's own exit
    ...['-l', 'none:', '-0', dir, '--socket-dir-path', dir, '--full-attach'],
    ...['-e', '--exec-process-spec', specFile],
    ...(opts.detach ? [] : ['--exec-attach']),
    ...(opts.tty ? ['-t'] : []),
    ...(opts.stdin && !opts.detach ? ['-i'] : []),
    ...['--runtime-arg', `--root=${target.runtime.root}`],
    ...['--runtime-arg', '--log-format=json', '--runtime-arg', `--log=${join(dir, 'runc.log')}`],
    '--log-level=error',
  ];
}

/**
 * conmon --exec: waits for its attach socket (unless detached), attaches, lets the process start, and
 * reads the pid and then the exit code from the sync pipe.
 */
async function runUnderConmon(
  target: ExecTarget,
  opts: ExecOptions,
  id: string,
  dir: string,
  specFile: string,
): Promise<ExecSession> {
  const conmon: ChildProcess = spawn(
    opts.conmonBinary ?? DEFAULT_CONMON,
    conmonExecArgs(target, opts, id, dir, specFile),
    {
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        _OCI_SYNCPIPE: '3',
        _OCI_STARTPIPE: '4',
        ...(opts.detach ? {} : { _OCI_ATTACHPIPE: '5' }),
      },
    },
  );
  conmon.unref();
  const [syncPipe, startPipe, attachPipe] = [3, 4, 5].map((fd) => conmon.stdio[fd]) as [
    Readable,
    Writable,
    Readable,
  ];
  startPipe.on('error', () => undefined);
  const spawnFailed = new Promise<never>((_, reject) =>
    conmon.once('error', (err) => reject(new ExecSetupError(`cannot run conmon: ${err.message}`))),
  );
  const sync = conmonMessages(syncPipe);
  let attachment: MonitorAttachment | undefined;
  try {
    startPipe.write('0');
    if (!opts.detach) {
      const ready = await Promise.race([conmonMessages(attachPipe).next(), spawnFailed]);
      if (ready.done)
        throw new ExecSetupError(`conmon for exec in ${target.id} ended before its attach socket was up`);
      attachment = await attachToMonitor(join(dir, 'attach'), { relayBinary: opts.relayBinary });
      // now the process may start: we are attached, nothing it writes is lost
      startPipe.write('1');
    }
    startPipe.end();
    const started = await Promise.race([sync.next(), spawnFailed]);
    const pid = started.done ? undefined : started.value.data;
    if (pid === undefined || pid <= 0) {
      const message =
        (!started.done && started.value.message?.trim()) || runcLoggedError(join(dir, 'runc.log'));
      attachment?.close();
      const failure = execFailureExit(message ?? `conmon for exec in ${target.id} reported no pid`);
      const closedStream = (): Readable => new PassThrough().end() as unknown as Readable;
      await rm(dir, { recursive: true, force: true });
      return {
        id,
        stdout: closedStream(),
        stderr: closedStream(),
        exit: Promise.resolve(failure),
        resize: async () => undefined,
        kill: async () => undefined,
      };
    }
  } catch (err) {
    attachment?.close();
    syncPipe.destroy();
    throw err;
  }

  const exitCode = (async (): Promise<number> => {
    const ended = await sync.next();
    if (!ended.done && typeof ended.value.data === 'number') return ended.value.data;
    // conmon went without telling: its exit file is the record
    const text = await readFile(join(dir, 'exit'), 'utf8').catch(() => '');
    return /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : EXIT_CANNOT_RUN;
  })();
  const stdout = attachment?.stdout ?? (new PassThrough().end() as unknown as Readable);
  const stderr = attachment?.stderr ?? (new PassThrough().end() as unknown as Readable);
  const exit = (async (): Promise<ExecExit> => {
    const code = await exitCode;
    // conmon closes its clients before it reports the exit: wait until the relay has passed on the rest
    await attachment?.closed;
    return { exitCode: code };
  })().finally(() => rm(dir, { recursive: true, force: true }));
  return {
    id,
    stdout,
    stderr,
    ...(attachment && opts.stdin ? { stdin: attachment.stdin } : {}),
    exit,
    resize: (size) => (opts.tty ? resizeTerminal(join(dir, 'ctl'), size.rows, size.cols) : Promise.resolve()),
    kill: async () => {
      await killProcessTree(join(dir, 'pidfile'));
    },
  };
}
