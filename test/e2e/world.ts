// One real tsnet-agent per e2e test file, driven only through tsnetctl (the operator's CLI): the agent runs in
// a test network namespace with its dirs in a temp dir, the busybox test image loaded with `tsnetctl load -i`.
// Teardown removes every container with `rm -f` and then, by hand, whatever a failed removal left.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { type Outcome, tsnetctl } from '../ctl/cli.ts';
import { startTestAgent, type TestAgent } from '../helpers/agent.ts';
import { withNetnses } from '../helpers/netns.ts';
import { writeBusyboxLayout } from '../helpers/registry.ts';
import { withTempDir } from '../helpers/tmp.ts';

export const IMAGE = 'tsnet-test/busybox:latest';

export interface World {
  dir: string;
  agent: TestAgent;
  /** tsnetctl against this agent. */
  ctl(...args: string[]): Promise<Outcome>;
  /** tsnetctl that must succeed: its stdout. */
  ok(...args: string[]): Promise<string>;
  /** SIGKILLs the agent and starts a new one on the same dirs. */
  restartAgent(signal?: NodeJS.Signals): Promise<void>;
}

export async function withWorld(t: ExecutionContext, fn: (w: World) => Promise<void>): Promise<void> {
  t.timeout(300_000);
  await withNetnses('e2e', 1, ([ns]) =>
    withTempDir(async (dir) => {
      let agent = startTestAgent(ns!.path, dir);
      const host = `unix://${agent.socket}`;
      const ctl = (...args: string[]) => tsnetctl('-H', host, ...args);
      const ok = async (...args: string[]) => {
        const r = await ctl(...args);
        if (r.code !== 0) throw new Error(`tsnetctl ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
        return r.stdout;
      };
      const w: World = {
        dir,
        get agent() {
          return agent;
        },
        ctl,
        ok,
        async restartAgent(signal = 'SIGKILL') {
          agent.child.kill(signal);
          await agent.exited;
          agent = startTestAgent(ns!.path, dir);
          (await agent.connect()).close();
        },
      };
      try {
        (await agent.connect()).close();
        const image = await writeBusyboxLayout(join(dir, 'layout'), 'v1', ['linux/amd64']);
        const archive = join(dir, 'busybox.tar');
        execFileSync('skopeo', [
          'copy',
          '--quiet',
          `oci:${image.layout}:v1`,
          `docker-archive:${archive}:${IMAGE}`,
        ]);
        await ok('load', '-i', archive);
        await fn(w);
      } catch (err) {
        t.log(agent.log().slice(-3000));
        throw err;
      } finally {
        const ids = (await ctl('ps', '-aq', '--no-trunc')).stdout.split('\n').filter(Boolean);
        if (ids.length) await ctl('rm', '-f', '-v', ...ids);
        await agent.stop();
        cleanByHand(dir);
      }
    }, 'tsnt-'),
  );
}

/** What a failed removal left under `dir`: processes, runc containers, mounts, cgroups. */
function cleanByHand(dir: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${dir}/`))
        process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone
    }
  }
  const ids = existsSync(join(dir, 'run', 'containers')) ? readdirSync(join(dir, 'run', 'containers')) : [];
  for (const id of ids) quietly('runc', '--root', join(dir, 'run', 'runc'), 'delete', '-f', id);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
    const target = line.split(' ')[4];
    if (target?.startsWith(`${dir}/`)) quietly('umount', '-l', target);
  }
  for (const id of ids)
    for (const h of readdirSync('/sys/fs/cgroup'))
      if (existsSync(`/sys/fs/cgroup/${h}/tsnet/${id}`)) quietly('rmdir', `/sys/fs/cgroup/${h}/tsnet/${id}`);
}

function quietly(cmd: string, ...args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // best effort: the leftover check reports what stays
  }
}

/** A cgroup v1 file of container `id`. */
export const cgroupFile = (id: string, controller: string, file: string): string =>
  readFileSync(`/sys/fs/cgroup/${controller}/tsnet/${id}/${file}`, 'utf8').trim();
