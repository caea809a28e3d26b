// The one place that turns a container's run options (close to Docker's Config + HostConfig) into an OCI
// runtime spec for runc (runc's specconv idea): Docker's defaults for mounts, masked and read-only paths,
// devices, capabilities and seccomp, then the user's changes, each validated with a clear error.
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { isAbsolute, posix } from 'node:path';
import {
  blkioWeightWarning,
  type CgroupResources,
  cpuBandwidth,
  detectCgroupLayout,
  hasBlkioWeightFile,
  memoryLimits,
  validateCgroupPath,
  validateResources,
} from '../cgroups/index.ts';
import { containerCapabilities, hostCapabilities } from './capabilities.ts';
import {
  OCI_VERSION,
  type OciDeviceCgroup,
  type OciIdMapping,
  type OciMount,
  type OciNamespace,
  type OciNamespaceType,
  type OciResources,
  type OciSpec,
} from './oci.ts';
import {
  currentHardLimits,
  hasSysResource,
  parseUlimit,
  RLIM_INFINITY,
  toOciRlimits,
  type Ulimit,
} from './rlimits.ts';
import { DEFAULT_SECCOMP_PROFILE, type SeccompProfile, seccompForContainer } from './seccomp.ts';
import { resolveUser } from './user.ts';

export class SpecError extends Error {
  override name = 'SpecError';
}

export type MountOption =
  | { type: 'bind'; source: string; target: string; readonly?: boolean; propagation?: BindPropagation }
  /** a named volume, already resolved to its directory on the host */
  | { type: 'volume'; source: string; target: string; readonly?: boolean }
  | { type: 'tmpfs'; target: string; sizeBytes?: number; mode?: number; readonly?: boolean };

export type BindPropagation = 'rprivate' | 'private' | 'rshared' | 'shared' | 'rslave' | 'slave';

/** "private": a new namespace; "host": the agent's; or join an existing one by path. */
export type NamespaceMode = 'private' | 'host' | { path: string };

export interface RunOptions {
  /** the rootfs directory (absolute, or relative to the bundle) */
  readonly rootfs: string;
  /** where /etc/passwd and /etc/group are read from when rootfs is relative */
  readonly rootfsOnHost?: string;
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly env?: readonly string[];
  readonly workingDir?: string;
  /** "uid[:gid]" or names from the image's /etc/passwd and /etc/group */
  readonly user?: string;
  readonly groupAdd?: readonly string[];
  readonly hostname?: string;
  readonly tty?: boolean;
  readonly consoleSize?: { height: number; width: number };
  readonly readonlyRootfs?: boolean;
  readonly mounts?: readonly MountOption[];
  readonly capAdd?: readonly string[];
  readonly capDrop?: readonly string[];
  readonly privileged?: boolean;
  /** Docker's --security-opt: "seccomp=unconfined", "no-new-privileges[=true|false]" */
  readonly securityOpt?: readonly string[];
  readonly resources?: CgroupResources;
  /** "nofile=1024:2048" or parsed */
  readonly ulimits?: readonly (string | Ulimit)[];
  readonly namespaces?: Partial<Record<'pid' | 'network' | 'ipc' | 'uts' | 'cgroup', NamespaceMode>>;
  /** a user namespace with these mappings */
  readonly userns?: { uidMappings: readonly OciIdMapping[]; gidMappings: readonly OciIdMapping[] };
  readonly sysctls?: Readonly<Record<string, string>>;
  readonly oomScoreAdj?: number;
  readonly annotations?: Readonly<Record<string, string>>;
  /** pkg/cgroups path, e.g. containerCgroupPath(id) */
  readonly cgroupsPath?: string;
  /** /dev/shm size, 64 MiB by default */
  readonly shmSizeBytes?: number;
  /** lower ulimits above the host's hard limits instead of refusing them */
  readonly clampUlimits?: boolean;
}

