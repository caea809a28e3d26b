// The agent side of the CNI socket: serves the plugins' verbs in the warm agent process, one request per
// connection (protocol in socket-protocol.ts). The socket is an authority boundary: whatever a request says,
// it runs with the agent's privileges in the agent's namespaces, so only a root peer in those same network
// and mount namespaces, as the kernel reports it, is served.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { isAbsolute } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type PeerCredentials, requireNativeModule } from '../../native/libc.ts';
import { type Logger, silentLogger } from '../log/index.ts';
import { inTurn } from '../sync/turns.ts';
import { listenUnix } from '../unixsock/listen.ts';
import { type NamespaceIds, namespacesOf, peerCredentialsOf } from '../unixsock/peer.ts';
import { CniError, ErrorCode, toCniError } from './errors.ts';
import { cniErrorOutput, errorVersionOf, type PluginOutput } from './output.ts';
import { type CniPlugin, servePlugin } from './skel.ts';
import {
  BUILD_ID,
  type CniFallback,
  type CniHello,
  type CniRequest,
  currentMntnsInode,
  currentNetnsInode,
  currentPidnsInode,
  LineTooLongError,
  MAX_REQUEST_BYTES,
  PROTOCOL_VERSION,
  parseRequest,
  REQUEST_TIMEOUT_MS,
  readLine,
  requestTooLargeError,
  stdinText,
} from './socket-protocol.ts';
import { CURRENT_VERSION } from './version.ts';
import { firstDifferentPath, requestPaths } from './views.ts';

export interface CniServerOptions {
  /** Plugins by type. */
  plugins: ReadonlyMap<string, CniPlugin>;
  /** Called once per request answered for a served plugin type (after servePlugin returned, or refused). */
  onServed?: (plugin: string, command: string, output: PluginOutput) => void;
  /** Each request logs through a child bound to its request ID, plugin, command, container and interface. */
  logger?: Logger;
  /** The build the hello advertises (clients forward only to their own): this code's build by default. */
  buildId?: string;
}

export interface CniServer {
  readonly path: string;
  /** Stops accepting, waits for requests in flight, removes the socket. */
  close(): Promise<void>;
}

interface ServerContext {
  options: CniServerOptions;
  log: Logger;
  own: NamespaceIds;
  hello: CniHello;
  /** The hello for a peer that is served, serialized once. */
  helloLine: string;
}

/**
 * Serves CNI requests on a unix socket at `path` (mode 0600; a stale socket file is replaced). Requests run
 * concurrently, each through servePlugin of its plugin, in this process's namespaces; peers that are not
 * root in those namespaces are refused.
 */
export async function startCniServer(path: string, options: CniServerOptions): Promise<CniServer> {
  if (!isAbsolute(path)) throw new Error(`CNI socket ${JSON.stringify(path)}: expected an absolute path`);
  // Loaded before the first peer: its hello must not wait for the native module (a plugin waits
  // HELLO_TIMEOUT_MS, then runs in-process). Missing, each peer is refused with the reason.
  try {
    requireNativeModule();
  } catch {
    // checkPeer reports it
  }
  const own = namespacesOf('self');
  const hello: CniHello = {
    tsnetCni: PROTOCOL_VERSION,
    netns: currentNetnsInode(),
    mntns: currentMntnsInode(),
    pidns: currentPidnsInode(),
    buildId: options.buildId ?? BUILD_ID,
    plugins: [...options.plugins.keys()],
  };
  const ctx: ServerContext = {
    options,
    log: options.logger ?? silentLogger,
    own,
    hello,
    helloLine: `${JSON.stringify(hello)}\n`,
  };
  const inFlight = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  /** Connections whose request was read and is being served. */
  const served = new WeakSet<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const done = serveConnection(socket, ctx, () => served.add(socket)).finally(() => inFlight.delete(done));
    inFlight.add(done);
  });
  await listenUnix(server, path, { what: 'CNI socket' });
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

interface PeerCheck {
  credentials?: PeerCredentials;
  /** Why the peer is refused; absent when it may be served. */
  refusal?: string;
  /**
   * The peer runs in another mount namespace (the agent in a container, the plugin on the host): each request
   * is served only if the paths it names are the same objects in the peer's view (seen through this pid).
   */
  compareViewsOf?: number;
}

/**
 * Who is at the other end, as the kernel says (the credentials recorded at connect, the namespaces of that
 * process), and whether it may use the agent's authority. Checked at accept, while the peer waits for the
 * hello, so its pid still names it.
 */
function checkPeer(socket: Socket, own: NamespaceIds): PeerCheck {
  let credentials: PeerCredentials;
  try {
    credentials = peerCredentialsOf(socket);
  } catch (err) {
    return { refusal: `cannot read the peer's credentials: ${(err as Error).message}` };
  }
  const { pid, uid } = credentials;
  if (uid !== 0) return { credentials, refusal: `peer pid ${pid} runs as uid ${uid}, not root` };
  if (pid <= 0)
    return { credentials, refusal: "the peer process is not visible in the agent's PID namespace" };
  let peer: NamespaceIds;
  try {
    peer = namespacesOf(pid);
  } catch (err) {
    return {
      credentials,
      refusal: `cannot read the namespaces of peer pid ${pid}: ${(err as Error).message}`,
    };
  }
  if (peer.net !== own.net)
    return {
      credentials,
      refusal: `peer pid ${pid} runs in another network namespace (net ${peer.net}) than the agent (net ${own.net})`,
    };
  if (peer.mnt === own.mnt) return { credentials };
  // Another mount namespace: its /proc/<pid> paths (CNI_NETNS) only mean the same within one PID namespace.
  if (peer.pid !== own.pid)
    return {
      credentials,
      refusal: `peer pid ${pid} runs in another mount namespace and another PID namespace than the agent`,
    };
  return { credentials, compareViewsOf: pid };
}

