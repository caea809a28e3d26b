// A warm tsnetctl: a process the agent started (pkg/agent/warm-clients.ts) that has loaded the client and waits
// for an invocation of the native tsnetctl (native/ctl-front), then becomes that client and runs its command
// (protocol: warm-protocol.ts). Before its "ok" it only reads and checks; after the front's "go" it takes the
// front's stdin, stdout and stderr as its own 0, 1 and 2 (the same open files: offsets, O_APPEND, terminals),
// its working directory, umask, rlimits, environment and argv. The front forwards the signals it gets; the
// exit line carries the exit code; a front that goes away ends this process as a killed client would end.
//
// A command that leaves nothing behind gives all of it back and the process waits for the next front (a Node
// start costs more CPU than most commands: one per command made back-to-back calls wait for replacements);
// any other ends the process as the client's own would end. process.stdout, stderr and stdin are made per
// command from the client's descriptors (warm-stdio.ts), never before a client took over.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { getPriority } from 'node:os';
import {
  close,
  dup2,
  fileStatusFlags,
  peerPidfd,
  pidfdGetfd,
  pidfdOpen,
  processAlive,
  RLIMIT_COUNT,
  resourceLimit,
  runEveryThreadAt,
  setFileStatusFlags,
  setResourceLimit,
} from '../../native/libc.ts';
import { namespacesOf, peerCredentialsOf, socketFd } from '../unixsock/peer.ts';
import {
  BUILD_ID,
  DEBUG_ENV,
  decodeWarmRequest,
  MAX_REQUEST_BYTES,
  REQUEST_TIMEOUT_MS,
  WARM_ENV,
  type WarmRequest,
} from './warm-protocol.ts';
import { WarmStdio } from './warm-stdio.ts';

/** The message the agent sends with the front's connection as its handle. */
export const CLIENT_MESSAGE = 'tsnetctl-client';
/** The message a warm process sends the agent once it can take a client. */
export const READY_MESSAGE = 'tsnetctl-ready';

/** The agent's API socket when this process was started by it as a warm tsnetctl (with its IPC channel). */
export function warmClientOf(): string | undefined {
  const apiSocket = process.env[WARM_ENV];
  return apiSocket?.startsWith('/') && typeof process.send === 'function' ? apiSocket : undefined;
}

/**
 * Variables read when a process starts (by Node, libuv or the dynamic loader), which this one did with the
 * agent's environment: a client that sets them otherwise is not served.
 */
const READ_AT_START = [
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_DEBUG',
  'NODE_DEBUG_NATIVE',
  'NODE_NO_WARNINGS',
  'NODE_PENDING_DEPRECATION',
  'NODE_PRESERVE_SYMLINKS',
  'NODE_REDIRECT_WARNINGS',
  'NODE_V8_COVERAGE',
  'NODE_ICU_DATA',
  'NODE_COMPILE_CACHE',
  'UV_THREADPOOL_SIZE',
  'UV_USE_IO_URING',
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'GLIBC_TUNABLES',
] as const;

/** This process's environment as the agent started it. */
const startedWith: NodeJS.ProcessEnv = { ...process.env };

/** A front refused before anything was taken over: it runs the Node tsnetctl instead. */
class Refusal extends Error {}

/** One command of a client: runs process.argv to its exit code (a failure printed), never ends the process. */
export type WarmCommand = () => Promise<number>;

/**
 * How many commands one warm process serves before it ends and the agent starts a fresh one (what a command
 * leaves in the heap, or in a module's state, is never carried far).
 */
export const MAX_COMMANDS = 100;
/** How long the front has, once told the exit code, to close its connection before this process ends. */
const FRONT_CLOSE_TIMEOUT_MS = 5000;

/** What `ps` shows of a warm tsnetctl waiting for a client; a client's is `tsnetctl`. */
export const TITLE_READY = 'tsnetctl (warm)';

/**
 * Runs `warmUp` (what every command needs before it can read argv), then serves the fronts the agent hands
 * over, one at a time: each becomes this process's client (process.argv, env, cwd, stdio are its own) for the
 * time of one command of `nextCommand()`. A command that leaves nothing behind (no stdin read, no handle,
 * timer or listener of its own, every attribute of the process given back) lets this process go back to the
 * agent for the next front; after any other the process ends with the command's exit code, as the client's
 * own process would. A refused or vanished front leaves this process waiting for the next.
 */
