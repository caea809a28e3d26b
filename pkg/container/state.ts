// The container state machine: which operation may run in which state, refused with Docker's words.
import { ContainerStateError, type ContainerStatus } from './handle.ts';

export type ContainerAction = 'start' | 'stop' | 'kill' | 'pause' | 'unpause' | 'restart' | 'remove' | 'exec';

/** The states each action may start from (remove without force; force removes from any state). */
const ALLOWED: Record<ContainerAction, readonly ContainerStatus[]> = {
  start: ['created', 'exited', 'restarting'],
  stop: ['running', 'paused', 'restarting', 'created', 'exited'],
  kill: ['running', 'paused'],
  pause: ['running'],
  unpause: ['paused'],
  restart: ['created', 'running', 'paused', 'exited', 'restarting'],
  remove: ['created', 'exited', 'dead'],
  exec: ['running'],
};

/** Throws a ContainerStateError unless `action` may run on a container in `status`. */
export function checkTransition(name: string, status: ContainerStatus, action: ContainerAction): void {
  if (status === 'removing' && action !== 'remove')
    throw new ContainerStateError(
      `container ${name} is marked for removal and cannot be ${pastTense(action)}`,
    );
  if (ALLOWED[action].includes(status)) return;
  throw new ContainerStateError(refusal(name, status, action));
}

function pastTense(action: ContainerAction): string {
  return (
    {
      start: 'started',
      stop: 'stopped',
      kill: 'killed',
      pause: 'paused',
      unpause: 'unpaused',
      restart: 'restarted',
      remove: 'removed',
      exec: 'used',
    } as const
  )[action];
}

function refusal(name: string, status: ContainerStatus, action: ContainerAction): string {
  switch (action) {
    case 'start':
      return status === 'paused'
        ? `cannot start a paused container, try unpause instead`
        : `Container ${name} is already running`;
    case 'kill':
      return status === 'restarting'
        ? `Container ${name} is restarting, wait until the container is running`
        : `Container ${name} is not running`;
    case 'pause':
      return status === 'paused' ? `Container ${name} is already paused` : `Container ${name} is not running`;
    case 'unpause':
      return `Container ${name} is not paused`;
    case 'exec':
      return status === 'paused'
        ? `Container ${name} is paused, unpause the container before exec`
        : `Container ${name} is not running`;
    case 'remove':
      return status === 'paused'
        ? `cannot remove container "/${name}": container is paused: unpause and then stop the container before removing or force remove`
        : status === 'restarting'
          ? `cannot remove container "/${name}": container is restarting: stop the container before removing or force remove`
          : `cannot remove container "/${name}": container is running: stop the container before removing or force remove`;
    default:
      return `Container ${name} cannot be ${pastTense(action)} while ${status}`;
  }
}

/** The container has a process (or is between runs under its restart policy). */
export function isActive(status: ContainerStatus): boolean {
  return status === 'running' || status === 'paused';
}