function refusedError(reason: string): CniError {
  return new CniError(
    ErrorCode.IoFailure,
    'tsnet-agent refused the request on its CNI socket',
    `${reason}; only root in the agent's network namespace, seeing the same files, may forward to it`,
  );
}

async function serveConnection(socket: Socket, ctx: ServerContext, onRequest: () => void): Promise<void> {
  socket.on('error', () => undefined);
  const peer = checkPeer(socket, ctx.own);
  // A peer about to be refused is told so: an honest plugin then runs in-process rather than fail.
  socket.write(
    peer.refusal === undefined
      ? ctx.helloLine
      : `${JSON.stringify({ ...ctx.hello, refusal: peer.refusal } satisfies CniHello)}\n`,
  );
  let line: string;
  try {
    line = await readLine(socket, MAX_REQUEST_BYTES, REQUEST_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof LineTooLongError) return answerTooLarge(socket, ctx.log, peer);
    socket.destroy();
    return;
  }
  onRequest();
  const started = performance.now();
  let request: CniRequest;
  try {
    request = parseRequest(line);
  } catch (err) {
    ctx.log.warn({ peer: peer.credentials, err: toCniError(err).message }, 'malformed CNI request');
    socket.end(`${JSON.stringify(cniErrorOutput(toCniError(err), CURRENT_VERSION))}\n`);
    return;
  }
  const command = request.env['CNI_COMMAND'] ?? '';
  const log = ctx.log.child({
    requestId: randomUUID(),
    plugin: request.plugin,
    command,
    containerId: request.env['CNI_CONTAINERID'],
    ifname: request.env['CNI_IFNAME'],
  });
  const output = await answer(request, peer, ctx, log);
  if ('fallback' in output) {
    socket.end(`${JSON.stringify(output)}\n`);
    return;
  }
  const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
  if (output.exitCode === 0) log.info({ durationMs }, 'CNI request served');
  else log.warn({ durationMs, error: errorOf(output) }, 'CNI request failed');
  if (ctx.options.plugins.has(request.plugin)) ctx.options.onServed?.(request.plugin, command, output);
  socket.end(`${JSON.stringify(output)}\n`);
}

async function answer(
  request: CniRequest,
  peer: PeerCheck,
  ctx: ServerContext,
  log: Logger,
): Promise<PluginOutput | CniFallback> {
  if (peer.refusal !== undefined) {
    log.warn(
      { peer: peer.credentials, claimedNetns: request.netns, reason: peer.refusal },
      'CNI peer refused',
    );
    return cniErrorOutput(refusedError(peer.refusal), errorVersionOf(stdinText(request.stdin)));
  }
  if (peer.compareViewsOf !== undefined) {
    const different = firstDifferentPath(
      peer.compareViewsOf,
      requestPaths(request.env, stdinText(request.stdin)),
    );
    if (different !== undefined) {
      log.info({ path: different }, 'CNI request handed back: the plugin sees another file at this path');
      return { fallback: `${different} is another file for tsnet-agent than for the plugin` };
    }
  }
  const plugin = ctx.options.plugins.get(request.plugin);
  if (!plugin) {
    const err = new CniError(ErrorCode.Internal, `tsnet-agent does not serve plugin ${request.plugin}`);
    return cniErrorOutput(err, errorVersionOf(stdinText(request.stdin)));
  }
  // Requests for one attachment run in arrival order. A runtime that gives up on an ADD kills the plugin and
  // sends DEL; the agent still finishes that ADD, so the DEL must wait for it rather than overtake it.
  const containerId = request.env['CNI_CONTAINERID'];
  const ifname = request.env['CNI_IFNAME'];
  const serve = () => servePlugin(plugin, { env: request.env, stdin: request.stdin });
  return containerId && ifname ? await inTurn(`${containerId}\0${ifname}`, serve) : await serve();
}

/**
 * Answers a request over the limit with the spec's error at once, then drains what the client still sends
 * (closing on unread data could reset the connection before the client reads the answer) until it hangs up.
 */
function answerTooLarge(socket: Socket, log: Logger, peer: PeerCheck): void {
  log.warn(
    { peer: peer.credentials, maxBytes: MAX_REQUEST_BYTES },
    'CNI request over the size limit refused',
  );
  socket.end(`${JSON.stringify(cniErrorOutput(requestTooLargeError(), CURRENT_VERSION))}\n`);
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), REQUEST_TIMEOUT_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/** The code and message of an error answer, for the log. */
function errorOf(output: PluginOutput): { code?: unknown; msg?: unknown } {
  try {
    const { code, msg } = JSON.parse(output.stdout) as { code?: unknown; msg?: unknown };
    return { code, msg };
  } catch {
    return {};
  }
}
