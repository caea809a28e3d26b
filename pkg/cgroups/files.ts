// File operations on cgroupfs shared by the v1 and v2 managers: writes whose errors say what was written
// where, key/value stat files, the processes of a subtree, and kill-then-rmdir removal.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CgroupError } from './layout.ts';
import { parseCpuList } from './resources.ts';

const SEGMENT_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** A cgroup path relative to each hierarchy's root ("tsnet/<id>"); segments become directory names. */
export function validateCgroupPath(path: string): string {
  const relative = path.replace(/^\/+/, '').replace(/\/+$/, '');
  const segments = relative.split('/');
  if (relative === '' || segments.some((s) => !SEGMENT_RE.test(s))) {
    throw new CgroupError(
      `invalid cgroup path ${JSON.stringify(path)}: use '/'-separated names of letters, digits, '_', '.', '-'`,
    );
  }
  return segments.join('/');
}

export async function writeCgroupFile(dir: string, file: string, value: string): Promise<void> {
  try {
    await writeFile(join(dir, file), value);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const hint =
      code === 'EBUSY' && file.startsWith('memory.')
        ? ' (the cgroup already uses more memory than that)'
        : code === 'EINVAL'
          ? ' (the kernel refused the value)'
          : '';
    throw new CgroupError(`cannot write ${JSON.stringify(value)} to ${join(dir, file)}: ${code}${hint}`, {
      cause: err,
    });
  }
}

export async function readCgroupFile(dir: string, file: string): Promise<string> {
  try {
    return (await readFile(join(dir, file), 'utf8')).trim();
  } catch (err) {
    throw new CgroupError(`cannot read ${join(dir, file)}: ${(err as NodeJS.ErrnoException).code}`, {
      cause: err,
    });
  }
}

/** A file's value, or undefined when the kernel (or this cgroup) does not have it. */
export async function readOptional(dir: string, file: string): Promise<string | undefined> {
  try {
    return (await readFile(join(dir, file), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Parses a cgroup integer; "max" and v1's near-2^63 "unlimited" give null. */
export function parseLimit(text: string | undefined): number | null {
  if (text === undefined || text === 'max' || text === '-1') return null;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new CgroupError(`unexpected cgroup value ${JSON.stringify(text)}`);
  return n >= 2 ** 62 ? null : n;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control). */
export function parseKeyValues(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^-?\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
}

/** The directory and its descendants, deepest first (the order rmdir needs). */
export function subtreeDeepestFirst(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) out.push(...subtreeDeepestFirst(join(dir, entry.name)));
  }
  out.push(dir);
  return out;
}

/** Every pid in cgroup.procs of the directory and its descendants. */
export function subtreePids(dir: string): number[] {
  const pids = new Set<number>();
  for (const d of subtreeDeepestFirst(dir)) {
    let text = '';
    try {
      text = readFileSync(join(d, 'cgroup.procs'), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) if (line !== '') pids.add(Number(line));
  }
  return [...pids].sort((a, b) => a - b);
}

export function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Polls until `done` holds, up to `timeoutMs`; returns whether it did. */
export async function waitFor(done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await sleep(delay);
  }
}

export type RemoveDir = (dir: string) => Promise<void>;

/**
 * Removes a cgroup directory and its descendants. The kernel refuses rmdir (EBUSY) while a dying task is
 * still attached, so each directory is retried for a while before giving up with the reason.
 */
export async function removeSubtree(dir: string, removeDir: RemoveDir = rmdir): Promise<void> {
  for (const d of subtreeDeepestFirst(dir)) {
    let lastError: unknown;
    const removed = await waitFor(async () => {
      try {
        await removeDir(d);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
        lastError = err;
        return false;
      }
    }, 3000);
    if (!removed) {
      throw new CgroupError(`cannot remove cgroup ${d}: ${(lastError as NodeJS.ErrnoException).code}`, {
        cause: lastError,
      });
    }
  }
}

/** Refuses CPUs or memory nodes the parent cgroup does not have, before the kernel answers a bare EINVAL. */
export async function checkCpusetAvailable(
  parentDir: string,
  effectiveFile: string,
  name: string,
  wanted: string,
): Promise<void> {
  const available = await readOptional(parentDir, effectiveFile);
  if (available === undefined || available === '') return;
  const have = new Set(parseCpuList(name, available));
  const missing = parseCpuList(name, wanted).filter((n) => !have.has(n));
  if (missing.length) {
    throw new CgroupError(
      `invalid ${name} ${JSON.stringify(wanted)}: ${missing.join(',')} not available (this host has ${available})`,
    );
  }
}

/**
 * Removes the parents create() made for `relPath` (e.g. "tsnet" of "tsnet/<id>") once they are empty; one
 * still holding another container's cgroup (EBUSY, ENOTEMPTY) or already gone stays as it is.
 */
export async function removeEmptyParents(dir: string, relPath: string): Promise<void> {
  let current = dir;
  for (let depth = relPath.split('/').filter(Boolean).length - 1; depth > 0; depth--) {
    current = dirname(current);
    try {
      await rmdir(current);
    } catch {
      return;
    }
  }
}

/**
 * mkdir -p that survives a concurrent removeEmptyParents: another container's destroy (in this agent or
 * another one on the machine) may rmdir the shared parent between the two mkdirs, which is ENOENT here.
 */
export async function mkdirCgroup(dir: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await mkdir(dir, { recursive: true });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 20) {
        throw new CgroupError(`cannot create cgroup ${dir}: ${(err as NodeJS.ErrnoException).code}`, {
          cause: err,
        });
      }
    }
  }
}
