// podman in a world of its own, for interop tests: temp --root/--runroot/--tmpdir, the vfs driver (no
// mounts), runc (crun cannot run on this hybrid-cgroup machine), cgroupfs, no network, and rlimits under this
// machine's hard limits. `podman run` goes into its own PID and mount namespace, so conmon, runc and any shm
// mount die with it instead of outliving the test.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

function hardLimit(name: string): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(name));
  const hard = line?.trim().split(/\s{2,}/)[2];
  return hard === undefined || hard === 'unlimited' ? Number.POSITIVE_INFINITY : Number(hard);
}

export interface Podman {
  (...args: string[]): Promise<string>;
  /** `podman run` in a PID + mount namespace of its own: nothing it starts survives it. */
  run(...args: string[]): Promise<string>;
}

export function podmanIn(dir: string, netnsPath?: string): Podman {
  for (const sub of ['root', 'run', 'tmp', 'net']) mkdirSync(join(dir, sub), { recursive: true });
  const nofile = Math.min(1024, hardLimit('Max open files'));
  const nproc = Math.min(1024, hardLimit('Max processes'));
  writeFileSync(
    join(dir, 'containers.conf'),
    [
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      'runtime = "runc"',
      '[engine.runtimes]',
      'runc = ["/usr/sbin/runc", "/usr/bin/runc"]',
      '[containers]',
      'netns = "none"',
      `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
      '',
    ].join('\n'),
  );
  const global = [
    '--root',
    join(dir, 'root'),
    '--runroot',
    join(dir, 'run'),
    '--tmpdir',
    join(dir, 'tmp'),
    '--network-config-dir',
    join(dir, 'net'),
    '--storage-driver',
    'vfs',
  ];
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
  // In a test's network namespace when given (to reach a test registry on its loopback).
  const exec = async (cmd: string, args: string[]) =>
    (
      await (netnsPath
        ? run('nsenter', [`--net=${netnsPath}`, cmd, ...args], { env, maxBuffer: 16 << 20 })
        : run(cmd, args, { env, maxBuffer: 16 << 20 }))
    ).stdout;
  const podman = ((...args: string[]) => exec('podman', [...global, ...args])) as Podman;
  podman.run = (...args: string[]) =>
    exec('unshare', [
      '--mount',
      '--pid',
      '--fork',
      '--mount-proc',
      '--kill-child',
      'podman',
      ...global,
      'run',
      ...args,
    ]);
  return podman;
}
