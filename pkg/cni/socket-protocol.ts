// The protocol between a plugin executable and tsnet-agent's CNI socket: messages, framing and limits. Both
// ends (pkg/cni/server.ts, pkg/cni/client.ts) speak it; nothing here loads the native module.
//
// One request per connection, newline-delimited JSON:
//   server -> client  hello    {"tsnetCni":2,"netns":<inode of its /proc/self/ns/net>,"mntns":<of ns/mnt>,
//                               "buildId":"...","plugins":[...],"refusal":"<why>" (a peer it will refuse)}
//   client -> server  request  {"plugin":"tsnet-bridge","netns":<client's inode>,"env":{...},
//                               "stdinBase64":"..."}   (or "stdin":"<text>")
//   server -> client  response {"stdout":"...","stderr":"...","exitCode":0}  (servePlugin's PluginOutput)
//                     or       {"fallback":"<why>"}: nothing was done, the plugin runs the request itself
// A plugin only forwards when the hello says the agent runs in its network namespace and either its mount
// namespace or its PID namespace, and was built from the same build (so its answer is the one the plugin's
// own code would give). That choice is the client's convenience, not the server's trust: the server checks
// the peer itself (SO_PEERCRED, /proc/<pid>/ns), answers a refused peer with the spec's error JSON, and, for a
// peer in another mount namespace (the agent in a container), serves a request only when every path it names
// is the same file for both (views.ts); otherwise it hands the request back.
// Two clients speak it: native/cni-forward (the executables the build installs; it forwards only within one
// mount namespace and otherwise executes the Node plugin, which applies the rule above) and pkg/cni/client.ts.
// Stdin travels as base64: the bytes a delegate gets must be the caller's.
import { statSync } from 'node:fs';
import type { Socket } from 'node:net';
import { isAbsolute } from 'node:path';
import { CniError, ErrorCode } from './errors.ts';
import type { PluginOutput } from './output.ts';
import type { EnvRecord } from './types.ts';

export const DEFAULT_CNI_SOCKET = '/run/tsnet/cni.sock';
/** Overrides the socket path a plugin forwards to (absolute paths only). */
export const CNI_SOCKET_ENV = 'TSNET_CNI_SOCKET';
export const PROTOCOL_VERSION = 2;
/** A request larger than this is refused with the spec's error (configs are kilobytes). */
export const MAX_REQUEST_BYTES = 8 << 20;
/** A hello is a few hundred bytes. */
export const MAX_HELLO_BYTES = 4096;
/** How long a plugin waits for the agent's hello before running in-process instead. */
export const HELLO_TIMEOUT_MS = 2000;
/** How long the server waits for a connected client's request line (a plugin sends it at once). */
export const REQUEST_TIMEOUT_MS = 10_000;

declare const __TSNET_BUILD_ID__: string | undefined;
/** What code run from the sources (no build) advertises and accepts. */
export const DEV_BUILD_ID = 'dev';
/** The build this code was bundled in (scripts/build.ts defines it), DEV_BUILD_ID from the sources. */
export const BUILD_ID: string = typeof __TSNET_BUILD_ID__ === 'string' ? __TSNET_BUILD_ID__ : DEV_BUILD_ID;

/** The file name of a served plugin's Node bundle beside its native forwarder (scripts/build.ts). */
export function nodePluginName(type: string): string {
  return `.${type}-node`;
}

/** The directory beside the plugins where their launchers keep V8 code caches (scripts/cached-launcher.ts). */
export const PLUGIN_CACHE_DIR = '.tsnet-cache';

export interface CniHello {
  tsnetCni: number;
  netns: number;
  mntns: number;
  /** Inode of the agent's PID namespace (absent from older agents). */
  pidns?: number;
  /** The agent's build: a client forwards only to its own build. */
  buildId: string;
  /** The plugin types served: a plugin the agent does not serve runs in-process. */
  plugins: string[];
  /** Set when this peer's requests will be refused (why): the plugin runs in-process instead. */
  refusal?: string;
}

export interface CniRequest {
  /** The plugin type, e.g. "tsnet-bridge". */
  plugin: string;
  /** Inode of the caller's network namespace as the caller claims it: logged, never trusted. */
  netns?: number;
  env: Record<string, string>;
  /** The config bytes: sent base64 (`stdinBase64`) by the clients, or as text (`stdin`). */
  stdin: Uint8Array | string;
}

/** Inode of this process's network namespace (nsfs inodes identify a namespace host-wide). */
export function currentNetnsInode(): number {
  return statSync('/proc/self/ns/net').ino;
}

/** Inode of this process's mount namespace: paths (CNI_NETNS, CNI_PATH, data dirs) mean the same only within one. */
export function currentMntnsInode(): number {
  return statSync('/proc/self/ns/mnt').ino;
}

