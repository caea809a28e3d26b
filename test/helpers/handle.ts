// ContainerHandles for handler-level tests: one over a plain directory (a stopped container's rootfs), and one
// over a running fixture container (test/helpers/container.ts), as the engine's ContainerLookup would give.
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ContainerHandle } from '../../pkg/container/handle.ts';
import type { FixtureContainer } from './container.ts';

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

/** The handle of a running fixture container. */
export function fixtureHandle(
  c: FixtureContainer,
  overrides: Partial<ContainerHandle> = {},
): ContainerHandle {
  return {
    id: c.id,
    name: c.id,
    status: 'running',
    pid: c.monitor.pid,
    tty: false,
    openStdin: false,
    logPath: c.logPath,
    ctlPath: c.monitor.ctlPath,
    attachSocketPath: c.monitor.attachPath,
    bundleDir: c.bundleDir,
    rootfs: join(c.bundleDir, 'rootfs'),
    cgroupPath: c.cgroupPath,
    netnsPath: c.netnsPath,
    runtime: { binary: 'runc', root: c.runc.root },
    spec: { Image: 'busybox' },
    ...overrides,
  };
}
