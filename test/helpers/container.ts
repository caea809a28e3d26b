// Test containers: a busybox-static rootfs with its applets, an OCI bundle from pkg/runtime/spec.ts, and a
// container started under conmon in a temp dir laid out like the agent's data and run dirs, in its own
// network namespace (the spec's netns path; never `ip netns exec`). Cleanup is leak-free even on failure.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionContext } from 'ava';
import { cgroupManager, detectCgroupLayout } from '../../pkg/cgroups/index.ts';
import { createNamedNetns, deleteNamedNetns } from '../../pkg/netns/index.ts';
import { type Monitor, type MonitorOptions, monitorAlive, startMonitor } from '../../pkg/runtime/conmon.ts';
import type { ExecTarget } from '../../pkg/runtime/exec.ts';
import type { OciSpec } from '../../pkg/runtime/oci.ts';
import { Runc } from '../../pkg/runtime/runc.ts';
import { buildSpec, type RunOptions, specToJson } from '../../pkg/runtime/spec.ts';
import { uniqueName } from './netns.ts';

export const BUSYBOX = '/bin/busybox';
export const BUSYBOX_APPLETS = [
  'sh',
  'id',
  'cat',
  'grep',
  'echo',
  'hostname',
  'env',
  'pwd',
  'unshare',
  'wc',
  'true',
  'false',
  'cut',
  'tr',
  'readlink',
  'sleep',
  'head',
  'trap',
  'kill',
  'ls',
];

/** Why runc containers cannot run here (skip the test with it), or undefined when they can. */
export function whyContainersCannotRun(opts: { conmon?: boolean } = {}): string | undefined {
  if (process.getuid?.() !== 0) return 'runc tests need root';
  const tools: [string, string][] = [['runc', 'runc']];
  if (opts.conmon) tools.push(['conmon', 'conmon']);
  for (const [bin, pkg] of tools) {
    try {
      execFileSync(bin, ['--version'], { stdio: 'ignore' });
    } catch {
      return `${bin} is not installed (scripts/install-deps.sh installs ${pkg})`;
    }
  }
  const noCgroups =
    'no cgroup hierarchy is visible under /sys/fs/cgroup (under `ip netns exec`, which remounts /sys?)';
  try {
    if (detectCgroupLayout().mode !== 'v2' && !existsSync('/sys/fs/cgroup/memory/cgroup.procs'))
      return noCgroups;
  } catch {
    return noCgroups;
  }
  if (!existsSync(BUSYBOX)) return 'busybox-static is not installed (apt-get install -y busybox-static)';
  if (!execFileSync('file', ['-L', BUSYBOX], { encoding: 'utf8' }).includes('statically linked')) {
    return `${BUSYBOX} is not statically linked (install busybox-static)`;
  }
  return undefined;
}

/** A rootfs with busybox and its applets, and an image-style passwd/group. */
export function makeBusyboxRootfs(rootfs: string, applets: readonly string[] = BUSYBOX_APPLETS): void {
  for (const dir of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'home/app'])
    mkdirSync(join(rootfs, dir), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777); // as in images: runc gives a tmpfs the mode of the dir it covers
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  for (const applet of new Set(applets)) symlinkSync('busybox', join(rootfs, 'bin', applet));
  writeFileSync(
    join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n',
  );
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\naudio:x:29:app\napp:x:1000:\n');
}

export interface BundleOptions extends Omit<RunOptions, 'rootfs' | 'cmd'> {
  /** the container's command */
  readonly args: readonly string[];
}

export interface BusyboxBundle {
  readonly bundleDir: string;
  readonly rootfs: string;
  readonly spec: OciSpec;
}

/** Writes `dir/rootfs` (busybox) and `dir/config.json` from buildSpec; the rootfs is reused when present. */
export function makeBusyboxBundle(dir: string, opts: BundleOptions): BusyboxBundle {
  const rootfs = join(dir, 'rootfs');
  if (!existsSync(join(rootfs, 'bin/busybox'))) makeBusyboxRootfs(rootfs);
  const { args, ...rest } = opts;
  const { spec } = buildSpec({ ...rest, rootfs: 'rootfs', rootfsOnHost: rootfs, cmd: args });
  writeFileSync(join(dir, 'config.json'), specToJson(spec));
  return { bundleDir: dir, rootfs, spec };
}

