// A compose service as the agent's create calls take it: Docker's ContainerCreate body with Docker
// Compose's labels and names (`<project>-<service>-<n>` containers, `<project>_<key>` networks and
// volumes), and the project's networks and volumes as Create requests. The config hash decides, on `up`,
// whether an existing container still matches its service.
import { createHash } from 'node:crypto';
import type { CreateNetworkRequest } from '../api/generated/tsnet/v1/CreateNetworkRequest.ts';
import type { CreateVolumeRequest } from '../api/generated/tsnet/v1/CreateVolumeRequest.ts';
import type {
  ContainerCreateSpec,
  EndpointSpec,
  HealthcheckSpec,
  MountSpec,
  PortBindingSpec,
  RestartPolicySpec,
} from '../container/create-spec.ts';
import { canonicalJson } from '../text/canonical-json.ts';
import type { ComposeProject, ServiceConfig } from './model.ts';

export const LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  containerNumber: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  configHash: 'com.docker.compose.config-hash',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  dependsOn: 'com.docker.compose.depends_on',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
} as const;

export function containerName(project: string, service: string, number: number): string {
  return `${project}-${service}-${number}`;
}

/** The image a service runs: its `image:`, else the one `build` makes, named as Compose v2 names it. */
export function serviceImage(project: ComposeProject, service: ServiceConfig): string {
  return service.image ?? `${project.name}-${service.name}`;
}

/**
 * sha256 of the normalized service (keys sorted), without `build`: how it was built does not decide
 * whether the container must be recreated (Compose's ServiceHash drops it too).
 */
