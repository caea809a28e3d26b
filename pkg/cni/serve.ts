// CNI over a unix socket: tsnet-agent serves the plugins' verbs in its warm process, a plugin's main forwards
// its invocation there and prints the answer, saving a cold start of the plugin code on every call.
//
// Protocol, one request per connection, newline-delimited JSON:
//   server -> client  hello    {"tsnetCni":1,"netns":<inode of its /proc/self/ns/net>,"mntns":<of ns/mnt>}
//   client -> server  request  {"plugin":"tsnet-bridge","netns":<client's inode>,"env":{...},"stdin":"..."}
//   server -> client  response {"stdout":"...","stderr":"...","exitCode":0}  (servePlugin's PluginOutput)
// A plugin only forwards when the server runs in its own network and mount namespaces (the hello says which:
// in another mount namespace, e.g. an agent container without the host's /run/netns, CNI_NETNS paths would not
// resolve); anything
// that fails before the request is sent falls back to running in-process. Once it is sent, the request is
// never run twice: a broken connection is answered with "try again later" (code 11).
import { statSync } from 'node:fs';
import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { dirname, isAbsolute } from 'node:path';
import { inTurn } from '../sync/turns.ts';
import { CniError, ErrorCode, toCniError } from './errors.ts';
import { type CniPlugin, type PluginOutput, servePlugin } from './skel.ts';
import type { EnvRecord } from './types.ts';
import { CURRENT_VERSION, isSupportedVersion } from './version.ts';

export const DEFAULT_CNI_SOCKET = '/run/tsnet/cni.sock';
/** Overrides the socket path a plugin forwards to (absolute paths only). */
export const CNI_SOCKET_ENV = 'TSNET_CNI_SOCKET';
const PROTOCOL_VERSION = 1;
/** A request larger than this is refused (configs are kilobytes). */
const MAX_REQUEST_BYTES = 8 << 20;
/** How long a plugin waits for the agent's hello before running in-process instead. */
const HELLO_TIMEOUT_MS = 2000;
/** How long the server waits for a connected client's request line (a plugin sends it at once). */
const REQUEST_TIMEOUT_MS = 10_000;

export interface CniHello {
  tsnetCni: number;
  netns: number;
  mntns: number;
  /** The plugin types served: a plugin the agent does not serve runs in-process. */
  plugins: string[];
}

export interface CniRequest {
  /** The plugin type, e.g. "tsnet-bridge". */
  plugin: string;
  /** Inode of the caller's network namespace. */
  netns: number;
  env: Record<string, string>;
  stdin: string;
}

/** Inode of this process's network namespace (nsfs inodes identify a namespace host-wide). */
export function currentNetnsInode(): number {
  return statSync('/proc/self/ns/net').ino;
}

/** Inode of this process's mount namespace: paths (CNI_NETNS, CNI_PATH, data dirs) mean the same only within one. */
export function currentMntnsInode(): number {
  return statSync('/proc/self/ns/mnt').ino;
}

/** The socket a plugin forwards to: TSNET_CNI_SOCKET when it is an absolute path, else the default. */
export function cniSocketPath(env: EnvRecord): string {
  const override = env[CNI_SOCKET_ENV];
  return override && isAbsolute(override) ? override : DEFAULT_CNI_SOCKET;
}

// --- server -----------------------------------------------------------------------------------------------

export interface CniServerOptions {
  /** Plugins by type. */
  plugins: ReadonlyMap<string, CniPlugin>;
  /** Called once per request answered (after servePlugin returned). */
  onServed?: (plugin: string, command: string, output: PluginOutput) => void;
}

export interface CniServer {
  readonly path: string;
  /** Stops accepting, waits for requests in flight, removes the socket. */
  close(): Promise<void>;
}

/**
 * Serves CNI requests on a unix socket at `path` (mode 0600; a stale socket file is replaced). Requests run
 * concurrently, each through servePlugin of its plugin, in this process's network namespace.
 */