/** Facts about the host the spec depends on; read from this host unless given (tests). */
export interface HostFacts {
  readonly hardLimits?: ReadonlyMap<string, number>;
  /** the capabilities the agent holds (default: its bounding set) */
  readonly capabilities?: readonly string[];
  /** the agent holds CAP_SYS_RESOURCE: it may raise hard rlimits and lower oom_score_adj */
  readonly canRaiseLimits?: boolean;
  /** the agent's own oom_score_adj */
  readonly oomScoreAdj?: number;
  readonly onlineCpus?: number;
  readonly arch?: string;
  readonly kernelRelease?: string;
  /** the default for the cgroup namespace: Docker makes it private on v2, shares the host's on v1 */
  readonly cgroupVersion?: 1 | 2;
  readonly seccompProfile?: SeccompProfile;
  readonly sysBlock?: string;
  /** a container's cgroup gets a blkio/io weight file (runc fails on a weight without one) */
  readonly blkioWeightFile?: boolean;
}

export interface BuiltSpec {
  readonly spec: OciSpec;
  /** settings accepted but without effect here (a blkio weight without BFQ, a clamped ulimit) */
  readonly warnings: string[];
}

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's masked paths: kernel information a container should not read. */
export const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Docker's read-only paths: kernel knobs a container could change for the whole host. */
export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const DEFAULT_SHM_BYTES = 64 * 1024 * 1024;