export function configHash(service: ServiceConfig): string {
  const { build: _build, ...rest } = service;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** Compose's `com.docker.compose.depends_on` label: "db:service_healthy:false,cache:service_started:true". */
export function dependsOnLabel(service: ServiceConfig): string {
  return Object.entries(service.depends_on)
    .map(([dep, d]) => `${dep}:${d.condition}:${d.restart}`)
    .join(',');
}

export interface ServiceContainer {
  readonly name: string;
  readonly spec: ContainerCreateSpec;
  readonly configHash: string;
}

export function serviceCreateSpec(
  project: ComposeProject,
  service: ServiceConfig,
  number = 1,
): ServiceContainer {
  const hash = configHash(service);
  const labels: Record<string, string> = {
    ...service.labels,
    [LABEL.project]: project.name,
    [LABEL.service]: service.name,
    [LABEL.containerNumber]: String(number),
    [LABEL.oneoff]: 'False',
    [LABEL.configHash]: hash,
    [LABEL.workingDir]: project.workingDir,
    [LABEL.configFiles]: project.configFiles.join(','),
    [LABEL.dependsOn]: dependsOnLabel(service),
  };
  const env = Object.entries(service.environment)
    .filter((e): e is [string, string] => e[1] !== null)
    .map(([k, v]) => `${k}=${v}`);
  const exposed: Record<string, Record<string, never>> = {};
  for (const e of service.expose) exposed[e] = {};
  const portBindings: Record<string, PortBindingSpec[]> = {};
  for (const p of service.ports) {
    const key = `${p.target}/${p.protocol}`;
    exposed[key] = {};
    portBindings[key] = [
      ...(portBindings[key] ?? []),
      { HostIp: p.host_ip ?? '', HostPort: p.published ?? '' },
    ];
  }
  const { binds, mounts } = serviceMounts(project, service);
  const networks = Object.keys(service.networks).sort();
  const endpoints: Record<string, EndpointSpec> = {};
  for (const key of networks) {
    const n = service.networks[key] as ServiceConfig['networks'][string];
    const engineName = project.networks[key]?.name ?? key;
    endpoints[engineName] = {
      // the service name resolves on every network of the service, as in Compose
      Aliases: [service.name, ...n.aliases.filter((a) => a !== service.name)],
      ...(n.ipv4_address !== undefined && { IPAMConfig: { IPv4Address: n.ipv4_address } }),
    };
  }
  const healthcheck = healthcheckSpec(service);
  const restart = restartPolicy(service);
  const spec: ContainerCreateSpec = {
    Image: serviceImage(project, service),
    ...(service.hostname !== undefined && { Hostname: service.hostname }),
    ...(service.user !== undefined && { User: service.user }),
    ...(env.length > 0 && { Env: env }),
    ...(service.command && { Cmd: service.command }),
    ...(service.entrypoint && { Entrypoint: service.entrypoint }),
    ...(service.working_dir !== undefined && { WorkingDir: service.working_dir }),
    Labels: labels,
    ...(Object.keys(exposed).length > 0 && { ExposedPorts: exposed }),
    ...(healthcheck && { Healthcheck: healthcheck }),
    HostConfig: {
      ...(binds.length > 0 && { Binds: binds }),
      ...(mounts.length > 0 && { Mounts: mounts }),
      ...(Object.keys(portBindings).length > 0 && { PortBindings: portBindings }),
      ...(networks[0] !== undefined && { NetworkMode: project.networks[networks[0]]?.name ?? networks[0] }),
      ...(restart && { RestartPolicy: restart }),
      ...(service.limits.memory !== undefined && { Memory: service.limits.memory }),
      ...(service.limits.cpus !== undefined && { NanoCpus: Math.round(service.limits.cpus * 1e9) }),
      ...(service.init !== undefined && { Init: service.init }),
    },
    ...(networks.length > 0 && { NetworkingConfig: { EndpointsConfig: endpoints } }),
  };
  return { name: containerName(project.name, service.name, number), spec, configHash: hash };
}

/**
 * Short-syntax binds become `Binds` (Docker creates a missing host directory for those, as Compose
 * expects); named, anonymous and tmpfs volumes, and binds with create_host_path: false, become `Mounts`.
 */
function serviceMounts(
  project: ComposeProject,
  service: ServiceConfig,
): { binds: string[]; mounts: MountSpec[] } {
  const binds: string[] = [];
  const mounts: MountSpec[] = [];
  for (const v of service.volumes) {
    if (v.type === 'bind' && v.bind?.create_host_path !== false) {
      const opts = [v.read_only ? 'ro' : '', v.bind?.selinux ?? '', v.bind?.propagation ?? ''].filter(
        (o) => o !== '',
      );
      binds.push(`${v.source}:${v.target}${opts.length > 0 ? `:${opts.join(',')}` : ''}`);
    } else if (v.type === 'bind') {
      mounts.push({
        Type: 'bind',
        Source: v.source as string,
        Target: v.target,
        ...(v.read_only && { ReadOnly: true }),
        ...(v.bind?.propagation && { BindOptions: { Propagation: v.bind.propagation } }),
      });
    } else if (v.type === 'volume') {
      mounts.push({
        Type: 'volume',
        ...(v.source !== undefined && { Source: project.volumes[v.source]?.name ?? v.source }),
        Target: v.target,
        ...(v.read_only && { ReadOnly: true }),
        ...(v.volume?.nocopy && { VolumeOptions: { NoCopy: true } }),
      });
    } else {
      mounts.push({
        Type: 'tmpfs',
        Target: v.target,
        ...(v.read_only && { ReadOnly: true }),
        ...(v.tmpfs && {
          TmpfsOptions: {
            ...(v.tmpfs.size !== undefined && { SizeBytes: v.tmpfs.size }),
            ...(v.tmpfs.mode !== undefined && { Mode: v.tmpfs.mode }),
          },
        }),
      });
    }
  }
  return { binds, mounts };
}

function healthcheckSpec(service: ServiceConfig): HealthcheckSpec | undefined {
  const h = service.healthcheck;
  if (!h) return undefined;
  if (h.disable) return { Test: ['NONE'] };
  return {
    ...(h.test && { Test: h.test }),
    ...(h.interval !== undefined && { Interval: h.interval }),
    ...(h.timeout !== undefined && { Timeout: h.timeout }),
    ...(h.start_period !== undefined && { StartPeriod: h.start_period }),
    ...(h.start_interval !== undefined && { StartInterval: h.start_interval }),
    ...(h.retries !== undefined && { Retries: h.retries }),
  };
}

function restartPolicy(service: ServiceConfig): RestartPolicySpec | undefined {
  const r = service.restart;
  if (r === undefined) return undefined;
  if (r.startsWith('on-failure:'))
    return { Name: 'on-failure', MaximumRetryCount: Number(r.slice('on-failure:'.length)) };
  return { Name: r as RestartPolicySpec['Name'] };
}

/** The Create request of a project network (not for external ones: those must exist). */
export function networkCreateRequest(project: ComposeProject, key: string): CreateNetworkRequest {
  const n = project.networks[key];
  if (!n) throw new Error(`no network ${JSON.stringify(key)} in project ${project.name}`);
  return {
    name: n.name,
    driver: n.driver,
    pools: n.ipam.config.map((c) => ({
      subnet: c.subnet ?? '',
      gateway: c.gateway ?? '',
      ipRange: c.ip_range ?? '',
    })),
    options: { ...n.driver_opts },
    labels: { ...n.labels, [LABEL.project]: project.name, [LABEL.network]: key },
    internal: n.internal,
    checkDuplicateOk: true,
  };
}

/** The Create request of a project volume (not for external ones). */
export function volumeCreateRequest(project: ComposeProject, key: string): CreateVolumeRequest {
  const v = project.volumes[key];
  if (!v) throw new Error(`no volume ${JSON.stringify(key)} in project ${project.name}`);
  return {
    name: v.name,
    driver: v.driver,
    options: { ...v.driver_opts },
    labels: { ...v.labels, [LABEL.project]: project.name, [LABEL.volume]: key },
  };
}