export async function startCniServer(path: string, options: CniServerOptions): Promise<CniServer> {
  if (!isAbsolute(path)) throw new Error(`CNI socket ${JSON.stringify(path)}: expected an absolute path`);
  const netns = currentNetnsInode();
  const inFlight = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  /** Connections whose request was read and is being served. */
  const served = new WeakSet<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const done = serveConnection(socket, netns, options, () => served.add(socket)).finally(() =>
      inFlight.delete(done),
    );
    inFlight.add(done);
  });
  await mkdir(dirname(path), { recursive: true });
  // A stale socket (agent killed) is replaced; a live one belongs to another agent and is left alone; any
  // other kind of file is not ours to delete.
  if (await isListening(path))
    throw new Error(`CNI socket ${path} is served by another process (another tsnet-agent?)`);
  const existing = await lstat(path).catch(() => undefined);
  if (existing && !existing.isSocket()) throw new Error(`CNI socket path ${path} exists and is not a socket`);
  await rm(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // umask-independent: nobody but root may connect, even for the moment before chmod.
    const oldMask = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(oldMask);
    }
  });
  await chmod(path, 0o600);
  return {
    path,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Connections without a complete request would keep the server open: only requests being served finish.
      for (const s of sockets) if (!served.has(s)) s.destroy();
      await Promise.allSettled([...inFlight]);
      await closed;
      await rm(path, { force: true });
    },
  };
}

function isListening(path: string): Promise<boolean> {
  return connect(path).then(
    (socket) => {
      socket.destroy();
      return true;
    },
    () => false,
  );
}

async function serveConnection(
  socket: Socket,
  netns: number,
  options: CniServerOptions,
  onRequest: () => void,
): Promise<void> {
  socket.on('error', () => undefined);
  socket.write(
    `${JSON.stringify({
      tsnetCni: PROTOCOL_VERSION,
      netns,
      mntns: currentMntnsInode(),
      plugins: [...options.plugins.keys()],
    } satisfies CniHello)}\n`,
  );
  let line: string;
  try {
    line = await readLine(socket, MAX_REQUEST_BYTES, REQUEST_TIMEOUT_MS);
  } catch {
    socket.destroy();
    return;
  }
  onRequest();
  const { plugin: type, command, output } = await answer(line, netns, options.plugins);
  if (type !== undefined) options.onServed?.(type, command, output);
  socket.end(`${JSON.stringify(output)}\n`);
}

async function answer(
  line: string,
  netns: number,
  plugins: ReadonlyMap<string, CniPlugin>,
): Promise<{ plugin?: string; command: string; output: PluginOutput }> {
  let request: CniRequest;
  try {
    request = parseRequest(line);
  } catch (err) {
    return { command: '', output: errorOutput(toCniError(err), '') };
  }
  const command = request.env['CNI_COMMAND'] ?? '';
  const plugin = plugins.get(request.plugin);
  if (!plugin) {
    const err = new CniError(ErrorCode.Internal, `tsnet-agent does not serve plugin ${request.plugin}`);
    return { command, output: errorOutput(err, request.stdin) };
  }
  if (request.netns !== netns) {
    const err = new CniError(
      ErrorCode.TryAgainLater,
      'tsnet-agent runs in another network namespace than the plugin',
      `agent netns ${netns}, plugin netns ${request.netns}`,
    );
    return { plugin: request.plugin, command, output: errorOutput(err, request.stdin) };
  }
  // Requests for one attachment run in arrival order. A runtime that gives up on an ADD kills the plugin and
  // sends DEL; the agent still finishes that ADD, so the DEL must wait for it rather than overtake it.
  const containerId = request.env['CNI_CONTAINERID'];
  const ifname = request.env['CNI_IFNAME'];
  const serve = () => servePlugin(plugin, { env: request.env, stdin: request.stdin });
  const output = containerId && ifname ? await inTurn(`${containerId}\0${ifname}`, serve) : await serve();
  return { plugin: request.plugin, command, output };
}

function parseRequest(line: string): CniRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new CniError(ErrorCode.DecodingFailure, 'malformed CNI request', (err as Error).message);
  }
  const r = value as Partial<CniRequest> | null;
  const envOk =
    typeof r?.env === 'object' && r.env !== null && Object.values(r.env).every((v) => typeof v === 'string');
  if (typeof r?.plugin !== 'string' || typeof r.netns !== 'number' || typeof r.stdin !== 'string' || !envOk)
    throw new CniError(
      ErrorCode.DecodingFailure,
      'malformed CNI request: expected {plugin, netns, env, stdin}',
    );
  return r as CniRequest;
}

// --- client -----------------------------------------------------------------------------------------------

/**
 * Sends one invocation to the agent at `path`. Undefined when the agent cannot take it (no socket, nobody
 * listening, another network namespace, no hello): the caller runs the plugin in-process. Once the request
 * is sent, a broken connection is answered with code 11, never by running the request again.
 */