function defaultMounts(privileged: boolean, shmBytes: number): OciMount[] {
  const ro = privileged ? [] : ['ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...ro] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', ...ro],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmBytes}`],
    },
  ];
}

/** The device cgroup allowlist Docker gives every unprivileged container (runc specconv's AllowedDevices). */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' }, // mknod of any char device …
  { allow: true, type: 'b', access: 'm' }, // … and block device, but not their use
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
];

const HOSTNAME_RE =
  /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const ENV_KEY_RE = /^[^=\0]+$/;
/** Namespaced sysctls Docker lets a container set (the rest would change the host). */
const IPC_SYSCTLS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

interface SecurityOptions {
  seccomp: boolean;
  noNewPrivileges: boolean;
}

export function parseSecurityOpts(opts: readonly string[]): SecurityOptions {
  const out: SecurityOptions = { seccomp: true, noNewPrivileges: false };
  for (const opt of opts) {
    // Docker accepts "key=value" and the older "key:value"
    const m = /^([a-z-]+)(?:[=:](.*))?$/.exec(opt);
    const [key, value] = [m?.[1], m?.[2]];
    if (key === 'seccomp' && value === 'unconfined') out.seccomp = false;
    else if (key === 'seccomp' && value !== undefined) {
      throw new SpecError(
        `security-opt ${opt}: only seccomp=unconfined is supported (the default profile applies otherwise)`,
      );
    } else if (
      key === 'no-new-privileges' &&
      (value === undefined || value === 'true' || value === 'false')
    ) {
      out.noNewPrivileges = value !== 'false';
    } else {
      throw new SpecError(
        `invalid security-opt ${JSON.stringify(opt)}: supported are seccomp=unconfined and no-new-privileges[=true|false]`,
      );
    }
  }
  return out;
}

export function checkContainerPath(what: string, path: string): string {
  if (!isAbsolute(path) || path.includes('\0')) {
    throw new SpecError(`${what} ${JSON.stringify(path)} must be an absolute path in the container`);
  }
  const normal = posix.normalize(path);
  return normal.length > 1 ? normal.replace(/\/+$/, '') : normal;
}

/** Merges env lists (later keys win, order of first appearance kept) and validates KEY=VALUE. */
export function mergeEnv(...lists: readonly string[][]): string[] {
  const merged = new Map<string, string>();
  for (const list of lists) {
    for (const entry of list) {
      const eq = entry.indexOf('=');
      const key = eq < 0 ? entry : entry.slice(0, eq);
      if (eq < 0 || !ENV_KEY_RE.test(key) || entry.includes('\0')) {
        throw new SpecError(`invalid environment variable ${JSON.stringify(entry)}: use KEY=VALUE`);
      }
      merged.set(key, entry);
    }
  }
  return [...merged.values()];
}

function userMounts(mounts: readonly MountOption[]): OciMount[] {
  const seen = new Set<string>();
  const out: OciMount[] = [];
  for (const m of mounts) {
    const destination = checkContainerPath('mount target', m.target);
    if (seen.has(destination)) throw new SpecError(`duplicate mount point ${destination}`);
    seen.add(destination);
    const ro = m.readonly ? ['ro'] : [];
    if (m.type === 'tmpfs') {
      if (m.sizeBytes !== undefined && (!Number.isSafeInteger(m.sizeBytes) || m.sizeBytes <= 0)) {
        throw new SpecError(`invalid tmpfs size ${m.sizeBytes} for ${destination}`);
      }
      if (m.mode !== undefined && (!Number.isInteger(m.mode) || m.mode < 0 || m.mode > 0o7777)) {
        throw new SpecError(`invalid tmpfs mode ${m.mode} for ${destination}`);
      }
      out.push({
        destination,
        type: 'tmpfs',
        source: 'tmpfs',
        options: [
          'nosuid',
          'noexec',
          'nodev',
          ...(m.sizeBytes ? [`size=${m.sizeBytes}`] : []),
          // without a mode runc gives the tmpfs the mode of the directory it covers, as under Docker
          ...(m.mode !== undefined ? [`mode=${m.mode.toString(8)}`] : []),
          ...ro,
        ],
      });
    } else {
      if (!isAbsolute(m.source))
        throw new SpecError(`${m.type} source ${JSON.stringify(m.source)} must be an absolute host path`);
      // Docker's old -v created a missing source silently; like --mount, refuse it
      if (!existsSync(m.source)) {
        throw new SpecError(`${m.type} source ${m.source} does not exist (for mount point ${destination})`);
      }
      const propagation = m.type === 'bind' && m.propagation ? m.propagation : 'rprivate';
      out.push({ destination, type: 'bind', source: m.source, options: ['rbind', propagation, ...ro] });
    }
  }
  return out;
}

/** A user mount replaces a default one at the same place (Docker: /dev/shm, /dev/mqueue …). */
function mergeMounts(defaults: OciMount[], user: OciMount[]): OciMount[] {
  const targets = new Set(user.map((m) => m.destination));
  const kept = defaults.filter(
    (d) => !targets.has(d.destination) && !(targets.has('/dev') && d.destination.startsWith('/dev/')),
  );
  // parents before children, whatever order the user gave
  const depth = (m: OciMount) => m.destination.split('/').filter(Boolean).length;
  return [...kept, ...[...user].sort((a, b) => depth(a) - depth(b))];
}

function namespaces(opts: RunOptions, cgroupVersion: 1 | 2): OciNamespace[] {
  const requested = opts.namespaces ?? {};
  const defaults: Record<string, NamespaceMode> = {
    pid: 'private',
    network: 'private',
    ipc: 'private',
    uts: 'private',
    cgroup: cgroupVersion === 2 ? 'private' : 'host',
  };
  const out: OciNamespace[] = [{ type: 'mount' }];
  for (const [kind, fallback] of Object.entries(defaults) as [OciNamespaceType, NamespaceMode][]) {
    const mode = requested[kind as keyof typeof requested] ?? fallback;
    if (mode === 'host') continue;
    if (mode === 'private') out.push({ type: kind });
    else if (typeof mode === 'object' && isAbsolute(mode.path)) out.push({ type: kind, path: mode.path });
    else
      throw new SpecError(
        `invalid ${kind} namespace ${JSON.stringify(mode)}: use private, host or an absolute path`,
      );
  }
  if (opts.userns) {
    for (const [kind, maps] of [
      ['uid', opts.userns.uidMappings],
      ['gid', opts.userns.gidMappings],
    ] as const) {
      if (maps.length === 0) throw new SpecError(`a user namespace needs ${kind} mappings`);
      for (const m of maps) {
        if (
          ![m.containerID, m.hostID, m.size].every((n) => Number.isSafeInteger(n) && n >= 0) ||
          m.size === 0
        ) {
          throw new SpecError(`invalid ${kind} mapping ${JSON.stringify(m)}`);
        }
      }
    }
    out.push({ type: 'user' });
  }
  return out;
}

/** A sysctl of the network namespace (Docker's net.* ones). */
export function isNetworkSysctl(key: string): boolean {
  return key.startsWith('net.');
}

function validateSysctls(
  sysctls: Readonly<Record<string, string>>,
  ns: OciNamespace[],
): Record<string, string> {
  const has = (type: OciNamespaceType) => ns.some((n) => n.type === type);
  for (const [key, value] of Object.entries(sysctls)) {
    const ipc = IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.');
    const net = isNetworkSysctl(key);
    if (!ipc && !net) throw new SpecError(`sysctl ${key} is not namespaced: it would change the host`);
    if (ipc && !has('ipc')) throw new SpecError(`sysctl ${key} needs a private IPC namespace`);
    if (net && !has('network')) throw new SpecError(`sysctl ${key} cannot be set with the host's network`);
    if (typeof value !== 'string' || value === '' || value.includes('\n')) {
      throw new SpecError(`invalid value ${JSON.stringify(value)} for sysctl ${key}`);
    }
  }
  return { ...sysctls };
}

