// The protocol between the native tsnetctl (native/ctl-front) and a warm tsnetctl process the agent keeps
// ready (pkg/agent/warm-clients.ts, pkg/ctl/warm-client.ts): a Node start costs more than most commands take,
// so the native front hands its invocation to a process that has already loaded the whole client. That
// process then is the client: the front's own stdin, stdout and stderr (taken with pidfd_getfd, so the same
// open files, offsets and terminal), its argv, environment, working directory and umask. Nothing here loads
// the native module.
//
// One invocation per connection, on the socket beside the agent's API socket (warmSocketOf):
//   front -> warm    request: u32 big-endian length, then NUL-terminated strings:
//                    MAGIC, build id, cwd, argc, argv[1..] (argc of them), envc, environ (envc of them)
//   warm  -> front   "ok <pid>\n"      the request is taken: <pid> now runs it (the front forwards signals)
//                    or "no <why>\n"   nothing was done: the front executes the Node tsnetctl instead
//   front -> warm    "go\n"            the front waits for the exit line: only now does the command start
//                                      (a front that timed out closes instead, and nothing runs twice)
//   warm  -> front   "exit <code>\n"   the command's exit code; the connection then closes
// A warm process serves only a peer that is root in its own network, mount and PID namespaces and runs the
// same build; it takes over nothing before it says "ok". A front whose warm process ends without an exit
// line ends as the signal it forwarded last made that process end, else with EXIT_LOST.
import { BUILD_ID } from '../cni/socket-protocol.ts';

export { BUILD_ID };
export const MAGIC = 'tsnetctl-warm/1';
/** argv and environ of an exec are at most a few MB (ARG_MAX); a bigger request is not one. */
export const MAX_REQUEST_BYTES = 8 << 20;
/** How long the front waits for "ok" before executing the Node tsnetctl itself. */
export const ANSWER_TIMEOUT_MS = 2000;
/** How long a warm process waits for the whole request once handed the connection. */
export const REQUEST_TIMEOUT_MS = 2000;
/** The front's exit code when the warm process ended without saying its own. */
export const EXIT_LOST = 125;
/** Set (to the agent's API socket) in the environment of a process the agent starts as a warm tsnetctl. */
export const WARM_ENV = 'TSNET_CTL_WARM';
/** Set (non-empty) in a client's environment: the native tsnetctl always executes the Node one. */
export const NO_WARM_ENV = 'TSNET_CTL_NO_WARM';
/** Set (non-empty) in a client's environment: the native tsnetctl says on stderr which path it took. */
export const DEBUG_ENV = 'TSNET_CTL_DEBUG';
/** The Node tsnetctl's launcher, relative to the native front (dist/bin/tsnetctl) and the bundles. */
export const NODE_CTL_FROM_BIN = '../libexec/tsnetctl-node';

/** The warm socket of the agent serving the API socket at `apiSocket`. */
export function warmSocketOf(apiSocket: string): string {
  return `${apiSocket}.ctl`;
}

/** A front's invocation, as the warm process reads it. */
export interface WarmRequest {
  readonly buildId: string;
  readonly cwd: string;
  /** argv without argv[0] */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

export class WarmRequestError extends Error {
  constructor(message: string) {
    super(`warm tsnetctl request: ${message}`);
    this.name = 'WarmRequestError';
  }
}

/** The request's payload (after its length) as the front writes it; for tests and the TypeScript side. */
export function encodeWarmRequest(req: WarmRequest): Buffer {
  const env = Object.entries(req.env).map(([k, v]) => `${k}=${v}`);
  const strings = [
    MAGIC,
    req.buildId,
    req.cwd,
    String(req.args.length),
    ...req.args,
    String(env.length),
    ...env,
  ];
  const payload = Buffer.from(strings.map((s) => `${s}\0`).join(''));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(payload.length);
  return Buffer.concat([length, payload]);
}

/** Parses a request's payload (without its length prefix). */
export function decodeWarmRequest(payload: Buffer): WarmRequest {
  if (payload.length === 0 || payload[payload.length - 1] !== 0)
    throw new WarmRequestError('not a sequence of NUL-terminated strings');
  const strings = payload
    .subarray(0, payload.length - 1)
    .toString('utf8')
    .split('\0');
  let next = 0;
  const take = (what: string): string => {
    const s = strings[next++];
    if (s === undefined) throw new WarmRequestError(`ends before its ${what}`);
    return s;
  };
  const count = (what: string): number => {
    const s = take(`${what} count`);
    if (!/^(0|[1-9][0-9]{0,6})$/.test(s))
      throw new WarmRequestError(`bad ${what} count ${JSON.stringify(s)}`);
    return Number(s);
  };
  const magic = take('magic');
  if (magic !== MAGIC) throw new WarmRequestError(`speaks ${JSON.stringify(magic)}, not ${MAGIC}`);
  const buildId = take('build id');
  const cwd = take('working directory');
  if (!cwd.startsWith('/'))
    throw new WarmRequestError(`working directory ${JSON.stringify(cwd)} is not absolute`);
  const args = Array.from({ length: count('argument') }, () => take('arguments'));
  const env: Record<string, string> = {};
  for (let i = count('environment'); i > 0; i--) {
    const entry = take('environment');
    const eq = entry.indexOf('=');
    // environ entries without '=' are not variables; getenv(3) never sees them, nor would Node
    if (eq > 0) env[entry.slice(0, eq)] ??= entry.slice(eq + 1);
  }
  if (next !== strings.length) throw new WarmRequestError('has strings after its environment');
  return { buildId, cwd, args, env };
}
