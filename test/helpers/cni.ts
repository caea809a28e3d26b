// Runs CNI plugins the way a runtime does: a separate process, env + config on stdin, stdout parsed. The
// plugin runs inside the test's "node" namespace (nsenter), which plays the host.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
export const DIST_CNI = join(REPO, 'dist/cni');
export const REFERENCE_CNI = '/usr/lib/cni';

export interface PluginRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Parsed stdout when it is JSON. */
  readonly json: Record<string, unknown> | undefined;
}

export interface RunOptions {
  readonly nodeNetns: string;
  readonly command: string;
  readonly containerId?: string;
  readonly netns?: string;
  readonly ifname?: string;
  readonly cniArgs?: string;
  readonly cniPath?: string;
  readonly env?: Record<string, string>;
  /** Kill the plugin with SIGKILL after this many milliseconds. */
  readonly killAfterMs?: number;
}

/** The executable of a plugin type: ours from dist/cni (run `npm run build`), else the reference's. */
export function pluginPath(type: string): string {
  const ours = join(DIST_CNI, type);
  if (existsSync(ours)) return ours;
  const ref = join(REFERENCE_CNI, type);
  if (existsSync(ref)) return ref;
  throw new Error(`plugin ${type} not found in ${DIST_CNI} (run npm run build) or ${REFERENCE_CNI}`);
}

export function runPlugin(type: string, config: unknown, opts: RunOptions): Promise<PluginRun> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: opts.command,
    CNI_PATH: opts.cniPath ?? `${DIST_CNI}:${REFERENCE_CNI}`,
    ...(opts.containerId !== undefined ? { CNI_CONTAINERID: opts.containerId } : {}),
    ...(opts.netns !== undefined ? { CNI_NETNS: opts.netns } : {}),
    ...(opts.ifname !== undefined ? { CNI_IFNAME: opts.ifname } : {}),
    ...(opts.cniArgs !== undefined ? { CNI_ARGS: opts.cniArgs } : {}),
    ...opts.env,
  };
  return new Promise((resolvePromise, reject) => {
    const child = spawn('nsenter', [`--net=${opts.nodeNetns}`, pluginPath(type)], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    const timer =
      opts.killAfterMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs) : undefined;
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      resolvePromise({ code, signal, stdout, stderr, json });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(typeof config === 'string' ? config : JSON.stringify(config));
  });
}

/** A temp dir for IPAM data, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-test-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
