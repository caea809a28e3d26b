// The processes of this machine as /proc shows them, for tests and benchmarks that look for the children
// a daemon started.
import { readdirSync, readFileSync } from 'node:fs';

/** The pids whose parent is `ppid`, with their command lines (NUL-separated; '' once gone). */
export function childrenOf(ppid: number): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      // the 4th field of stat, after the parenthesized command name (which may hold spaces)
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== ppid) continue;
      out.push({ pid: Number(p), cmdline: readFileSync(`/proc/${p}/cmdline`, 'utf8') });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