export async function serveAsWarmClient(
  warmUp: () => Promise<void>,
  nextCommand: () => WarmCommand,
): Promise<void> {
  delete process.env[WARM_ENV];
  const stdio = new WarmStdio();
  await warmUp();
  const own = ownAttributes();
  for (let served = 0; ; ) {
    process.title = TITLE_READY;
    // the agent is told first: a front that comes meanwhile is handed over once the tree is built
    const handed = handedConnection();
    const command = nextCommand();
    const socket = await handed;
    socket.on('error', () => undefined);
    let taken: Takeover;
    try {
      taken = prepareTakeover(await readRequest(socket), socket);
    } catch (err) {
      // refused before anything changed here: the front runs the Node tsnetctl, this one waits for another
      const why = err instanceof Refusal ? err.message : `cannot serve it: ${(err as Error).message}`;
      socket.end(`no ${why.replace(/\n/g, ' ')}\n`, () => socket.destroy());
      continue;
    }
    socket.write(`ok ${process.pid}\n`);
    if (!(await frontSaysGo(socket))) {
      // the front gave up waiting and runs the command itself
      taken.release();
      socket.destroy();
      continue;
    }
    served++;
    const code = await runForClient(command, taken, socket, stdio);
    const leftover = served >= MAX_COMMANDS ? `${served} commands served` : leftBehind(own, stdio);
    if (leftover && process.env[DEBUG_ENV]) writeSync(2, `tsnetctl: the warm tsnetctl ends: ${leftover}\n`);
    // the end of this process is the end of the client's: the 'exit' handler writes the exit line
    if (leftover || !taken.giveBack(own) || !process.connected) process.exit(code);
    process.removeListener('exit', exitLine);
    if (!(await frontClosed(socket, code))) process.exit(code);
  }
}

/** Writes the exit line to the front when the process ends while (or as) it serves that front. */
let exitLine: (code: number) => void = () => undefined;

/** Takes the client's attributes, runs its command, and flushes what it wrote; the command's exit code. */
async function runForClient(
  command: WarmCommand,
  taken: Takeover,
  socket: Socket,
  stdio: WarmStdio,
): Promise<number> {
  taken.apply();
  stdio.open();
  const fd = socketFd(socket);
  exitLine = (code) => {
    // What Node does as it ends, done before the front ends (and its shell takes the terminal back): a
    // terminal out of raw mode, and the flags of the client's files (Node puts back those of the descriptors
    // it started with only)
    if (stdio.stdinMade) resetTerminal();
    taken.restoreFileFlags();
    try {
      writeSync(fd, `exit ${code}\n`);
    } catch {
      // the front is gone: nobody to tell
    }
  };
  process.on('exit', exitLine);
  // A front that ends before the exit line was killed: so is the client it stood for.
  const killed = () => process.kill(process.pid, 'SIGKILL');
  socket.on('end', killed);
  socket.on('close', killed);
  socket.resume();
  socket.unref();
  const code = await command();
  await stdio.close();
  socket.off('end', killed);
  socket.off('close', killed);
  return code;
}

/**
 * The exit line, then the front's end of the connection: a signal the front passes on is delivered before
 * it closes, so none reaches the next client's command. False when the front did not close in time.
 */
function frontClosed(socket: Socket, code: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), FRONT_CLOSE_TIMEOUT_MS);
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(closed);
    };
    socket.once('end', () => done(true));
    socket.once('close', () => done(true));
    socket.ref();
    try {
      writeSync(socketFd(socket), `exit ${code}\n`);
    } catch {
      done(true); // the front is gone already
    }
  });
}

/** What this process is between clients: given back after each, and compared against. */
interface OwnAttributes {
  readonly env: Readonly<NodeJS.ProcessEnv>;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly umask: number;
  readonly limits: readonly Buffer[];
  /** the listeners on `process` per event, before any command */
  readonly listeners: ReadonlyMap<string | symbol, number>;
  /**
   * Node's ref'd handles, timers and requests by kind, before any command (the warm-up's connection to the
   * agent; Node's own stderr on the agent's pipe when a module made it as it loaded)
   */
  readonly resources: ReadonlyMap<string, number>;
}

function ownAttributes(): OwnAttributes {
  return {
    env: { ...process.env },
    argv: [...process.argv],
    cwd: process.cwd(),
    umask: process.umask(),
    limits: Array.from({ length: RLIMIT_COUNT }, (_, resource) => resourceLimit(process.pid, resource)),
    listeners: processListeners(),
    resources: counted(process.getActiveResourcesInfo()),
  };
}