export async function forwardToAgent(
  path: string,
  request: Omit<CniRequest, 'netns'>,
): Promise<PluginOutput | undefined> {
  let socket: Socket;
  try {
    socket = await connect(path);
  } catch {
    return undefined; // ENOENT, ECONNREFUSED, EACCES ...: nothing was sent
  }
  try {
    const netns = currentNetnsInode();
    let hello: CniHello;
    try {
      hello = JSON.parse(await readLine(socket, 4096, HELLO_TIMEOUT_MS)) as CniHello;
    } catch {
      return undefined;
    }
    if (
      hello?.tsnetCni !== PROTOCOL_VERSION ||
      hello.netns !== netns ||
      hello.mntns !== currentMntnsInode() ||
      !Array.isArray(hello.plugins) ||
      !hello.plugins.includes(request.plugin)
    ) {
      return undefined; // nothing sent: the plugin runs in-process
    }
    socket.write(`${JSON.stringify({ ...request, netns } satisfies CniRequest)}\n`);
    try {
      return parseOutput(await readLine(socket, Number.POSITIVE_INFINITY));
    } catch (err) {
      const broken = new CniError(
        ErrorCode.TryAgainLater,
        `tsnet-agent (${path}) did not answer the ${request.env['CNI_COMMAND'] ?? ''} request`,
        `${(err as Error).message}; the request may have been partly applied, retry it`,
      );
      return errorOutput(broken, request.stdin);
    }
  } finally {
    socket.destroy();
  }
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined); // surfaced by readLine as a closed connection
      resolve(socket);
    });
  });
}

function parseOutput(line: string): PluginOutput {
  const o = JSON.parse(line) as Partial<PluginOutput> | null;
  if (typeof o?.stdout !== 'string' || typeof o.stderr !== 'string' || !Number.isInteger(o.exitCode))
    throw new Error('malformed answer from tsnet-agent');
  return o as PluginOutput;
}

/** The first line from `socket` (without the newline); rejects if it closes or times out before one. */
function readLine(socket: Socket, maxBytes: number, timeoutMs?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer =
      timeoutMs === undefined ? undefined : setTimeout(() => finish(new Error('timed out')), timeoutMs);
    const finish = (err: Error | undefined, line?: string): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve(line ?? '');
    };
    const onData = (chunk: Buffer): void => {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) {
        chunks.push(chunk);
        size += chunk.length;
        if (size > maxBytes) finish(new Error(`line longer than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk.subarray(0, nl));
      // Whatever follows the line belongs to the next read.
      if (nl + 1 < chunk.length) socket.unshift(chunk.subarray(nl + 1));
      finish(undefined, Buffer.concat(chunks).toString('utf8'));
    };
    const onClose = (): void => finish(new Error('connection closed before a complete answer'));
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/** The spec's error JSON in the config's version when it can be read, as servePlugin prints it. */
function errorOutput(err: CniError, stdin: string): PluginOutput {
  let version = CURRENT_VERSION;
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    if (typeof v === 'string' && isSupportedVersion(v)) version = v;
  } catch {
    // not JSON: the current version
  }
  return { stdout: JSON.stringify(err.toJSON(version), null, 4), stderr: '', exitCode: 1 };
}

// --- the plugin executable --------------------------------------------------------------------------------

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A plugin executable's entry point: forwards the invocation to tsnet-agent when it serves this node's
 * namespace, else loads the plugin (`load`, a dynamic import, so forwarding never loads the plugin's
 * code) and runs it in-process. VERSION and the about text never ask the agent.
 */
export async function runForwardingPluginMain(type: string, load: () => Promise<CniPlugin>): Promise<void> {
  const command = process.env['CNI_COMMAND'] ?? '';
  let stdin: string | undefined;
  if (command !== '' && command !== 'VERSION') {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    try {
      stdin = await readProcessStdin();
    } catch {
      stdin = undefined; // servePlugin reports the read failure in-process
    }
    if (stdin !== undefined) {
      const out = await forwardToAgent(cniSocketPath(env), { plugin: type, env, stdin });
      if (out) return printOutput(out);
    }
  }
  let plugin: CniPlugin;
  try {
    plugin = await load();
  } catch (err) {
    // Even a plugin that cannot load answers in the spec's format, never with a bare stack trace.
    return printOutput(errorOutput(toCniError(err), stdin ?? ''));
  }
  printOutput(await servePlugin(plugin, { env: process.env, stdin: stdin ?? readProcessStdin }));
}

function printOutput(out: PluginOutput): void {
  if (out.stderr) process.stderr.write(out.stderr);
  if (out.stdout) process.stdout.write(out.stdout);
  process.exitCode = out.exitCode;
}