/** Inode of this process's PID namespace: /proc/<pid> paths mean the same only within one. */
export function currentPidnsInode(): number {
  return statSync('/proc/self/ns/pid').ino;
}

/** The agent's answer when it did nothing and the plugin must run the request itself. */
export interface CniFallback {
  fallback: string;
}

/** The socket a plugin forwards to: TSNET_CNI_SOCKET when it is an absolute path, else the default. */
export function cniSocketPath(env: EnvRecord): string {
  const override = env[CNI_SOCKET_ENV];
  return override && isAbsolute(override) ? override : DEFAULT_CNI_SOCKET;
}

/** The spec's answer to a request over MAX_REQUEST_BYTES (the agent stops reading it: nothing runs). */
export function requestTooLargeError(): CniError {
  return new CniError(
    ErrorCode.IoFailure,
    `CNI request larger than the tsnet-agent limit of ${MAX_REQUEST_BYTES} bytes`,
    'the network configuration and environment of one invocation must stay under the limit',
  );
}

/** A line longer than the reader's limit: the rest of it is still arriving. */
export class LineTooLongError extends Error {
  constructor(readonly maxBytes: number) {
    super(`line longer than ${maxBytes} bytes`);
    this.name = 'LineTooLongError';
  }
}

/** The first line from `socket` (without the newline); rejects if it closes or times out before one. */
export function readLine(socket: Socket, maxBytes: number, timeoutMs?: number): Promise<string> {
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
      const part = nl < 0 ? chunk : chunk.subarray(0, nl);
      chunks.push(part);
      size += part.length;
      if (size > maxBytes) {
        finish(new LineTooLongError(maxBytes));
        return;
      }
      if (nl < 0) return;
      // Whatever follows the line belongs to the next read.
      if (nl + 1 < chunk.length) socket.unshift(chunk.subarray(nl + 1));
      finish(undefined, Buffer.concat(chunks).toString('utf8'));
    };
    const onClose = (): void => finish(new Error('connection closed before a complete answer'));
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/** A request line as the server reads it (code 6 when it is not one). */
export function parseRequest(line: string): CniRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new CniError(ErrorCode.DecodingFailure, 'malformed CNI request', (err as Error).message);
  }
  const r = value as (Partial<Omit<CniRequest, 'stdin'>> & { stdin?: unknown; stdinBase64?: unknown }) | null;
  const env = r?.env;
  const envOk =
    typeof env === 'object' && env !== null && Object.values(env).every((v) => typeof v === 'string');
  const stdin =
    typeof r?.stdinBase64 === 'string'
      ? Buffer.from(r.stdinBase64, 'base64')
      : typeof r?.stdin === 'string'
        ? r.stdin
        : undefined;
  if (typeof r?.plugin !== 'string' || stdin === undefined || !envOk)
    throw new CniError(ErrorCode.DecodingFailure, 'malformed CNI request: expected {plugin, env, stdin}');
  const netns = typeof r.netns === 'number' ? r.netns : undefined;
  return { plugin: r.plugin, netns, env, stdin };
}

/** The request line a client sends. */
export function formatRequest(request: CniRequest): string {
  const { stdin, ...rest } = request;
  const stdinBase64 = (typeof stdin === 'string' ? Buffer.from(stdin, 'utf8') : Buffer.from(stdin)).toString(
    'base64',
  );
  return `${JSON.stringify({ ...rest, stdinBase64 })}\n`;
}

/** Stdin as the text errorVersionOf reads. */
export function stdinText(stdin: Uint8Array | string): string {
  return typeof stdin === 'string' ? stdin : Buffer.from(stdin).toString('utf8');
}

/** A hello as the client reads it; undefined when it is not one. */
export function parseHello(line: string): CniHello | undefined {
  try {
    const h = JSON.parse(line) as Partial<CniHello> | null;
    if (
      typeof h?.tsnetCni === 'number' &&
      typeof h.netns === 'number' &&
      typeof h.mntns === 'number' &&
      typeof h.buildId === 'string' &&
      Array.isArray(h.plugins)
    )
      return h as CniHello;
  } catch {
    // not JSON
  }
  return undefined;
}

/** An answer line as the client reads it. */
export function parseOutput(line: string): PluginOutput | CniFallback {
  const o = JSON.parse(line) as (Partial<PluginOutput> & Partial<CniFallback>) | null;
  if (typeof o?.fallback === 'string') return { fallback: o.fallback };
  if (typeof o?.stdout !== 'string' || typeof o.stderr !== 'string' || !Number.isInteger(o.exitCode))
    throw new Error('malformed answer from tsnet-agent');
  return o as PluginOutput;
}
