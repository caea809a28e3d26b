// The agent path of the plugin tests (plugin-paths.ts registers them): inside `onPluginPath('agent', ...)`,
// runPlugin (helpers/plugin.ts) points each call of a served plugin at an agent-side CNI server
// (test/bench/cni-server.ts) started in the call's node namespace on first use, and when the test ends the
// agent must have served them (a few may fall back under load, by design). No ava here: scripts run as child
// processes import helpers/plugin.ts.
import { AsyncLocalStorage } from 'node:async_hooks';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
/** The plugin types test/bench/cni-server.ts serves. */
const SERVED_TYPES: ReadonlySet<string> = new Set(['tsnet-bridge', 'tsnet-vxlan', 'tsnet-ipam']);

export type PluginPath = 'node' | 'agent';

/** A CNI server started in one node namespace (or the test's own, keyed ''), and what it served. */
interface ServedNode {
  readonly socket: string;
  readonly child: ChildProcess;
  /** `<plugin> <command>` per request answered, as the server reports them. */
  readonly served: string[];
  /** Calls sent to it that the forwarder should have handed over. */
  forwarded: number;
  /** Resolves once the server's stdout is closed (every report read). */
  readonly reportsRead: Promise<void>;
  readonly stderr: () => string;
}

interface AgentPath {
  readonly dir: string;
  readonly nodes: Map<string, Promise<ServedNode>>;
}

const agentPath = new AsyncLocalStorage<AgentPath>();

/**
 * test/bench/cni-server.ts (the agent's CNI server, serving for dist's build) in `netns` (the test's own
 * namespace when undefined) on `socket`; resolves once it listens. `served` collects its reports.
 */
export async function startCniServerProcess(
  netns: string | undefined,
  socket: string,
): Promise<{ child: ChildProcess; served: string[]; reportsRead: Promise<void>; stderr: () => string }> {
  const server = [process.execPath, '--import=tsx', join(REPO_ROOT, 'test/bench/cni-server.ts'), socket];
  const [cmd = '', ...args] = netns ? ['nsenter', `--net=${netns}`, ...server] : server;
  const child = spawn(cmd, [...args, '--report'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const served: string[] = [];
  const reportsRead = new Promise<void>((resolve) => child.stdout?.once('close', resolve));
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === 'ready') resolve();
        else if (line.startsWith('served ')) served.push(line.slice('served '.length));
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`CNI server exited (${code}) before listening: ${stderr}`)),
    );
  });
  return { child, served, reportsRead, stderr: () => stderr };
}

/** SIGTERM to a server from startCniServerProcess; resolves once it is gone. */
export async function stopCniServerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * The socket a runPlugin call of `type` in `nodeNetns` goes to on the agent path (its server started on
 * first use), undefined on the Node path or for a type the agent does not serve. The forwarder hands every
 * call to the agent, VERSION and the about text included.
 */
export async function agentSocketFor(
  type: string,
  nodeNetns: string | undefined,
): Promise<string | undefined> {
  const path = agentPath.getStore();
  if (!path || !SERVED_TYPES.has(type)) return undefined;
  const key = nodeNetns ?? '';
  let node = path.nodes.get(key);
  if (!node) {
    const socket = join(path.dir, `cni${path.nodes.size}.sock`);
    node = startCniServerProcess(nodeNetns, socket).then((s) => ({ ...s, socket, forwarded: 0 }));
    path.nodes.set(key, node);
  }
  const served = await node;
  served.forwarded++;
  return served.socket;
}

/**
 * Stops the path's servers; throws when one ended early or served none of the calls sent to it, `log`s when
 * some of them fell back.
 */
async function closeAgentPath(path: AgentPath, log: (text: string) => void): Promise<void> {
  const problems: string[] = [];
  for (const [key, pending] of path.nodes) {
    const node = await pending.catch((err: unknown) => {
      problems.push(String(err));
      return undefined;
    });
    if (!node) continue;
    const { exitCode, signalCode } = node.child;
    if (exitCode !== null || signalCode !== null)
      problems.push(
        `the agent in ${key || "the test's namespace"} ended early (${signalCode ?? exitCode}): ${node.stderr()}`,
      );
    await stopCniServerProcess(node.child);
    await node.reportsRead;
    const summary =
      `the agent in ${key || "the test's namespace"} served ${node.served.length} of the ${node.forwarded} ` +
      'calls sent to it, the others ran in the Node plugin';
    // A forwarder waits HELLO_TIMEOUT_MS for the agent's hello, then runs the Node plugin by design: on a
    // loaded machine a few calls of a burst do. None served means the agent path is broken.
    if (node.served.length === 0 && node.forwarded > 0) problems.push(summary);
    else if (node.served.length !== node.forwarded) log(summary);
  }
  rmSync(path.dir, { recursive: true, force: true });
  if (problems.length > 0) throw new Error(problems.join('; '));
}

/** Runs `fn` with the plugins answering through `which` path; `log` tells calls that fell back. */
export async function onPluginPath<T>(
  which: PluginPath,
  fn: () => Promise<T>,
  log: (text: string) => void,
): Promise<T> {
  if (which === 'node') return fn();
  // Short: the socket path must fit sun_path (the forwarder runs the Node plugin otherwise).
  const path: AgentPath = { dir: mkdtempSync(join(tmpdir(), 'tpp-')), nodes: new Map() };
  let result: T;
  try {
    result = await agentPath.run(path, fn);
  } catch (err) {
    await closeAgentPath(path, log).catch(() => undefined);
    throw err;
  }
  await closeAgentPath(path, log);
  return result;
}
