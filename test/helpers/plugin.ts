// Running a built CNI plugin (dist/cni/<type>) as a process, the way a runtime does: a clean environment
// with only the CNI_* variables and PATH, the config on stdin, the result or error JSON on stdout.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CNI_SOCKET_ENV } from '../../pkg/cni/socket-protocol.ts';
import { agentSocketFor } from './agent-path.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where `npm run build` puts the plugins. */
export const DIST_CNI = join(REPO_ROOT, 'dist', 'cni');
export const REFERENCE_CNI = '/usr/lib/cni';

export interface PluginCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC' | '';
  /** Network config; objects are sent as JSON. Omitted: empty stdin. */
  config?: Record<string, unknown> | string;
  containerId?: string;
  netns?: string;
  ifname?: string;
  /** CNI_ARGS. */
  args?: string;
  /** Directory holding the plugin; CNI_PATH defaults to it (then the reference plugins). */
  dir?: string;
  cniPath?: string;
  /** Run the plugin with `nsenter --net=<nodeNetns>`, so that namespace plays the node (host) for it. */
  nodeNetns?: string;
  /** Extra environment entries. */
  env?: Record<string, string>;
  /** Kill the plugin with SIGKILL after this many milliseconds (crash tests). */
  killAfterMs?: number;
  /** Kill the plugin with SIGKILL when this settles (crash tests at a known point). */
  killWhen?: Promise<unknown>;
}

export interface PluginOutcome {
  code: number | null;
  /** The signal that ended the plugin, if one did. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is JSON. */
  json?: Record<string, unknown>;
}

/** The build id of dist/ (scripts/build.ts): a CNI server started by a test advertises it to the built forwarders. */
export function builtBuildId(): string {
  const file = join(REPO_ROOT, 'dist', 'build-id');
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  return readFileSync(file, 'utf8').trim();
}

/**
 * The plugin's executable: ours from `dir` (dist/cni by default), else, for a type we do not build (bridge,
 * portmap, host-local ...), the reference plugin. Fails with the test's message when neither exists.
 */
export function builtPlugin(type: string, dir = DIST_CNI): string {
  const file = join(dir, type);
  if (existsSync(file)) return file;
  const reference = join(REFERENCE_CNI, type);
  if (!type.startsWith('tsnet-') && existsSync(reference)) return reference;
  throw new Error(`${file} is missing: run \`npm run build\` first`);
}

/**
 * Runs plugin `type` once and collects what it printed. Inside a test on the agent path (plugin-paths.ts), a
 * plugin of dist/cni the agent serves is pointed at the agent of its node namespace.
 */
export async function runPlugin(type: string, call: PluginCall): Promise<PluginOutcome> {
  const dir = call.dir ?? DIST_CNI;
  const file = builtPlugin(type, dir);
  const agentSocket = dir === DIST_CNI ? await agentSocketFor(type, call.nodeNetns) : undefined;
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_PATH: call.cniPath ?? `${dir}:${REFERENCE_CNI}`,
    ...(agentSocket ? { [CNI_SOCKET_ENV]: agentSocket } : {}),
    ...call.env,
  };
  if (call.command) env['CNI_COMMAND'] = call.command;
  if (call.containerId !== undefined) env['CNI_CONTAINERID'] = call.containerId;
  if (call.netns !== undefined) env['CNI_NETNS'] = call.netns;
  if (call.ifname !== undefined) env['CNI_IFNAME'] = call.ifname;
  if (call.args !== undefined) env['CNI_ARGS'] = call.args;
  const [cmd, argv] = call.nodeNetns ? ['nsenter', [`--net=${call.nodeNetns}`, file]] : [file, []];
  const stdin =
    call.config === undefined
      ? ''
      : typeof call.config === 'string'
        ? call.config
        : JSON.stringify(call.config);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => {});
    child.on('error', reject);
    const killer =
      call.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), call.killAfterMs);
    void call.killWhen?.finally(() => child.kill('SIGKILL'));
    child.on('close', (code, signal) => {
      if (killer) clearTimeout(killer);
      const stdout = Buffer.concat(out).toString('utf8');
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code, signal, stdout, stderr: Buffer.concat(err).toString('utf8'), json });
    });
    child.stdin.end(stdin);
  });
}

/** Like runPlugin, but throws with the plugin's output unless it exited 0. */
export async function runPluginOk(type: string, call: PluginCall): Promise<PluginOutcome> {
  const out = await runPlugin(type, call);
  if (out.code !== 0) {
    throw new Error(
      `${type} ${call.command} exited ${out.code}\nstdout: ${out.stdout}\nstderr: ${out.stderr}`,
    );
  }
  return out;
}
