// Small process helpers for the cluster harness: commands inside a namespace (nsenter, never `ip netns exec`),
// iproute2 JSON as the independent view of the kernel, and bounded polling.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ctlCommand } from './agent.ts';

const execFileAsync = promisify(execFile);

/** Runs a command and returns its stdout; the error names the command and carries its stderr. */
export async function run(
  cmd: string,
  args: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: options.timeoutMs ?? 60_000,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; code?: number | string; message: string };
    const detail = e.stderr?.trim() || e.message;
    throw new Error(`${cmd} ${args.join(' ')}: ${detail}`, { cause: err });
  }
}

export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * tsnetctl from this checkout (ctlCommand) with `args`, in the host's namespace or in `netnsPath`; never throws
 * for a non-zero exit.
 */
export async function tsnetctl(
  args: readonly string[],
  options: number | { timeoutMs?: number; netnsPath?: string } = {},
): Promise<CtlResult> {
  const { timeoutMs = 120_000, netnsPath } = typeof options === 'number' ? { timeoutMs: options } : options;
  const argv = [...ctlCommand(), ...args];
  const [cmd, ...rest] = netnsPath ? ['nsenter', `--net=${netnsPath}`, ...argv] : argv;
  try {
    const { stdout, stderr } = await execFileAsync(cmd ?? '', rest, {
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 16 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr || e.message,
    };
  }
}

/** Runs a command inside the network namespace at `nsPath`. */
export function nsRun(
  nsPath: string,
  cmd: string,
  args: readonly string[],
  options?: { timeoutMs?: number },
) {
  return run('nsenter', [`--net=${nsPath}`, cmd, ...args], options);
}

/** `ip ...` inside a namespace. */
export function ip(nsPath: string, ...args: string[]): Promise<string> {
  return nsRun(nsPath, 'ip', args);
}

/** `ip -j ...` (or `bridge -j ...` with tool 'bridge') inside a namespace, parsed. */
export async function ipJson<T>(
  nsPath: string,
  args: readonly string[],
  tool: 'ip' | 'bridge' = 'ip',
): Promise<T> {
  const out = (await nsRun(nsPath, tool, ['-j', ...args])).trim();
  return (out === '' ? [] : JSON.parse(out)) as T;
}

/** True when one of `count` pings from `nsPath` to `ip` is answered within `waitSeconds` each. */
export async function pings(nsPath: string, target: string, count = 1, waitSeconds = 2): Promise<boolean> {
  try {
    await run('nsenter', [`--net=${nsPath}`, 'ping', '-n', '-q', `-c${count}`, `-W${waitSeconds}`, target]);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Thrown by a pollUntil probe to stop polling at once (the awaited thing can no longer happen). */
export class PollAbort extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PollAbort';
  }
}

/**
 * Calls `probe` every `intervalMs` until it returns a value other than undefined/false, at most `timeoutMs`.
 * Throws with `what` (and the last probe error) when it never does, or at once when the probe throws PollAbort.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 200;
  const attempts = Math.max(1, Math.ceil(timeoutMs / intervalMs));
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err instanceof PollAbort)
        throw new Error(`gave up waiting for ${what}: ${err.message}`, { cause: err });
      lastError = err;
    }
    await sleep(intervalMs);
  }
  const suffix = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${suffix}`);
}
