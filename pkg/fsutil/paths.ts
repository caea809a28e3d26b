// Paths where state must never go: the kernel's own filesystems. Creating a directory under /proc fails
// with ENOENT even though the parent exists (Node's recursive mkdir then spins forever), and writes under
// /sys or /dev reach the kernel or devices rather than a file.
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const KERNEL_FILESYSTEMS = ['/proc', '/sys', '/dev'] as const;

/** `path` with symbolic links resolved as far as it exists (the rest may not exist yet). */
function resolvedAsFarAsExists(path: string): string {
  let existing = resolve(path);
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  let real: string;
  try {
    real = realpathSync(existing);
  } catch {
    real = existing;
  }
  return join(real, relative(existing, resolve(path)));
}

/** The kernel filesystem (/proc, /sys, /dev) that `path` lies in, if it does; symbolic links followed. */
export function kernelFilesystemOf(path: string): string | undefined {
  for (const candidate of [resolve(path), resolvedAsFarAsExists(path)]) {
    const hit = KERNEL_FILESYSTEMS.find((fs) => candidate === fs || candidate.startsWith(`${fs}/`));
    if (hit) return hit;
  }
  return undefined;
}

/**
 * Why `path` cannot hold state (`what` names it in the message, e.g. "ipam.dataDir"), or undefined when it
 * can as far as its location goes.
 */
export function stateLocationProblem(path: string, what: string): string | undefined {
  const fs = kernelFilesystemOf(path);
  return fs === undefined
    ? undefined
    : `${what} ${path} is under ${fs}, a kernel filesystem: state cannot be kept there`;
}
