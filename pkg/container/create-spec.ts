// What a client asks for when it creates a container: Docker's ContainerCreate body (the Engine API's
// `POST /containers/create`), the subset tsnet implements, with Docker's field names and units. tsnetctl
// builds it from docker-style flags, compose from a service; the agent validates it (parseCreateSpec) and
// turns it into a record, an OCI spec, mounts and network attachments.

/** `-p [ip:]host:container[/proto]`: key "80/tcp" → bindings; HostPort "" picks a free port. */
export interface PortBindingSpec {
  readonly HostIp?: string;
  readonly HostPort?: string;
}

/** `--mount type=...,source=...,target=...` (Docker's HostConfig.Mounts). */
export interface MountSpec {
  readonly Type: 'bind' | 'volume' | 'tmpfs';
  /** host path (bind), volume name (volume; empty: anonymous), unused for tmpfs */
  readonly Source?: string;
  readonly Target: string;
  readonly ReadOnly?: boolean;
  readonly BindOptions?: { readonly Propagation?: string };
  readonly VolumeOptions?: { readonly NoCopy?: boolean; readonly Labels?: Record<string, string> };
  readonly TmpfsOptions?: { readonly SizeBytes?: number; readonly Mode?: number };
}

export interface RestartPolicySpec {
  readonly Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  readonly MaximumRetryCount?: number;
}

export interface ThrottleDeviceSpec {
  readonly Path: string;
  /** bytes per second */
  readonly Rate: number;
}

export interface UlimitSpec {
  readonly Name: string;
  readonly Soft: number;
  readonly Hard: number;
}

export interface HostConfigSpec {
  /** `-v SRC:DST[:OPTS]`: a host path (absolute) or a volume name as SRC */
  readonly Binds?: readonly string[];
  readonly Mounts?: readonly MountSpec[];
  /** `--tmpfs /path[:opts]`: path → "size=64m,mode=1777" */
  readonly Tmpfs?: Readonly<Record<string, string>>;
  readonly ReadonlyRootfs?: boolean;
  readonly PortBindings?: Readonly<Record<string, readonly PortBindingSpec[]>>;
  readonly PublishAllPorts?: boolean;
  /** bridge (default), host, none, container:ID, or a network's name */
  readonly NetworkMode?: string;
  readonly Dns?: readonly string[];
  readonly DnsSearch?: readonly string[];
  readonly DnsOptions?: readonly string[];
  /** `--add-host name:ip` */
  readonly ExtraHosts?: readonly string[];
  readonly RestartPolicy?: RestartPolicySpec;
  readonly AutoRemove?: boolean;
  /** the client's terminal [height, width] when it runs with one: the size from the process's first byte */
  readonly ConsoleSize?: readonly [number, number];
  readonly Memory?: number;
  readonly MemorySwap?: number;
  readonly MemoryReservation?: number;
  readonly CpuShares?: number;
  readonly NanoCpus?: number;
  readonly CpuPeriod?: number;
  readonly CpuQuota?: number;
  readonly CpusetCpus?: string;
  readonly CpusetMems?: string;
  readonly PidsLimit?: number;
  readonly BlkioWeight?: number;
  readonly BlkioDeviceReadBps?: readonly ThrottleDeviceSpec[];
  readonly BlkioDeviceWriteBps?: readonly ThrottleDeviceSpec[];
  readonly Ulimits?: readonly UlimitSpec[];
  /** `--init`: tini as PID 1 */
  readonly Init?: boolean;
  readonly CapAdd?: readonly string[];
  readonly CapDrop?: readonly string[];
  readonly Privileged?: boolean;
  readonly SecurityOpt?: readonly string[];
  readonly GroupAdd?: readonly string[];
  readonly ShmSize?: number;
  readonly Sysctls?: Readonly<Record<string, string>>;
  /** `--userns`: "" (none) or "host"; a private user namespace comes from the agent's remap settings */
  readonly UsernsMode?: string;
  readonly IpcMode?: string;
  readonly PidMode?: string;
  readonly UTSMode?: string;
  readonly LogConfig?: { readonly Type?: string; readonly Config?: Readonly<Record<string, string>> };
  readonly OomScoreAdj?: number;
}

export interface EndpointSpec {
  readonly IPAMConfig?: { readonly IPv4Address?: string };
  readonly Aliases?: readonly string[];
  readonly MacAddress?: string;
}

/** Docker's Config.Healthcheck: durations in nanoseconds, 0 or absent: the default (the image's). */
export interface HealthcheckSpec {
  /** ["NONE"] disables the image's check; ["CMD", ...argv]; ["CMD-SHELL", command]; [] inherits */
  readonly Test?: readonly string[];
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  /** how often to probe during the start period (Docker 25's start_interval) */
  readonly StartInterval?: number;
  readonly Retries?: number;
}

export interface ContainerCreateSpec {
  readonly Image: string;
  readonly Hostname?: string;
  readonly Domainname?: string;
  readonly User?: string;
  readonly Env?: readonly string[];
  readonly Cmd?: readonly string[];
  /** [] clears the image's entrypoint (`--entrypoint ""`); absent keeps it */
  readonly Entrypoint?: readonly string[];
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  /** "80/tcp" → {} (Docker's shape) */
  readonly ExposedPorts?: Readonly<Record<string, Record<string, never>>>;
  readonly Tty?: boolean;
  readonly OpenStdin?: boolean;
  readonly StdinOnce?: boolean;
  readonly AttachStdin?: boolean;
  readonly AttachStdout?: boolean;
  readonly AttachStderr?: boolean;
  readonly StopSignal?: string;
  readonly StopTimeout?: number;
  readonly Healthcheck?: HealthcheckSpec;
  readonly HostConfig?: HostConfigSpec;
  readonly NetworkingConfig?: { readonly EndpointsConfig?: Readonly<Record<string, EndpointSpec>> };
}
