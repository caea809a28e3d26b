// The plugin side of the agent's CNI socket: hands one invocation to tsnet-agent when it serves this
// plugin's namespaces, so the warm agent answers instead of a cold start of the plugin code.
import { createConnection, type Socket } from 'node:net';
import { CniError, ErrorCode } from './errors.ts';
import { cniErrorOutput, errorVersionOf, type PluginOutput } from './output.ts';
import {
  BUILD_ID,
  type CniHello,
  type CniRequest,
  currentMntnsInode,
  currentNetnsInode,
  currentPidnsInode,
  formatRequest,
  HELLO_TIMEOUT_MS,
  MAX_HELLO_BYTES,
  PROTOCOL_VERSION,
  parseHello,
  parseOutput,
  readLine,
  stdinText,
} from './socket-protocol.ts';

/** Resolves once connected to the unix socket at `path`; rejects with the connect error. */
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

/**
 * Whether the agent can see the plugin's files: in its mount namespace, or in its PID namespace (an agent in
 * a container with the host's directories mounted), where the agent compares the request's paths itself.
 */
function sameFilesLikely(hello: CniHello): boolean {
  return (
    hello.mntns === currentMntnsInode() || (hello.pidns !== undefined && hello.pidns === currentPidnsInode())
  );
}

/**
 * Sends one invocation to the agent at `path`. Undefined when the agent cannot take it (no socket, nobody
 * listening, another network or mount namespace, another build, a peer it refuses, a plugin it does not serve, no hello): the caller runs the
 * plugin in-process. Once the request is sent, the agent's answer is the plugin's, refusals included; a
 * broken connection is answered with code 11, never by running the request again.
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
    const hello = await readLine(socket, MAX_HELLO_BYTES, HELLO_TIMEOUT_MS).then(parseHello, () => undefined);
    if (
      hello?.tsnetCni !== PROTOCOL_VERSION ||
      hello.netns !== netns ||
      !sameFilesLikely(hello) ||
      hello.buildId !== BUILD_ID ||
      hello.refusal !== undefined ||
      !hello.plugins.includes(request.plugin)
    ) {
      return undefined; // nothing sent: the plugin runs in-process
    }
    socket.write(formatRequest({ ...request, netns }));
    let answer: ReturnType<typeof parseOutput>;
    try {
      answer = parseOutput(await readLine(socket, Number.POSITIVE_INFINITY));
    } catch (err) {
      const broken = new CniError(
        ErrorCode.TryAgainLater,
        `tsnet-agent (${path}) did not answer the ${request.env['CNI_COMMAND'] ?? ''} request`,
        `${(err as Error).message}; the request may have been partly applied, retry it`,
      );
      return cniErrorOutput(broken, errorVersionOf(stdinText(request.stdin)));
    }
    // The agent sees other files at the request's paths and did nothing: the plugin runs it.
    return 'fallback' in answer ? undefined : answer;
  } finally {
    socket.destroy();
  }
}
