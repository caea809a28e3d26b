// From a create spec and its image's config to what the container runs: Docker's merge of the image's
// Env/Cmd/Entrypoint/WorkingDir/User/Labels with the user's (ResolvedConfig), and the run options that
// pkg/runtime/spec.ts turns into an OCI spec.
import { blockDeviceNumbers, type CgroupResources, type DeviceRate } from '../cgroups/index.ts';
import type { ContainerConfig } from '../image/catalog.ts';
import type { MountOption, NamespaceMode, RunOptions } from '../runtime/spec.ts';
import type { ContainerCreateSpec, ThrottleDeviceSpec } from './create-spec.ts';
import { mergeHealthcheck } from './health.ts';
import { CreateSpecError } from './parse.ts';
import type { ResolvedConfig } from './record.ts';

/** Docker's default stop timeout in seconds. */
export const DEFAULT_STOP_TIMEOUT = 10;

/** Where Docker binds its init (tini) in the container, and where Debian's static tini is on the host. */
export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';
export const DEFAULT_INIT_BINARY = '/usr/bin/tini-static';

function envKey(entry: string): string {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry : entry.slice(0, eq);
}

/** Image env then the user's, a later key replacing an earlier one in place. */
function mergeEnv(image: readonly string[], user: readonly string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...image, ...user]) out.set(envKey(e), e);
  return [...out.values()];
}

export function resolveConfig(
  spec: ContainerCreateSpec,
  image: ContainerConfig,
  defaults: { hostname: string },
): ResolvedConfig {
  // An entrypoint given by the user drops the image's Cmd too (Docker), unless the user gives a Cmd.
  const entrypoint =
    spec.Entrypoint !== undefined
      ? spec.Entrypoint.length
        ? [...spec.Entrypoint]
        : null
      : image.Entrypoint
        ? [...image.Entrypoint]
        : null;
  const cmd =
    spec.Cmd !== undefined && spec.Cmd.length > 0
      ? [...spec.Cmd]
      : spec.Entrypoint !== undefined
        ? null
        : image.Cmd
          ? [...image.Cmd]
          : null;
  const healthcheck = mergeHealthcheck(spec.Healthcheck, image.Healthcheck);
  return {
    hostname: spec.Hostname || defaults.hostname,
    domainname: spec.Domainname ?? '',
    user: spec.User || image.User || '',
    env: mergeEnv(image.Env ?? [], spec.Env ?? []),
    cmd,
    entrypoint,
    workingDir: spec.WorkingDir || image.WorkingDir || '',
    labels: { ...(image.Labels ?? {}), ...(spec.Labels ?? {}) },
    exposedPorts: {
      ...Object.fromEntries(
        Object.keys(image.ExposedPorts ?? {}).map((p) => [p.includes('/') ? p : `${p}/tcp`, {}]),
      ),
      ...(spec.ExposedPorts ?? {}),
    },
    stopSignal: spec.StopSignal || image.StopSignal || 'SIGTERM',
    stopTimeout:
      spec.StopTimeout !== undefined && spec.StopTimeout >= 0 ? spec.StopTimeout : DEFAULT_STOP_TIMEOUT,
    ...(healthcheck && { healthcheck }),
    ...(healthcheck && image.Shell?.length && { shell: [...image.Shell] }),
  };
}

function rates(list: readonly ThrottleDeviceSpec[] | undefined): DeviceRate[] | undefined {
  return list?.map((d) => ({ ...blockDeviceNumbers(d.Path), rate: d.Rate }));
}

