// Mounting what a snapshotter describes. Overlay mounts with relative lower dirs are made from the
// snapshotter's directory: mount(2) resolves them against the caller's working directory, which in Node is
// the process's, so it is changed for the synchronous call only (no other JavaScript runs in between).
import { readFileSync } from 'node:fs';
import { MNT_DETACH, MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT, mount, umount2 } from '../../native/libc.ts';
import type { Mount } from './overlay.ts';

/** The kernel copies mount data into one page; longer option strings fail with a misleading error. */
const MAX_MOUNT_DATA = 4095;

export function mountAll(mounts: Mount[], target: string): void {
  for (const m of mounts) {
    if (m.type === 'bind') {
      const recursive = m.options.includes('rbind') ? MS_REC : 0;
      mount(m.source, target, null, MS_BIND | recursive);
      if (m.options.includes('ro')) mount(null, target, null, MS_REMOUNT | MS_BIND | MS_RDONLY | recursive);
      continue;
    }
    const data = m.options.join(',');
    if (data.length > MAX_MOUNT_DATA)
      throw new Error(`overlay mount on ${target}: ${data.length} bytes of options exceed the kernel's page`);
    const previous = process.cwd();
    if (m.cwd) process.chdir(m.cwd);
    try {
      mount(m.source, target, 'overlay', 0, data);
    } finally {
      if (m.cwd) process.chdir(previous);
    }
  }
}

/** Unmounts `target`; lazily when busy is not acceptable, so a busy mount is an error. */
export function unmount(target: string, options: { detach?: boolean } = {}): void {
  umount2(target, options.detach ? MNT_DETACH : 0);
}

/** Whether something is mounted on `target` (per this process's mountinfo). */
export function isMounted(target: string): boolean {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  const escaped = target.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return text.split('\n').some((line) => line.split(' ')[4] === escaped);
}
