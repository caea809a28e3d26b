// `docker container inspect`'s object for one container, from its record.
import { inspectHealth } from './health.ts';
import type { NetworkAttachment, PublishedPort } from './networking.ts';
import type { ContainerRecord } from './record.ts';

export interface InspectPaths {
  readonly logPath: string;
  readonly hostnamePath?: string;
  readonly hostsPath?: string;
  readonly resolvConfPath?: string;
}

/** Docker's Ports map: "80/tcp" → [{HostIp, HostPort}] for published ports, null for exposed ones. */
export function portsMap(
  exposed: Readonly<Record<string, unknown>>,
  networks: readonly NetworkAttachment[],
): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const key of Object.keys(exposed)) out[key] = null;
  const seen = new Set<string>();
  for (const p of networks.flatMap((n) => n.ports)) {
    const key = `${p.containerPort}/${p.protocol}`;
    const id = `${key} ${p.hostIp} ${p.hostPort}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out[key] = [...(out[key] ?? []), { HostIp: p.hostIp, HostPort: String(p.hostPort) }];
  }
  return out;
}

export function publishedPorts(record: ContainerRecord): PublishedPort[] {
  return record.networks.flatMap((n) => n.ports);
}

function restartPolicyOf(record: ContainerRecord): { Name: string; MaximumRetryCount: number } {
  const p = record.spec.HostConfig?.RestartPolicy;
  return { Name: p?.Name || 'no', MaximumRetryCount: p?.MaximumRetryCount ?? 0 };
}

export function inspectContainer(record: ContainerRecord, paths: InspectPaths): Record<string, unknown> {
  const { state, config, spec } = record;
  const hc = spec.HostConfig ?? {};
  const primary = record.networks[0];
  const networkMode = hc.NetworkMode || 'bridge';
  const args = [...(config.entrypoint ?? []), ...(config.cmd ?? [])];
  return {
    Id: record.id,
    Created: record.created,
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: {
      Status: state.status,
      Running: state.status === 'running' || state.status === 'paused',
      Paused: state.status === 'paused',
      Restarting: state.status === 'restarting',
      OOMKilled: state.oomKilled,
      Dead: state.status === 'dead',
      Pid: state.pid,
      ExitCode: state.exitCode,
      Error: state.error,
      StartedAt: state.startedAt,
      FinishedAt: state.finishedAt,
      ...(state.health && { Health: inspectHealth(state.health) }),
    },
    Image: record.image.id,
    ResolvConfPath: paths.resolvConfPath ?? '',
    HostnamePath: paths.hostnamePath ?? '',
    HostsPath: paths.hostsPath ?? '',
    LogPath: paths.logPath,
    Name: `/${record.name}`,
    RestartCount: state.restartCount,
    Driver: 'overlay',
    Platform: 'linux',
    HostConfig: {
      Binds: hc.Binds ?? null,
      NetworkMode: networkMode,
      PortBindings: hc.PortBindings ?? {},
      RestartPolicy: restartPolicyOf(record),
      AutoRemove: hc.AutoRemove ?? false,
      CapAdd: hc.CapAdd ?? null,
      CapDrop: hc.CapDrop ?? null,
      Dns: hc.Dns ?? [],
      ExtraHosts: hc.ExtraHosts ?? null,
      Privileged: hc.Privileged ?? false,
      PublishAllPorts: hc.PublishAllPorts ?? false,
      ReadonlyRootfs: hc.ReadonlyRootfs ?? false,
      SecurityOpt: hc.SecurityOpt ?? null,
      Tmpfs: hc.Tmpfs,
      Init: hc.Init ?? null,
      Memory: hc.Memory ?? 0,
      MemorySwap: hc.MemorySwap ?? 0,
      MemoryReservation: hc.MemoryReservation ?? 0,
      CpuShares: hc.CpuShares ?? 0,
      NanoCpus: hc.NanoCpus ?? 0,
      CpuPeriod: hc.CpuPeriod ?? 0,
      CpuQuota: hc.CpuQuota ?? 0,
      CpusetCpus: hc.CpusetCpus ?? '',
      CpusetMems: hc.CpusetMems ?? '',
      PidsLimit: hc.PidsLimit ?? null,
      BlkioWeight: hc.BlkioWeight ?? 0,
      BlkioDeviceReadBps: hc.BlkioDeviceReadBps ?? null,
      BlkioDeviceWriteBps: hc.BlkioDeviceWriteBps ?? null,
      Ulimits: hc.Ulimits ?? null,
      ShmSize: hc.ShmSize ?? 64 * 1024 * 1024,
      OomScoreAdj: hc.OomScoreAdj ?? 0,
      LogConfig: { Type: hc.LogConfig?.Type || 'k8s-file', Config: hc.LogConfig?.Config ?? {} },
    },
    Mounts: record.mounts,
    Config: {
      Hostname: config.hostname,
      Domainname: config.domainname,
      User: config.user,
      AttachStdin: spec.AttachStdin ?? false,
      AttachStdout: spec.AttachStdout ?? false,
      AttachStderr: spec.AttachStderr ?? false,
      ExposedPorts: Object.keys(config.exposedPorts).length ? config.exposedPorts : undefined,
      Tty: spec.Tty ?? false,
      OpenStdin: spec.OpenStdin ?? false,
      StdinOnce: spec.StdinOnce ?? false,
      Env: config.env,
      Cmd: config.cmd,
      Image: record.image.ref,
      WorkingDir: config.workingDir,
      Entrypoint: config.entrypoint,
      Labels: config.labels,
      StopSignal: config.stopSignal,
      StopTimeout: spec.StopTimeout,
      ...(config.healthcheck && { Healthcheck: config.healthcheck }),
    },
    NetworkSettings: {
      IPAddress: primary?.ipAddress ?? '',
      IPPrefixLen: primary?.prefixLength ?? 0,
      Gateway: primary?.gateway ?? '',
      MacAddress: primary?.macAddress ?? '',
      Ports: portsMap(config.exposedPorts, record.networks),
      SandboxKey: '',
      Networks: Object.fromEntries(
        record.networkNames.map((name) => {
          const a = record.networks.find((n) => n.network === name);
          return [
            name,
            {
              Aliases: a?.aliases.length ? a.aliases : null,
              NetworkID: a?.networkId ?? '',
              IPAddress: a?.ipAddress ?? '',
              IPPrefixLen: a?.prefixLength ?? 0,
              Gateway: a?.gateway ?? '',
              MacAddress: a?.macAddress ?? '',
            },
          ];
        }),
      ),
    },
  };
}
