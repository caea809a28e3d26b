// Handles for the cp/export tests: a ContainerHandle over a directory (a stopped container's rootfs).
import { Readable } from 'node:stream';
import type { ContainerHandle } from '../../pkg/container/handle.ts';

export function tarStream(bytes: Buffer): Readable {
  return Readable.from([bytes]);
}

/** A handle for a container that is not running, its files at `rootfs`. */
export function stoppedHandle(rootfs: string, overrides: Partial<ContainerHandle> = {}): ContainerHandle {
  return {
    id: 'f'.repeat(64),
    name: 'fixture',
    status: 'exited',
    tty: false,
    openStdin: false,
    logPath: '/nonexistent/ctr.log',
    ctlPath: '/nonexistent/ctl',
    attachSocketPath: '/nonexistent/attach',
    bundleDir: '/nonexistent/bundle',
    rootfs,
    cgroupPath: `tsnet/${'f'.repeat(64)}`,
    runtime: { binary: '/usr/sbin/runc', root: '/nonexistent/runc' },
    spec: { Image: 'busybox' },
    ...overrides,
  };
}
