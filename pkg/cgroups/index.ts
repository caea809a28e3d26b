// cgroups for containers: v1 and v2 behind one CgroupManager, chosen from the host's mount layout.
import { type CgroupLayout, detectCgroupLayout } from './layout.ts';
import type { CgroupManager } from './manager.ts';
import { V1CgroupManager } from './v1.ts';
import { V2CgroupManager } from './v2.ts';

export * from './devices.ts';
export { validateCgroupPath } from './files.ts';
export * from './layout.ts';
export * from './manager.ts';
export * from './resources.ts';
export { V1CgroupManager } from './v1.ts';
export { V2CgroupManager } from './v2.ts';

/** The parent under which the runtime puts its containers, in every hierarchy. */
export const CONTAINER_CGROUP_PARENT = 'tsnet';

/** The cgroup path of one container: "<parent>/<id>". */
export function containerCgroupPath(id: string, parent = CONTAINER_CGROUP_PARENT): string {
  return `${parent}/${id}`;
}

/** A manager for `path` on this host's layout: v1 whenever v1 controllers are mounted (hybrid too). */
export function cgroupManager(path: string, layout: CgroupLayout = detectCgroupLayout()): CgroupManager {
  if (layout.mode !== 'v2') return new V1CgroupManager(layout, path);
  return new V2CgroupManager(path, { root: layout.unified ?? '/sys/fs/cgroup' });
}
