// What the streaming and filesystem handlers (attach, exec, logs, stats, top, cp, export) need to know
// about one container, without knowing how the engine keeps its records: the engine implements
// ContainerLookup, the handlers take it as a dependency (tests give them a fixture container).
import type { ContainerCreateSpec } from './create-spec.ts';

export type ContainerStatus =
  | 'created'
  | 'running'
  | 'paused'
  | 'restarting'
  | 'exited'
  | 'removing'
  | 'dead';

export interface ContainerHandle {
  readonly id: string;
  /** without Docker's leading "/" */
  readonly name: string;
  readonly status: ContainerStatus;
  /** PID 1 of the container on the host, while it runs */
  readonly pid?: number;
  readonly tty: boolean;
  readonly openStdin: boolean;
  /** the k8s-file log conmon writes (rotated files are `${logPath}.1`, `.2`, ...) */
  readonly logPath: string;
  /** conmon's control fifo, in the bundle dir: "1 ROWS COLS\n" resizes, "2 0 0\n" reopens the log (2.1.6 ignores "2\n") */
  readonly ctlPath: string;
  /** conmon's attach socket (SOCK_SEQPACKET) */
  readonly attachSocketPath: string;
  /** the OCI bundle directory (config.json; rootfs is mounted at `${bundleDir}/rootfs` while it exists) */
  readonly bundleDir: string;
  /** the container's root filesystem on the host (the mounted overlay) */
  readonly rootfs: string;
  /** pkg/cgroups path ("tsnet/<id>") */
  readonly cgroupPath: string;
  /** the network namespace file, when it has its own */
  readonly netnsPath?: string;
  /** how to reach runc for this container */
  readonly runtime: { readonly binary: string; readonly root: string };
  readonly spec: ContainerCreateSpec;
}

export class ContainerNotFoundError extends Error {
  override name = 'ContainerNotFoundError';
  constructor(readonly ref: string) {
    super(`No such container: ${ref}`);
  }
}

export class ContainerStateError extends Error {
  override name = 'ContainerStateError';
}

export interface ContainerLookup {
  /** by name, ID or unique ID prefix; throws ContainerNotFoundError */
  get(ref: string): Promise<ContainerHandle>;
  /** resolves when the container's current run ends, with its exit code */
  waitExit(id: string): Promise<{ exitCode: number; oomKilled: boolean }>;
  /**
   * Runs `fn` on the container's next start, once its monitor is up and before its process runs: an attach
   * made before `start` (foreground `run`, `start -a`) misses no output. Returns the cancellation.
   */
  beforeNextStart(id: string, fn: () => Promise<void>): () => void;
}