function counted(kinds: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** The listeners on `process` per event, but for Node's own of the channel to the agent. */
function processListeners(): Map<string | symbol, number> {
  return new Map(
    process
      .eventNames()
      .filter((name) => name !== 'internalMessage')
      .map((name) => [name, process.listenerCount(name)]),
  );
}

/**
 * What the command left that the next one would meet: its stdin, a listener on the process, or more ref'd
 * handles, timers or requests of a kind than before the first command (its streams are closed by now, the
 * front's connection unref'd).
 */
function leftBehind(own: OwnAttributes, stdio: WarmStdio): string | undefined {
  if (stdio.stdinMade) return 'the command made process.stdin';
  const now = processListeners();
  // the exit line's own listener is there until the command is over
  const expected = (name: string | symbol) => (own.listeners.get(name) ?? 0) + (name === 'exit' ? 1 : 0);
  for (const name of new Set([...now.keys(), ...own.listeners.keys()]))
    if ((now.get(name) ?? 0) !== expected(name)) return `listeners of process ${String(name)} changed`;
  const held = counted(process.getActiveResourcesInfo());
  for (const [kind, count] of held) {
    const before = own.resources.get(kind) ?? 0;
    if (count > before) return `a ${kind} left (${count} held, ${before} before the first command)`;
  }
  return undefined;
}

function resetTerminal(): void {
  const stdin = process.stdin as NodeJS.ReadStream & { isRaw?: boolean };
  if (stdin.isTTY && stdin.isRaw) stdin.setRawMode(false);
}

/** The next connection the agent hands over; while none came, the agent going away ends this process. */
function handedConnection(): Promise<Socket> {
  return new Promise((resolve) => {
    const onDisconnect = () => process.exit(0);
    if (!process.connected) onDisconnect();
    process.on('disconnect', onDisconnect);
    process.on('message', function onMessage(message: unknown, handle: unknown) {
      if (message !== CLIENT_MESSAGE || handle === undefined) return;
      process.off('message', onMessage);
      process.off('disconnect', onDisconnect);
      resolve(handle as Socket);
    });
    process.send?.(READY_MESSAGE);
  });
}

function readRequest(socket: Socket): Promise<WarmRequest> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const timer = setTimeout(
      () => finish(new Refusal('the request did not come in time')),
      REQUEST_TIMEOUT_MS,
    );
    const finish = (result: Error | WarmRequest) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onEnd = () => finish(new Refusal('the request ended early'));
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < 4) return;
      const all = Buffer.concat(chunks);
      const length = all.readUInt32BE(0);
      if (length > MAX_REQUEST_BYTES) return finish(new Refusal(`a request of ${length} bytes`));
      if (all.length < 4 + length) return;
      try {
        finish(decodeWarmRequest(all.subarray(4, 4 + length)));
      } catch (err) {
        finish(new Refusal((err as Error).message));
      }
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.resume();
  });
}

/**
 * After our "ok": the front's "go", or the end of the connection (a front that gave up closes it). No timer
 * here: a front that said "go" waits for the command, however late this process reads it.
 */
function frontSaysGo(socket: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    let text = '';
    const done = (go: boolean) => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.pause();
      resolve(go);
    };
    const onEnd = () => done(false);
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\n')) done(text === 'go\n');
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.resume();
  });
}

interface Takeover {
  /** Makes this process the client; cannot fail half-way. */
  apply(): void;
  /** Gives back what was taken (the front runs the command itself). */
  release(): void;
  /** Puts back the file status flags (O_NONBLOCK...) the client's stdin, stdout and stderr had. */
  restoreFileFlags(): void;
  /**
   * After the command: the client's files, flags put back, are no longer held here (fds 0-2 are /dev/null:
   * a reader of the client's pipe sees its end), and this process is `own` again. False when it cannot be
   * (a hard limit the client had lower than ours).
   */
  giveBack(own: OwnAttributes): boolean;
}

/** Lines of /proc/<pid>/status that must be the same as ours: what the process may do. */
const SAME_AUTHORITY = ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp'];