/** A temp dir with a busybox bundle for `fn`, removed afterwards whatever happens. */
export async function withBusyboxBundle<T>(
  t: ExecutionContext,
  opts: BundleOptions,
  fn: (bundle: BusyboxBundle) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-test-bundle-'));
  try {
    return await fn(makeBusyboxBundle(dir, opts));
  } catch (err) {
    t.log(`bundle in ${dir}`);
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface FixtureOptions extends Partial<BundleOptions> {
  readonly args: readonly string[];
  /** the container id (default: a unique one) */
  readonly id?: string;
  /** start the container after conmon created it (default true) */
  readonly start?: boolean;
  /** a network namespace to join instead of a fresh one */
  readonly netnsPath?: string;
  /** conmon keeps a pipe to the container's stdin (-i) */
  readonly stdin?: boolean;
  /** starts conmon instead of startMonitor in this process (e.g. from a child that is then killed) */
  readonly launch?: (opts: MonitorOptions) => Promise<Monitor>;
}

/** A container under conmon, with the paths the agent's layout gives it (see runtime-design.md). */
export interface FixtureContainer {
  readonly id: string;
  readonly root: string;
  readonly runc: Runc;
  readonly monitor: Monitor;
  readonly bundleDir: string;
  /** D/containers/<id>: conmon's cwd */
  readonly containerDir: string;
  readonly logPath: string;
  readonly persistDir: string;
  readonly exitDir: string;
  readonly pidFile: string;
  readonly conmonPidFile: string;
  readonly runtimeLogPath: string;
  readonly netnsPath: string;
  readonly cgroupPath: string;
  /** what startMonitor was given: to start the same container again */
  readonly monitorOptions: MonitorOptions;
  /** Kills conmon and the container, runc delete -f, removes the cgroup, the netns and the dirs. */
  cleanup(): Promise<void>;
}

/** What startExec needs to run a process in the fixture container. */
export function execTargetOf(ctr: FixtureContainer): ExecTarget {
  return {
    id: ctr.id,
    bundleDir: ctr.bundleDir,
    rootfs: join(ctr.bundleDir, 'rootfs'),
    runtime: { root: ctr.runc.root },
  };
}

/**
 * Starts a busybox container under conmon in a fresh temp dir (data dir D and run dir R inside it) and,
 * unless `start` is false, runs it. On failure everything made so far is removed before the error.
 */
export async function runFixtureContainer(opts: FixtureOptions): Promise<FixtureContainer> {
  const id = opts.id ?? `tsnet-test-${randomBytes(6).toString('hex')}`;
  const root = mkdtempSync(join(tmpdir(), 'tsnet-test-ctr-'));
  chmodSync(root, 0o755);
  const dataDir = join(root, 'data');
  const runDir = join(root, 'run');
  const containerDir = join(dataDir, 'containers', id);
  const stateDir = join(runDir, 'containers', id);
  const bundleDir = join(stateDir, 'bundle');
  const persistDir = join(containerDir, 'exit');
  const exitDir = join(runDir, 'exits');
  for (const dir of [bundleDir, persistDir, exitDir]) mkdirSync(dir, { recursive: true });
  const runc = new Runc({ root: join(runDir, 'runc') });
  // a top-level cgroup named by the id: destroying it leaves no parent behind (the leftover check sees it)
  const cgroupPath = id;
  let netnsName: string | undefined;
  let netnsPath = opts.netnsPath;
  const conmonPidFile = join(stateDir, 'conmon.pid');
  const cleanup = async (): Promise<void> => {
    await runc.kill(id, 'KILL', { all: true }).catch(() => undefined);
    await runc.delete(id, { force: true }).catch(() => undefined);
    // conmon ends by itself once its container is gone (writing the exit file): wait for it, so it does not
    // write into the dirs being removed, then kill one that hangs on
    for (let i = 0; i < 40 && monitorAlive(conmonPidFile); i++) await sleep(50);
    if (monitorAlive(conmonPidFile)) {
      try {
        process.kill(Number(readFileSync(conmonPidFile, 'utf8').trim()), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await cgroupManager(cgroupPath, detectCgroupLayout())
      .destroy()
      .catch(() => undefined);
    if (netnsName) deleteNamedNetns(netnsName);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    if (!netnsPath) {
      netnsName = uniqueName('ctr');
      netnsPath = createNamedNetns(netnsName);
    }
    const { args, start, launch, stdin, id: _id, netnsPath: _ns, ...rest } = opts;
    makeBusyboxBundle(bundleDir, {
      ...rest,
      args,
      cgroupsPath: cgroupPath,
      namespaces: { network: { path: netnsPath }, ...rest.namespaces },
    });
    const paths = {
      logPath: join(containerDir, 'ctr.log'),
      pidFile: join(stateDir, 'pidfile'),
      runtimeLogPath: join(stateDir, 'runc.log'),
    };
    const monitorOptions: MonitorOptions = {
      id,
      name: id,
      bundleDir,
      runtime: { root: runc.root },
      logPath: paths.logPath,
      exitDir,
      persistDir,
      socketDir: stateDir,
      pidFile: paths.pidFile,
      conmonPidFile,
      tty: opts.tty ?? false,
      stdin: stdin ?? false,
      cwd: containerDir,
      runtimeLogPath: paths.runtimeLogPath,
    };
    const monitor = await (launch ?? startMonitor)(monitorOptions);
    if (start ?? true) await runc.start(id);
    return {
      id,
      root,
      runc,
      monitor,
      bundleDir,
      containerDir,
      persistDir,
      exitDir,
      conmonPidFile,
      netnsPath,
      cgroupPath,
      monitorOptions,
      ...paths,
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
