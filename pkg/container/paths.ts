// Where one container's files are, from the agent's data dir D and run dir R (see the runtime design).
import { join } from 'node:path';

export interface ContainerPaths {
  /** D/containers/<id>: the record, the log, the etc files */
  readonly dir: string;
  readonly logPath: string;
  /** conmon's --persist-dir: `exit` and `oom` */
  readonly persistDir: string;
  /** R/containers/<id> */
  readonly runDir: string;
  readonly bundleDir: string;
  readonly rootfs: string;
  readonly pidFile: string;
  readonly conmonPidFile: string;
  readonly runtimeLogPath: string;
  readonly attachSocketPath: string;
  readonly ctlPath: string;
  /** R/netns/<id> */
  readonly netnsPath: string;
}

export function containerPaths(dataDir: string, runDir: string, id: string): ContainerPaths {
  const dir = join(dataDir, 'containers', id);
  const run = join(runDir, 'containers', id);
  // the bundle is the run dir itself: conmon's attach socket path (bundle/attach) must stay within 107 bytes
  const bundleDir = run;
  return {
    dir,
    logPath: join(dir, 'ctr.log'),
    persistDir: join(dir, 'exit'),
    runDir: run,
    bundleDir,
    rootfs: join(bundleDir, 'rootfs'),
    pidFile: join(run, 'pidfile'),
    conmonPidFile: join(run, 'conmon.pid'),
    runtimeLogPath: join(run, 'runc.log'),
    attachSocketPath: join(bundleDir, 'attach'),
    ctlPath: join(bundleDir, 'ctl'),
    netnsPath: join(runDir, 'netns', id),
  };
}

/** R/exits: conmon's --exit-dir, shared by all containers. */
export function exitDirOf(runDir: string): string {
  return join(runDir, 'exits');
}

/** R/runc: runc's --root. */
export function runcRootOf(runDir: string): string {
  return join(runDir, 'runc');
}
