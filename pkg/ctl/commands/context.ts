// What every tsnetctl verb is given: the agent's clients (made on first use, from --host / TSNET_HOST) and
// the process's streams, so a verb is flags → one API call → output.
import { AgentClient, socketPathOf } from '../../api/client.ts';
import { ImagesApi } from '../api.ts';
import { describeFailure, FlagError } from '../errors.ts';

export interface CliContext {
  images(): ImagesApi;
  agent(): AgentClient;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly stdin: NodeJS.ReadStream;
  close(): void;
}

/** A client connected before the command was known (a warm tsnetctl's): every command of the process uses it. */
let shared: AgentClient | undefined;

/** Shares `client`: a context whose host is its socket uses it instead of connecting, and never closes it. */
export function shareAgentClient(client: AgentClient): void {
  shared = client;
}

function agentClientFor(socketPath: string): AgentClient {
  return shared?.socketPath === socketPath ? shared : new AgentClient(socketPath);
}

export function cliContext(host: () => string | undefined): CliContext {
  let images: ImagesApi | undefined;
  let agent: AgentClient | undefined;
  return {
    images: () => (images ??= new ImagesApi(socketPathOf(host()))),
    agent: () => (agent ??= agentClientFor(socketPathOf(host()))),
    // looked up when used: Node makes each stream on first use, from what its descriptor is then (a warm
    // tsnetctl builds its commands before it has the client's descriptors: pkg/ctl/warm-client.ts)
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    get stdin() {
      return process.stdin;
    },
    close() {
      images?.close();
      if (agent !== shared) agent?.close();
    },
  };
}

/** Commander's collector for a repeatable flag (`--filter a=1 --filter b=2`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--label k=v` / `-o k=v` lists as a map (a bare `k` is an empty value, as docker takes it). */
export function keyValueMap(list: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq === 0) throw new FlagError(`invalid argument ${JSON.stringify(kv)} for "${flag}" flag: empty key`);
    if (eq < 0) out[kv] = '';
    else out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/**
 * Runs `action` on each named object (docker's verbs over several containers, networks, volumes): the name
 * printed when done (unless `print` is false), each failure on its own line, exit code 1 if any failed.
 */
export async function eachNamed(
  ctx: CliContext,
  names: readonly string[],
  action: (name: string) => Promise<unknown>,
  print = true,
): Promise<void> {
  let failed = false;
  for (const n of names) {
    try {
      await action(n);
      if (print) ctx.stdout.write(`${n}\n`);
    } catch (err) {
      failed = true;
      ctx.stderr.write(`${describeFailure(err).line}\n`);
    }
  }
  if (failed) process.exitCode = 1;
}