function ociResources(r: CgroupResources, privileged: boolean): OciResources {
  const out: OciResources = {
    devices: privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES.map((d) => ({ ...d })),
  };
  // the same conversions pkg/cgroups applies: OCI's swap is the v1 memsw total, like Docker's flag
  const limits = memoryLimits(r);
  if (limits || r.memoryReservation) {
    out.memory = {
      ...(limits && limits.limit !== -1 ? { limit: limits.limit } : {}),
      ...(r.memoryReservation ? { reservation: r.memoryReservation } : {}),
      ...(limits ? { swap: limits.limitWithSwap } : {}),
    };
  }
  const cpu: NonNullable<OciResources['cpu']> = {};
  if (r.cpuShares) cpu.shares = r.cpuShares;
  const bandwidth = cpuBandwidth(r);
  if (bandwidth) {
    cpu.period = bandwidth.period;
    cpu.quota = bandwidth.quota;
  }
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (r.pidsLimit !== undefined) out.pids = { limit: r.pidsLimit <= 0 ? -1 : r.pidsLimit };
  const throttle = (list: CgroupResources['deviceReadBps']) => (list ?? []).map((d) => ({ ...d }));
  if (r.blkioWeight || r.deviceReadBps?.length || r.deviceWriteBps?.length) {
    out.blockIO = {
      ...(r.blkioWeight ? { weight: r.blkioWeight } : {}),
      ...(r.deviceReadBps?.length ? { throttleReadBpsDevice: throttle(r.deviceReadBps) } : {}),
      ...(r.deviceWriteBps?.length ? { throttleWriteBpsDevice: throttle(r.deviceWriteBps) } : {}),
    };
  }
  return out;
}

/** Where the weight files of this host's containers would be: the blkio (v1) and cgroup2 mounts. */
function weightRoots(): string[] {
  const layout = detectCgroupLayout();
  const blkio = layout.v1.get('blkio');
  return layout.mode === 'v2' ? [layout.unified ?? '/sys/fs/cgroup'] : blkio ? [blkio] : [];
}

function readOomScoreAdj(): number {
  try {
    return Number(readFileSync('/proc/self/oom_score_adj', 'utf8').trim());
  } catch {
    return 0;
  }
}