/** Everything that can refuse the front, done before it is told "ok"; nothing of this process changes yet. */
function prepareTakeover(req: WarmRequest, socket: Socket): Takeover {
  if (req.buildId !== BUILD_ID) throw new Refusal(`build ${req.buildId} is not this agent's (${BUILD_ID})`);
  const differing = READ_AT_START.find((name) => (req.env[name] ?? '') !== (startedWith[name] ?? ''));
  if (differing) throw new Refusal(`${differing} is not what this warm tsnetctl started with`);
  const { pid, uid } = peerCredentialsOf(socket);
  const ownUid = process.getuid?.() ?? 0;
  if (uid !== ownUid) throw new Refusal(`peer pid ${pid} runs as uid ${uid}, not as the agent (${ownUid})`);
  if (pid <= 0) throw new Refusal('the peer is not visible in the agent\u2019s PID namespace');
  // the kernel's handle on the process that connected (taken at connect: never a later one with its pid)
  const pidfd = peerPidfd(socketFd(socket)) ?? pidfdOpen(pid);
  const fds: (number | null)[] = [];
  let flags: number[] = [];
  let limits: Buffer[] = [];
  let priority = 0;
  let umask = 0;
  try {
    const own = namespacesOf('self');
    const peer = namespacesOf(pid);
    for (const kind of ['net', 'mnt', 'pid', 'user'] as const)
      if (peer[kind] !== own[kind]) throw new Refusal(`peer pid ${pid} runs in another ${kind} namespace`);
    const ownStatus = statusOf('self');
    const peerStatus = statusOf(pid);
    const other = SAME_AUTHORITY.find((key) => peerStatus.get(key) !== ownStatus.get(key));
    if (other) throw new Refusal(`peer pid ${pid} has another ${other} than this warm tsnetctl`);
    umask = Number.parseInt(peerStatus.get('Umask') ?? 'x', 8);
    if (!Number.isInteger(umask)) throw new Refusal(`cannot read the umask of pid ${pid}`);
    limits = Array.from({ length: RLIMIT_COUNT }, (_, resource) => resourceLimit(pid, resource));
    priority = getPriority(pid);
    process.chdir(req.cwd); // ours meant nothing; a directory the client cannot be in refuses here
    for (const target of [0, 1, 2]) fds.push(pidfdGetfd(pidfd, target));
    flags = fds.map((fd) => (fd === null ? 0 : fileStatusFlags(fd)));
    // all of the above read the process that connected, if it is still there (its pid not yet another's)
    if (!processAlive(pidfd)) throw new Refusal(`peer pid ${pid} has ended`);
  } catch (err) {
    for (const fd of fds) if (fd !== null) close(fd);
    throw err;
  } finally {
    close(pidfd);
  }
  const restoreFileFlags = () =>
    fds.forEach((fd, target) => {
      if (fd === null) return;
      try {
        setFileStatusFlags(target, flags[target] ?? 0);
      } catch {
        // a descriptor the command closed
      }
    });
  return {
    apply() {
      fds.forEach((fd, target) => {
        // a descriptor the client did not have is /dev/null, as Node makes it at its own start
        const source = fd ?? openSync('/dev/null', target === 0 ? 'r' : 'w');
        dup2(source, target);
        closeSync(source);
      });
      process.umask(umask);
      limits.forEach((limit, resource) => {
        try {
          setResourceLimit(resource, limit);
        } catch {
          // a soft limit below what this process already uses (RLIMIT_NOFILE under its open descriptors)
        }
      });
      becomeClientProcess(req, priority);
    },
    release() {
      for (const fd of fds) if (fd !== null) close(fd);
    },
    restoreFileFlags,
    giveBack(own) {
      restoreFileFlags();
      for (const target of [0, 1, 2]) {
        const nothing = openSync('/dev/null', target === 0 ? 'r' : 'w');
        dup2(nothing, target);
        closeSync(nothing);
      }
      process.chdir(own.cwd);
      process.umask(own.umask);
      for (const key of Object.keys(process.env)) delete process.env[key];
      Object.assign(process.env, own.env);
      process.argv.splice(0, process.argv.length, ...own.argv);
      process.title = TITLE_READY;
      return own.limits.every((limit, resource) => {
        try {
          setResourceLimit(resource, limit);
          return resourceLimit(process.pid, resource).equals(limit);
        } catch {
          return false;
        }
      });
    },
  };
}

/** The `Key:\tvalue` lines of /proc/<pid>/status. */
function statusOf(pid: number | 'self'): Map<string, string> {
  const lines = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n');
  return new Map(
    lines.flatMap((line) => {
      const colon = line.indexOf(':');
      return colon > 0 ? [[line.slice(0, colon), line.slice(colon + 1).trim()] as const] : [];
    }),
  );
}

function becomeClientProcess(req: WarmRequest, priority: number): void {
  const env = { ...req.env };
  // what the Node tsnetctl's launcher line does (scripts/build.ts CLI_SHEBANG)
  env['TSNET_EXTRA_CA_CERTS'] = env['NODE_EXTRA_CA_CERTS'] ?? '';
  delete env['NODE_EXTRA_CA_CERTS'];
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, env);
  process.argv.splice(2, process.argv.length - 2, ...req.args);
  process.title = 'tsnetctl';
  // the agent started us behind every other work (SCHED_IDLE, or nice 19, in every thread); the client's
  // command runs at the client's own priority
  runEveryThreadAt('self', priority);
}
