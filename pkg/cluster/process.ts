// Long-running processes of a cluster (etcd, agents): spawned in their own process group with output to a log
// file, and stopped by pid so that a later process (`demo --down`) can stop what an earlier one started.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { sleep } from './exec.ts';

/** Spawns `cmd args` with stdout and stderr appended to `logFile`; returns once the process exists. */
export async function spawnLogged(
  cmd: string,
  args: readonly string[],
  options: { logFile: string; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<ChildProcess> {
  const log = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    // detached: its own process group, so a Ctrl-C aimed at the caller does not reach it (the caller decides).
    child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', log, log],
      detached: true,
    });
  } finally {
    closeSync(log);
  }
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (err) => reject(new Error(`cannot start ${cmd}: ${err.message}`, { cause: err })));
  });
  return child;
}

/** True while `pid` runs (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // state is the field after the parenthesised command name
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** The command line of `pid`, '' when it is gone. */
export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Resident memory of `pid` in KiB (VmRSS), undefined when it is gone. */
export function rssKib(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    if (!isAlive(pid)) return true;
    await sleep(50);
  }
  return !isAlive(pid);
}

/**
 * Sends `signal` to `pid` and waits up to `graceMs` for it to end, then SIGKILLs it. `mustContain` guards against
 * a recycled pid: the process is only signalled when its command line contains that string.
 */
export async function stopPid(
  pid: number,
  options: { signal?: NodeJS.Signals; graceMs?: number; mustContain?: string } = {},
): Promise<void> {
  if (!isAlive(pid)) return;
  if (options.mustContain !== undefined && !cmdlineOf(pid).includes(options.mustContain)) return;
  try {
    process.kill(pid, options.signal ?? 'SIGTERM');
  } catch {
    return; // already gone
  }
  if (await waitGone(pid, options.graceMs ?? 5000)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  if (!(await waitGone(pid, 5000))) throw new Error(`process ${pid} survived SIGKILL`);
}
