// A real tsnet-agent for one test: `run` from the sources inside a network namespace (nsenter), with its data
// and run dirs under the test's directory, no CNI socket and no HTTP server unless asked; stderr kept for
// assertions, SIGTERM on stop.
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { AgentClient } from '../../pkg/api/client.ts';
import { pollUntil } from '../../pkg/cluster/exec.ts';

const AGENT_MAIN = resolve(import.meta.dirname, '../../cmd/agent/main.ts');

export interface TestAgent {
  readonly child: ChildProcess;
  /** The agent's API socket (`DIR/run/tsnet.sock`). */
  readonly socket: string;
  /** What the agent printed on stdout and stderr so far. */
  log(): string;
  /** Resolves with the exit signal (or null) once the process is gone. */
  readonly exited: Promise<NodeJS.Signals | null>;
  /** A client once the API answers (up to a minute on a loaded machine). */
  connect(): Promise<AgentClient>;
  /** SIGTERM, and waits for the exit. */
  stop(): Promise<void>;
}

export function startTestAgent(
  netnsPath: string,
  dir: string,
  options: { env?: Record<string, string>; args?: readonly string[] } = {},
): TestAgent {
  const args = ['run', '--data-dir', join(dir, 'data'), '--run-dir', join(dir, 'run'), '--cni-socket', ''];
  // Never the node's /etc/cni/net.d: the runtime's networks of a test agent live in its directory.
  if (!options.args?.includes('--cni-conf-dir')) args.push('--cni-conf-dir', join(dir, 'net.d'));
  if (!options.args?.includes('--http')) args.push('--http', '');
  // No warm tsnetctl processes (their clients are test/ctl/warm-client.test.ts's), unless asked.
  if (!options.args?.includes('--warm-clients')) args.push('--warm-clients', '0');
  const child = spawn(
    'nsenter',
    [`--net=${netnsPath}`, process.execPath, '--import=tsx', AGENT_MAIN, ...args, ...(options.args ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
  );
  let log = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    log += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    log += s;
  });
  const exited = new Promise<NodeJS.Signals | null>((done) =>
    child.once('exit', (_code, signal) => done(signal)),
  );
  const socket = join(dir, 'run', 'tsnet.sock');
  return {
    child,
    socket,
    log: () => log,
    exited,
    async connect() {
      const client = new AgentClient(socket);
      await pollUntil('the agent API', () => client.version().catch(() => undefined), { timeoutMs: 60_000 });
      return client;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
