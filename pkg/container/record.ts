// What the agent keeps about one container, persisted as D/containers/<id>/config.json: who it is, what it
// was created from and with, where its run stands, and what its networks and mounts gave it.
import type { MountOption } from '../runtime/spec.ts';
import type { ContainerCreateSpec, HealthcheckSpec } from './create-spec.ts';
import type { ContainerStatus } from './handle.ts';
import type { HealthState } from './health.ts';
import type { NetworkAttachment } from './networking.ts';
import type { DockerMount } from './volumes.ts';

export interface ContainerState {
  status: ContainerStatus;
  /** PID 1 of the container on the host while it runs, else 0 */
  pid: number;
  /** conmon's PID while it runs, else 0 */
  monitorPid: number;
  /** conmon's start time (/proc/PID/stat), so that a reused PID is not taken for it */
  monitorStartTime?: number;
  exitCode: number;
  oomKilled: boolean;
  /** RFC 3339; "0001-01-01T00:00:00Z" before the first start (Docker's zero time) */
  startedAt: string;
  finishedAt: string;
  /** restarts the restart policy made since the last start by the user */
  restartCount: number;
  /** why the last start failed, or the monitor was lost */
  error: string;
  /** the user stopped it: no restart policy applies (unless-stopped stays stopped after a reboot) */
  manuallyStopped: boolean;
  /** State.Health: from the first start of a container that has a health check */
  health?: HealthState;
}

/** The image's Config merged with the create spec, as the container runs it (inspect's Config). */
export interface ResolvedConfig {
  hostname: string;
  domainname: string;
  user: string;
  env: string[];
  cmd: string[] | null;
  entrypoint: string[] | null;
  workingDir: string;
  labels: Record<string, string>;
  exposedPorts: Record<string, Record<string, never>>;
  stopSignal: string;
  stopTimeout: number;
  /** the spec's Healthcheck over the image's (inspect's Config.Healthcheck) */
  healthcheck?: HealthcheckSpec;
  /** the image's SHELL, which a CMD-SHELL check runs under */
  shell?: string[];
}

export interface ContainerRecord {
  version: 1;
  id: string;
  /** without Docker's leading "/" */
  name: string;
  created: string;
  /** the reference the user gave (as normalised by Docker's familiar form) and the image ID */
  image: { ref: string; id: string; topChainId?: string };
  spec: ContainerCreateSpec;
  config: ResolvedConfig;
  state: ContainerState;
  /** network names in attach order, resolved at create ("bridge", "none", "host" or a network) */
  networkNames: string[];
  /** what attach answered, while the container has its network namespace */
  networks: NetworkAttachment[];
  /** inspect's Mounts */
  mounts: DockerMount[];
  /** the same mounts as the OCI spec takes them, resolved at create */
  runMounts: MountOption[];
  anonymousVolumes: string[];
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function initialState(): ContainerState {
  return {
    status: 'created',
    pid: 0,
    monitorPid: 0,
    exitCode: 0,
    oomKilled: false,
    startedAt: ZERO_TIME,
    finishedAt: ZERO_TIME,
    restartCount: 0,
    error: '',
    manuallyStopped: false,
  };
}

/** Docker prints 12 hex digits. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}
