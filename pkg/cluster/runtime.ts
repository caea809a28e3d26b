// Removing a node agent's containers at teardown: through its API while it runs (the agent releases networks,
// mounts and cgroups itself), and a sweep afterwards for what an agent that died could not remove.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentClient } from '../api/client.ts';
import { runcRootOf } from '../container/paths.ts';
import { cmdlineOf } from './process.ts';

/** `rm -f` of every container the agent at `apiSocket` has. */
export async function removeRuntimeContainers(apiSocket: string): Promise<void> {
  if (!existsSync(apiSocket)) return;
  const client = new AgentClient(apiSocket);
  try {
    const { containers } = await client.containers({ all: true });
    const failed: string[] = [];
    for (const c of containers) {
      await client.removeContainer({ container: c.id, force: true }).catch((err: unknown) => {
        failed.push(`${c.id.slice(0, 12)}: ${(err as Error).message}`);
      });
    }
    if (failed.length > 0) throw new Error(`removing containers via ${apiSocket}: ${failed.join('; ')}`);
  } finally {
    client.close();
  }
}

/**
 * After the agent of `runDir` stopped: kills monitors (conmon) still naming one of the cluster's directories
 * (`roots`), deletes runc's containers under the agent's runc root, and unmounts what is mounted under `roots`.
 */
export function sweepRuntime(runDir: string, roots: readonly string[]): void {
  const under = (path: string): boolean => roots.some((root) => path.includes(`${root}/`));
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (!under(cmdlineOf(Number(pid)))) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  const runcRoot = runcRootOf(runDir);
  const ids = existsSync(runcRoot) ? readdirSync(runcRoot) : [];
  for (const id of ids) quietly('runc', '--root', runcRoot, 'delete', '-f', id);
  const targets = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((target) => roots.some((root) => target.startsWith(`${root}/`)));
  for (const target of targets.reverse()) quietly('umount', '-l', target);
  if (ids.length > 0) removeCgroups(ids);
}

/** The cgroups runc left for `ids` (tsnet/<id> in every v1 hierarchy). */
function removeCgroups(ids: readonly string[]): void {
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    for (const id of ids) {
      const dir = join('/sys/fs/cgroup', hierarchy, 'tsnet', id);
      if (existsSync(dir)) quietly('rmdir', dir);
    }
  }
}

function quietly(cmd: string, ...args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // best effort: what stays is reported by the caller's leftover check
  }
}