/** HostConfig's limits in pkg/cgroups' terms. */
export function cgroupResourcesOf(spec: ContainerCreateSpec): CgroupResources {
  const hc = spec.HostConfig ?? {};
  const r: { -readonly [K in keyof CgroupResources]: CgroupResources[K] } = {};
  if (hc.Memory) r.memory = hc.Memory;
  if (hc.MemoryReservation) r.memoryReservation = hc.MemoryReservation;
  if (hc.MemorySwap) r.memorySwap = hc.MemorySwap;
  if (hc.CpuShares) r.cpuShares = hc.CpuShares;
  if (hc.NanoCpus) r.nanoCpus = hc.NanoCpus;
  if (hc.CpuPeriod) r.cpuPeriod = hc.CpuPeriod;
  if (hc.CpuQuota) r.cpuQuota = hc.CpuQuota;
  if (hc.CpusetCpus) r.cpusetCpus = hc.CpusetCpus;
  if (hc.CpusetMems) r.cpusetMems = hc.CpusetMems;
  if (hc.PidsLimit !== undefined && hc.PidsLimit !== 0) r.pidsLimit = hc.PidsLimit;
  if (hc.BlkioWeight) r.blkioWeight = hc.BlkioWeight;
  const read = rates(hc.BlkioDeviceReadBps);
  const write = rates(hc.BlkioDeviceWriteBps);
  if (read?.length) r.deviceReadBps = read;
  if (write?.length) r.deviceWriteBps = write;
  return r;
}

function hostMode(what: string, mode: string | undefined): NamespaceMode {
  if (mode === undefined || mode === '' || mode === 'private' || mode === 'shareable') return 'private';
  if (mode === 'host') return 'host';
  throw new CreateSpecError(`invalid ${what} mode ${JSON.stringify(mode)}: use host or private`);
}

export interface RunContext {
  readonly id: string;
  readonly rootfs: string;
  /** "host", or the network namespace file the container joins */
  readonly network: 'host' | { path: string };
  readonly mounts: readonly MountOption[];
  readonly cgroupsPath: string;
  readonly initBinary?: string;
}

/** The options buildSpec takes for this container. */
/** The terminal's first size (Docker's HostConfig.ConsoleSize), when it has a terminal and a size. */
function consoleSizeOf(spec: ContainerCreateSpec): { consoleSize?: { height: number; width: number } } {
  const [height = 0, width = 0] = spec.HostConfig?.ConsoleSize ?? [];
  return spec.Tty && height > 0 && width > 0 ? { consoleSize: { height, width } } : {};
}

export function runOptionsOf(spec: ContainerCreateSpec, config: ResolvedConfig, ctx: RunContext): RunOptions {
  const hc = spec.HostConfig ?? {};
  const init = hc.Init === true;
  const args = [...(config.entrypoint ?? []), ...(config.cmd ?? [])];
  const mounts: MountOption[] = [...ctx.mounts];
  if (init)
    mounts.push({
      type: 'bind',
      source: ctx.initBinary ?? DEFAULT_INIT_BINARY,
      target: INIT_PATH_IN_CONTAINER,
      readonly: true,
    });
  const uts = hostMode('UTS', hc.UTSMode);
  return {
    rootfs: ctx.rootfs,
    entrypoint: init ? [INIT_PATH_IN_CONTAINER, '--', ...args] : args,
    env: config.env,
    workingDir: config.workingDir,
    user: config.user,
    groupAdd: hc.GroupAdd ?? [],
    ...(uts === 'private' && ctx.network !== 'host' ? { hostname: config.hostname } : {}),
    tty: spec.Tty ?? false,
    ...consoleSizeOf(spec),
    readonlyRootfs: hc.ReadonlyRootfs ?? false,
    mounts,
    capAdd: hc.CapAdd ?? [],
    capDrop: hc.CapDrop ?? [],
    privileged: hc.Privileged ?? false,
    securityOpt: hc.SecurityOpt ?? [],
    resources: cgroupResourcesOf(spec),
    ulimits: (hc.Ulimits ?? []).map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })),
    namespaces: {
      network: ctx.network,
      pid: hostMode('PID', hc.PidMode),
      ipc: hostMode('IPC', hc.IpcMode),
      // with the host's network Docker also shares the host's hostname
      uts: ctx.network === 'host' ? 'host' : uts,
    },
    ...(hc.Sysctls ? { sysctls: hc.Sysctls } : {}),
    ...(hc.OomScoreAdj ? { oomScoreAdj: hc.OomScoreAdj } : {}),
    cgroupsPath: ctx.cgroupsPath,
    ...(hc.ShmSize ? { shmSizeBytes: hc.ShmSize } : {}),
  };
}