/** runc writes oom_score_adj as the agent: lowering it below the agent's own value needs CAP_SYS_RESOURCE. */
function checkOomScoreAdj(adj: number, host: HostFacts): void {
  if (!Number.isInteger(adj) || adj < -1000 || adj > 1000) {
    throw new SpecError(`invalid oom score adjustment ${adj}: must be an integer in [-1000, 1000]`);
  }
  const floor = host.oomScoreAdj ?? readOomScoreAdj();
  if (adj < floor && !(host.canRaiseLimits ?? hasSysResource())) {
    throw new SpecError(
      `oom score adjustment ${adj} is below the agent's own ${floor}, which needs CAP_SYS_RESOURCE`,
    );
  }
}

/** Builds the OCI spec for one container; throws a SpecError (or the module's error) on bad input. */
export function buildSpec(opts: RunOptions, host: HostFacts = {}): BuiltSpec {
  const warnings: string[] = [];
  const privileged = opts.privileged ?? false;
  const security = parseSecurityOpts(opts.securityOpt ?? []);

  const args = [...(opts.entrypoint ?? []), ...(opts.cmd ?? [])];
  if (args.length === 0) throw new SpecError('no command specified: give a command or an entrypoint');
  if (args.some((a) => a.includes('\0'))) throw new SpecError('a command argument contains a NUL byte');

  const rootfsOnHost = opts.rootfsOnHost ?? opts.rootfs;
  if (!isAbsolute(rootfsOnHost))
    throw new SpecError(
      `rootfs ${JSON.stringify(rootfsOnHost)} must be an absolute host path (or give rootfsOnHost)`,
    );
  const user = resolveUser(opts.user ?? '', rootfsOnHost, opts.groupAdd ?? []);

  const hostname = opts.hostname;
  if (hostname !== undefined && (hostname.length > 253 || !HOSTNAME_RE.test(hostname))) {
    throw new SpecError(
      `invalid hostname ${JSON.stringify(hostname)}: use letters, digits, '-' and '.' (RFC 1123)`,
    );
  }
  const ns = namespaces(opts, host.cgroupVersion ?? (detectCgroupLayout().mode === 'v2' ? 2 : 1));
  if (hostname !== undefined && !ns.some((n) => n.type === 'uts')) {
    throw new SpecError('a hostname needs a private UTS namespace');
  }

  const env = mergeEnv(
    [DEFAULT_PATH_ENV, ...(hostname ? [`HOSTNAME=${hostname}`] : [])],
    opts.tty ? ['TERM=xterm'] : [],
    [...(opts.env ?? [])],
  );
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);

  const requested = containerCapabilities({ add: opts.capAdd ?? [], drop: opts.capDrop ?? [], privileged });
  // "all" (--privileged, --cap-add ALL) is all the agent holds, as Docker's GetAllCapabilities
  const wantsAll = privileged || (opts.capAdd ?? []).some((c) => c.toUpperCase() === 'ALL');
  const held = wantsAll ? new Set(host.capabilities ?? hostCapabilities()) : undefined;
  const caps = held ? requested.filter((c) => held.has(c)) : requested;

  const ulimits = (opts.ulimits ?? []).map((u) => (typeof u === 'string' ? parseUlimit(u) : u));
  const { rlimits, warnings: rlimitWarnings } = toOciRlimits(ulimits, {
    clamp: opts.clampUlimits ?? false,
    hardLimits: host.hardLimits ?? currentHardLimits(),
    canRaise: host.canRaiseLimits ?? hasSysResource(),
  });
  warnings.push(...rlimitWarnings);

  if (opts.oomScoreAdj !== undefined) checkOomScoreAdj(opts.oomScoreAdj, host);

  validateResources(opts.resources ?? {}, { onlineCpus: host.onlineCpus ?? cpus().length });
  let resources = opts.resources ?? {};
  if (resources.blkioWeight) {
    const hasFile = host.blkioWeightFile ?? hasBlkioWeightFile(weightRoots(), host.sysBlock);
    const file = hasFile ? 'the blkio weight file' : undefined;
    const warning = blkioWeightWarning(resources.blkioWeight, file, host.sysBlock);
    if (warning) warnings.push(warning);
    // accepted and reported, as Docker does, but not handed to runc, which would fail on the missing file
    if (!hasFile) resources = { ...resources, blkioWeight: undefined };
  }

  const defaults = defaultMounts(privileged, opts.shmSizeBytes ?? DEFAULT_SHM_BYTES);
  if (opts.userns && !ns.some((n) => n.type === 'network' && n.path === undefined)) {
    // sysfs may only be mounted by the user namespace owning the network namespace; with a joined (or the
    // host's) network the kernel refuses it (EPERM), so bind the host's /sys instead, as podman does.
    const sys = defaults.find((m) => m.destination === '/sys');
    if (sys)
      Object.assign(sys, {
        type: 'bind',
        source: '/sys',
        options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
      });
  }
  const mounts = mergeMounts(defaults, userMounts(opts.mounts ?? []));

  const cwd = checkContainerPath('working directory', opts.workingDir || '/');
  const annotations = opts.annotations ?? {};
  for (const [k, v] of Object.entries(annotations)) {
    if (k === '' || typeof v !== 'string') throw new SpecError(`invalid annotation ${JSON.stringify(k)}`);
  }

  const spec: OciSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: opts.tty ?? false,
      ...(opts.tty && opts.consoleSize ? { consoleSize: { ...opts.consoleSize } } : {}),
      user: {
        uid: user.uid,
        gid: user.gid,
        ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}),
      },
      args,
      env,
      cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      ...(rlimits.length ? { rlimits } : {}),
      noNewPrivileges: security.noNewPrivileges,
      ...(opts.oomScoreAdj !== undefined ? { oomScoreAdj: opts.oomScoreAdj } : {}),
    },
    root: { path: opts.rootfs, readonly: opts.readonlyRootfs ?? false },
    ...(hostname !== undefined ? { hostname } : {}),
    mounts,
    linux: {
      namespaces: ns,
      ...(opts.userns
        ? {
            uidMappings: opts.userns.uidMappings.map((m) => ({ ...m })),
            gidMappings: opts.userns.gidMappings.map((m) => ({ ...m })),
          }
        : {}),
      ...(opts.sysctls ? { sysctl: validateSysctls(opts.sysctls, ns) } : {}),
      resources: ociResources(resources, privileged),
      ...(opts.cgroupsPath !== undefined ? { cgroupsPath: `/${validateCgroupPath(opts.cgroupsPath)}` } : {}),
      ...(security.seccomp && !privileged
        ? {
            seccomp: seccompForContainer(host.seccompProfile ?? DEFAULT_SECCOMP_PROFILE, {
              capabilities: caps,
              ...(host.arch ? { arch: host.arch } : {}),
              ...(host.kernelRelease ? { kernelRelease: host.kernelRelease } : {}),
            }),
          }
        : {}),
      ...(privileged ? {} : { maskedPaths: [...MASKED_PATHS], readonlyPaths: [...READONLY_PATHS] }),
    },
    ...(Object.keys(annotations).length ? { annotations: { ...annotations } } : {}),
  };
  return { spec, warnings };
}

const RLIM_INFINITY_JSON = '18446744073709551615';
const INFINITY_MARKER = '\u0000rlim-infinity\u0000';

/** config.json text: an unlimited rlimit is 2^64-1, which JSON.stringify of a number cannot write. */
export function specToJson(spec: OciSpec): string {
  const text = JSON.stringify(spec, (_key, value) => (value === RLIM_INFINITY ? INFINITY_MARKER : value), 2);
  return `${text.replaceAll(JSON.stringify(INFINITY_MARKER), RLIM_INFINITY_JSON)}\n`;
}
