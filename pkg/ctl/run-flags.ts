// docker run/create flags → Docker's ContainerCreate body (ContainerCreateSpec), with Docker's semantics and
// its words for a bad value. Commander only collects the raw strings (declared by addCreateFlags); every value
// is checked here, so a bad one is a FlagError (one line, exit 125) before the agent is called.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type Command, Option } from 'commander';
import { parseByteSize } from '../cgroups/devices.ts';
import type {
  ContainerCreateSpec,
  EndpointSpec,
  HealthcheckSpec,
  HostConfigSpec,
  MountSpec,
  PortBindingSpec,
  RestartPolicySpec,
  ThrottleDeviceSpec,
  UlimitSpec,
} from '../container/create-spec.ts';
import { parseGoDuration } from '../time/go-duration.ts';
import { collect } from './commands/context.ts';
import { FlagError } from './errors.ts';

/** What commander collects for run/create: strings and lists of strings, unchecked. */
export interface CreateFlagValues {
  detach?: boolean;
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  name?: string;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  entrypoint?: string;
  volume: string[];
  mount: string[];
  tmpfs: string[];
  readOnly?: boolean;
  publish: string[];
  publishAll?: boolean;
  expose: string[];
  network?: string;
  networkAlias: string[];
  ip?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  addHost: string[];
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  cpuShares?: string;
  cpus?: string;
  cpusetCpus?: string;
  blkioWeight?: string;
  deviceReadBps: string[];
  deviceWriteBps: string[];
  pidsLimit?: string;
  ulimit: string[];
  restart?: string;
  init?: boolean;
  capAdd: string[];
  capDrop: string[];
  privileged?: boolean;
  securityOpt: string[];
  label: string[];
  labelFile: string[];
  stopSignal?: string;
  stopTimeout?: string;
  logOpt: string[];
  pull?: string;
  shmSize?: string;
  sysctl: string[];
  groupAdd: string[];
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthStartInterval?: string;
  /** commander's --no-healthcheck: false when given */
  healthcheck?: boolean;
}

export type PullPolicy = 'missing' | 'always' | 'never';

/** A run/create invocation: the body for the agent and what the client itself does. */
export interface CreateInvocation {
  spec: ContainerCreateSpec;
  /** --name; '' lets the agent generate one */
  name: string;
  pull: PullPolicy;
  detach: boolean;
  interactive: boolean;
  tty: boolean;
}

/** Where the flags' environment and files come from (tests give their own). */
export interface FlagSources {
  env: NodeJS.ProcessEnv;
  readText(path: string): string;
}

const processSources: FlagSources = { env: process.env, readText: (p) => readFileSync(p, 'utf8') };

/** Declares docker's run/create flags on `command` (-h is --hostname there, as in docker). */
export function addCreateFlags(command: Command, run: boolean): Command {
  const list = (flags: string, description: string) => command.option(flags, description, collect, []);
  command.helpOption('--help', 'Print usage');
  if (run) {
    command
      .option('-d, --detach', 'Run container in background and print container ID')
      .option('--rm', 'Automatically remove the container when it exits');
  } else command.option('--rm', 'Automatically remove the container when it exits');
  command
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--name <string>', 'Assign a name to the container');
  list('-e, --env <list>', 'Set environment variables');
  list('--env-file <list>', 'Read in a file of environment variables');
  command
    .option('-w, --workdir <string>', 'Working directory inside the container')
    .option('-u, --user <string>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('-h, --hostname <string>', 'Container host name')
    .option('--entrypoint <string>', 'Overwrite the default ENTRYPOINT of the image');
  list('-v, --volume <list>', 'Bind mount a volume');
  list('--mount <mount>', 'Attach a filesystem mount to the container');
  list('--tmpfs <list>', 'Mount a tmpfs directory');
  command.option('--read-only', "Mount the container's root filesystem as read only");
  list('-p, --publish <list>', "Publish a container's port(s) to the host");
  command.option('-P, --publish-all', 'Publish all exposed ports to random ports');
  list('--expose <list>', 'Expose a port or a range of ports');
  command.option('--network <network>', 'Connect a container to a network');
  list('--network-alias <list>', 'Add network-scoped alias for the container');
  command.option('--ip <string>', 'IPv4 address (e.g., 172.30.100.104)');
  list('--dns <list>', 'Set custom DNS servers');
  list('--dns-search <list>', 'Set custom DNS search domains');
  list('--dns-option <list>', 'Set DNS options');
  list('--add-host <list>', 'Add a custom host-to-IP mapping (host:ip)');
  command
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpus <decimal>', 'Number of CPUs')
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--blkio-weight <uint16>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable');
  list('--device-read-bps <list>', 'Limit read rate (bytes per second) from a device');
  list('--device-write-bps <list>', 'Limit write rate (bytes per second) to a device');
  command.option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)');
  list('--ulimit <ulimit>', 'Ulimit options');
  command
    .option('--restart <string>', 'Restart policy to apply when a container exits', 'no')
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes');
  list('--cap-add <list>', 'Add Linux capabilities');
  list('--cap-drop <list>', 'Drop Linux capabilities');
  command.option('--privileged', 'Give extended privileges to this container');
  list('--security-opt <list>', 'Security Options');
  list('-l, --label <list>', 'Set meta data on a container');
  list('--label-file <list>', 'Read in a line delimited file of labels');
  command
    .option('--stop-signal <string>', 'Signal to stop the container')
    .option('--stop-timeout <int>', 'Timeout (in seconds) to stop a container');
  list('--log-opt <list>', 'Log driver options (max-size=, max-file=)');
  command.addOption(
    new Option('--pull <string>', 'Pull image before running ("always", "missing", "never")').default(
      'missing',
    ),
  );
  command.option('--shm-size <bytes>', 'Size of /dev/shm');
  list('--sysctl <map>', 'Sysctl options');
  list('--group-add <list>', 'Add additional groups to join');
  command
    .option('--health-cmd <string>', 'Command to run to check health')
    .option('--health-interval <duration>', 'Time between running the check (ms|s|m|h) (default 0s)')
    .option('--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)')
    .option('--health-retries <int>', 'Consecutive failures needed to report unhealthy')
    .option(
      '--health-start-period <duration>',
      'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)',
    )
    .option(
      '--health-start-interval <duration>',
      'Time between running the check during the start period (ms|s|m|h) (default 0s)',
    )
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK');
  // Everything after the image is the container's command, its flags included.
  return command.passThroughOptions();
}

const invalid = (value: string, flag: string, why: string) =>
  new FlagError(`invalid argument ${JSON.stringify(value)} for "${flag}" flag: ${why}`);

function bytesOf(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseByteSize(value);
  } catch {
    throw invalid(value, flag, `invalid size: '${value}'`);
  }
}

function intOf(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value)))
    throw invalid(value, flag, `strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  return Number(value);
}

/** Docker's ValidateEnv: `KEY=VALUE`, or `KEY` taking tsnetctl's own value (dropped when it has none). */
function envEntry(entry: string, env: NodeJS.ProcessEnv, where: string): string | undefined {
  const eq = entry.indexOf('=');
  const key = eq < 0 ? entry : entry.slice(0, eq);
  if (key === '') throw new FlagError(`invalid environment variable: ${entry}${where}`);
  if (eq >= 0) return entry;
  const value = env[key];
  return value === undefined ? undefined : `${key}=${value}`;
}

/** Docker's env/label files: one entry a line, `#` comments and blank lines skipped, no spaces in names. */
function fileEntries(path: string, sources: FlagSources, what: string): string[] {
  let text: string;
  try {
    text = sources.readText(path);
  } catch (err) {
    throw new FlagError(`open ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const entries: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const name = line.split('=', 1)[0] ?? '';
    if (/\s/.test(name))
      throw new FlagError(`${what} file ${path}: variable '${name.trimEnd()}' contains whitespaces`);
    entries.push(line);
  }
  return entries;
}

function environment(values: CreateFlagValues, sources: FlagSources): string[] | undefined {
  const env: string[] = [];
  for (const file of values.envFile)
    for (const e of fileEntries(file, sources, 'env')) {
      const entry = envEntry(e, sources.env, ` in ${file}`);
      if (entry !== undefined) env.push(entry);
    }
  for (const e of values.env) {
    const entry = envEntry(e, sources.env, '');
    if (entry !== undefined) env.push(entry);
  }
  return env.length ? env : undefined;
}

function labels(values: CreateFlagValues, sources: FlagSources): Record<string, string> | undefined {
  const entries = [...values.labelFile.flatMap((f) => fileEntries(f, sources, 'label')), ...values.label];
  if (!entries.length) return undefined;
  const out: Record<string, string> = {};
  for (const l of entries) {
    const eq = l.indexOf('=');
    const key = eq < 0 ? l : l.slice(0, eq);
    if (key === '') throw new FlagError(`invalid label '${l}': empty name`);
    out[key] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return out;
}

// ---- ports (go-connections nat.ParsePortSpec)

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

function portRange(text: string, what: string, raw: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  const start = Number(m?.[1]);
  const end = m?.[2] !== undefined ? Number(m[2]) : start;
  if (!m || start > 65535 || end > 65535) throw new FlagError(`invalid ${what}: ${text || raw}`);
  if (end < start) throw new FlagError(`invalid range specified for ${what}: ${text}`);
  return [start, end];
}

function splitProto(text: string): [string, string] {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return [text, 'tcp'];
  return [text.slice(0, slash), text.slice(slash + 1).toLowerCase() || 'tcp'];
}

/** `[ip:][hostPort:]containerPort[/proto]`, either port a range: ExposedPorts keys and their bindings. */
export function parsePortSpec(raw: string): { port: string; binding: PortBindingSpec }[] {
  const parts = raw.split(':');
  const n = parts.length;
  const containerPart = parts[n - 1] ?? '';
  const hostPart = n >= 2 ? (parts[n - 2] ?? '') : '';
  let ip = n >= 3 ? parts.slice(0, n - 2).join(':') : '';
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== '' && isIP(ip) === 0) throw new FlagError(`invalid IP address: ${ip}`);
  const [containerPorts, proto] = splitProto(containerPart);
  if (containerPorts === '') throw new FlagError(`no port specified: ${raw}<empty>`);
  const [start, end] = portRange(containerPorts, 'containerPort', raw);
  const [hostStart, hostEnd] = hostPart !== '' ? portRange(hostPart, 'hostPort', raw) : [0, 0];
  if (hostPart !== '' && end - start !== hostEnd - hostStart && end !== start)
    throw new FlagError(
      `invalid ranges specified for container and host Ports: ${containerPorts} and ${hostPart}`,
    );
  if (!PROTOCOLS.has(proto)) throw new FlagError(`invalid proto: ${proto}`);
  const out: { port: string; binding: PortBindingSpec }[] = [];
  for (let i = 0; i <= end - start; i++) {
    let hostPort = hostPart !== '' ? String(hostStart + i) : '';
    // A single container port with a host range: the agent picks one port of the range.
    if (start === end && hostStart !== hostEnd) hostPort = `${hostStart}-${hostEnd}`;
    out.push({ port: `${start + i}/${proto}`, binding: { HostIp: ip, HostPort: hostPort } });
  }
  return out;
}

function exposedPortsOf(values: CreateFlagValues): {
  exposed?: Record<string, Record<string, never>>;
  bindings?: Record<string, PortBindingSpec[]>;
} {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBindingSpec[]> = {};
  for (const p of values.publish)
    for (const { port, binding } of parsePortSpec(p)) {
      exposed[port] = {};
      bindings[port] = [...(bindings[port] ?? []), binding];
    }
  for (const e of values.expose) {
    const [ports, proto] = splitProto(e);
    if (!PROTOCOLS.has(proto)) throw new FlagError(`invalid proto: ${proto}`);
    const [start, end] = portRange(ports, 'range format for --expose', e);
    for (let p = start; p <= end; p++) exposed[`${p}/${proto}`] = {};
  }
  return {
    ...(Object.keys(exposed).length ? { exposed } : {}),
    ...(Object.keys(bindings).length ? { bindings } : {}),
  };
}

// ---- mounts

const BIND_MODES = new Set([
  'ro',
  'rw',
  'z',
  'Z',
  'nocopy',
  'shared',
  'rshared',
  'slave',
  'rslave',
  'private',
  'rprivate',
  'delegated',
  'cached',
  'consistent',
]);

/** `-v SRC:DST[:MODE]` stays a bind string (the agent resolves it); `-v DST` is an anonymous volume. */
function volumeFlag(raw: string): { bind?: string; mount?: MountSpec } {
  const spec = `invalid volume specification: '${raw}'`;
  const parts = raw.split(':');
  if (parts.some((p) => p === '') || parts.length > 3) throw new FlagError(spec);
  const [first = '', second, third] = parts;
  const target = parts.length === 1 ? first : (second ?? '');
  if (!target.startsWith('/'))
    throw new FlagError(`${spec}: invalid mount path: '${target}' mount path must be absolute`);
  if (third !== undefined)
    for (const mode of third.split(','))
      if (!BIND_MODES.has(mode)) throw new FlagError(`${spec}: invalid mode: ${third}`);
  if (parts.length === 1) return { mount: { Type: 'volume', Target: target } };
  return { bind: raw };
}

const TRUE_WORDS = new Set(['', '1', 'true', 'yes']);
const FALSE_WORDS = new Set(['0', 'false', 'no']);

/** `--mount type=bind,source=/a,target=/b,readonly`, as docker's MountOpt reads it. */
export function parseMountFlag(raw: string): MountSpec {
  const bad = (why: string) => invalid(raw, '--mount', why);
  let type = 'volume';
  let source: string | undefined;
  let target: string | undefined;
  let readOnly: boolean | undefined;
  let propagation: string | undefined;
  let noCopy: boolean | undefined;
  const volumeLabels: Record<string, string> = {};
  let tmpfsSize: number | undefined;
  let tmpfsMode: number | undefined;
  for (const field of raw.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase().trim();
    const value = eq < 0 ? '' : field.slice(eq + 1);
    const flag = (): boolean => {
      if (TRUE_WORDS.has(value.toLowerCase())) return true;
      if (FALSE_WORDS.has(value.toLowerCase())) return false;
      throw bad(`invalid value for ${key}: ${value}`);
    };
    if (eq < 0 && !['readonly', 'ro', 'volume-nocopy'].includes(key))
      throw bad(`invalid field '${field}' must be a key=value pair`);
    switch (key) {
      case 'type':
        if (!['bind', 'volume', 'tmpfs'].includes(value)) throw bad(`invalid type "${value}"`);
        type = value;
        break;
      case 'source':
      case 'src':
        source = value;
        break;
      case 'target':
      case 'destination':
      case 'dst':
        target = value;
        break;
      case 'readonly':
      case 'ro':
        readOnly = flag();
        break;
      case 'bind-propagation':
        if (!['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'].includes(value))
          throw bad(`invalid bind-propagation "${value}"`);
        propagation = value;
        break;
      case 'volume-nocopy':
        noCopy = flag();
        break;
      case 'volume-label': {
        const [k = '', ...v] = value.split('=');
        volumeLabels[k] = v.join('=');
        break;
      }
      case 'tmpfs-size':
        try {
          tmpfsSize = parseByteSize(value);
        } catch {
          throw bad(`invalid tmpfs-size: '${value}'`);
        }
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]{1,4}$/.test(value)) throw bad(`invalid tmpfs-mode: '${value}'`);
        tmpfsMode = Number.parseInt(value, 8);
        break;
      case 'consistency':
        break;
      default:
        throw bad(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!target) throw bad('target is required');
  if (!target.startsWith('/')) throw bad(`invalid mount path: '${target}' mount path must be absolute`);
  if (type === 'bind' && !source) throw bad('source is required when specifying a bind mount');
  if (type === 'tmpfs' && source) throw bad('source must not be specified for a tmpfs mount');
  const mount: MountSpec = {
    Type: type as MountSpec['Type'],
    Target: target,
    ...(source !== undefined ? { Source: source } : {}),
    ...(readOnly !== undefined ? { ReadOnly: readOnly } : {}),
    ...(propagation ? { BindOptions: { Propagation: propagation } } : {}),
    ...(noCopy !== undefined || Object.keys(volumeLabels).length
      ? {
          VolumeOptions: {
            ...(noCopy !== undefined ? { NoCopy: noCopy } : {}),
            ...(Object.keys(volumeLabels).length ? { Labels: volumeLabels } : {}),
          },
        }
      : {}),
    ...(tmpfsSize !== undefined || tmpfsMode !== undefined
      ? {
          TmpfsOptions: {
            ...(tmpfsSize !== undefined ? { SizeBytes: tmpfsSize } : {}),
            ...(tmpfsMode !== undefined ? { Mode: tmpfsMode } : {}),
          },
        }
      : {}),
  };
  return mount;
}

function tmpfsOf(values: CreateFlagValues): Record<string, string> | undefined {
  if (!values.tmpfs.length) return undefined;
  const out: Record<string, string> = {};
  for (const t of values.tmpfs) {
    const colon = t.indexOf(':');
    const path = colon < 0 ? t : t.slice(0, colon);
    if (!path.startsWith('/'))
      throw new FlagError(`invalid mount path: '${path}' mount path must be absolute`);
    out[path] = colon < 0 ? '' : t.slice(colon + 1);
  }
  return out;
}

// ---- resources

function throttleDevice(raw: string, flag: string): ThrottleDeviceSpec {
  const colon = raw.lastIndexOf(':');
  if (colon < 0) throw invalid(raw, flag, `bad format: ${raw}`);
  const path = raw.slice(0, colon);
  if (!path.startsWith('/dev/')) throw invalid(raw, flag, `bad format for device path: ${raw}`);
  let rate: number;
  try {
    rate = parseByteSize(raw.slice(colon + 1));
  } catch {
    throw invalid(
      raw,
      flag,
      `invalid rate for device: ${raw}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`,
    );
  }
  return { Path: path, Rate: rate };
}

const ULIMIT_NAMES = new Set([
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
]);

/** go-units ParseUlimit: `name=soft[:hard]` (hard defaults to soft; -1 is unlimited). */
export function parseUlimit(raw: string): UlimitSpec {
  const eq = raw.indexOf('=');
  if (eq < 0) throw invalid(raw, '--ulimit', `invalid ulimit argument: ${raw}`);
  const name = raw.slice(0, eq);
  if (!ULIMIT_NAMES.has(name)) throw invalid(raw, '--ulimit', `invalid ulimit type: ${name}`);
  const limits = raw.slice(eq + 1).split(':');
  if (limits.length > 2 || limits.some((l) => !/^-?\d+$/.test(l)))
    throw invalid(
      raw,
      '--ulimit',
      `too many limit value arguments - ${raw.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``,
    );
  const soft = Number(limits[0]);
  const hard = limits.length === 2 ? Number(limits[1]) : soft;
  if (soft > hard && hard !== -1)
    throw invalid(
      raw,
      '--ulimit',
      `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`,
    );
  return { Name: name, Soft: soft, Hard: hard };
}

/** Docker's ParseRestartPolicy plus the daemon's validation. */
export function parseRestartPolicy(raw: string): RestartPolicySpec {
  if (raw === '' || raw === 'no') return { Name: 'no' };
  const colon = raw.indexOf(':');
  const name = colon < 0 ? raw : raw.slice(0, colon);
  const count = colon < 0 ? '' : raw.slice(colon + 1);
  if (colon >= 0 && name === '')
    throw new FlagError('invalid restart policy format: no policy provided before colon');
  if (!['always', 'unless-stopped', 'on-failure'].includes(name))
    throw new FlagError(
      `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`,
    );
  if (count !== '') {
    if (!/^-?\d+$/.test(count))
      throw new FlagError('invalid restart policy format: maximum retry count must be an integer');
    if (name !== 'on-failure')
      throw new FlagError("invalid restart policy: maximum retry count can only be used with 'on-failure'");
    if (Number(count) < 0)
      throw new FlagError('invalid restart policy: maximum retry count cannot be negative');
    return { Name: 'on-failure', MaximumRetryCount: Number(count) };
  }
  return { Name: name as RestartPolicySpec['Name'] };
}

/** Docker's --cpus: a decimal number of CPUs → NanoCpus. */
function nanoCpusOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(value))
    throw invalid(value, '--cpus', `failed to parse ${value} as a rational number`);
  const nano = Math.round(Number(value) * 1e9);
  if (!Number.isSafeInteger(nano)) throw invalid(value, '--cpus', 'value is too precise');
  return nano;
}

// ---- networking

function ipOf(value: string, flag: string, family?: 4): string {
  const kind = isIP(value);
  if (kind === 0 || (family === 4 && kind !== 4)) throw invalid(value, flag, `${value} is not an ip address`);
  return value;
}

/** `--add-host name:ip` (or `name=ip`); ip may be `host-gateway`. */
function extraHost(raw: string): string {
  const eq = raw.indexOf('=');
  const sep = eq >= 0 ? eq : raw.indexOf(':');
  const name = sep < 0 ? '' : raw.slice(0, sep);
  let ip = sep < 0 ? '' : raw.slice(sep + 1);
  if (!name || !ip) throw invalid(raw, '--add-host', `bad format for add-host: ${JSON.stringify(raw)}`);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (ip !== 'host-gateway' && isIP(ip) === 0)
    throw invalid(raw, '--add-host', `invalid IP address in add-host: ${JSON.stringify(ip)}`);
  return `${name}:${ip}`;
}

function dnsSearchOf(value: string): string {
  if (
    value === '.' ||
    /^(?=.{1,255}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*\.?$/.test(
      value,
    )
  )
    return value;
  throw invalid(value, '--dns-search', `${value} is not a valid domain`);
}

/** `--security-opt seccomp=FILE` sends the profile's JSON, as docker's CLI reads it client side. */
function securityOpt(raw: string, sources: FlagSources): string {
  if (raw === 'no-new-privileges') return raw;
  const sep = /[=:]/.exec(raw);
  if (!sep || sep.index === 0) throw new FlagError(`Invalid --security-opt: ${JSON.stringify(raw)}`);
  const key = raw.slice(0, sep.index);
  const value = raw.slice(sep.index + 1);
  if (key === 'seccomp' && value !== 'unconfined' && value !== 'builtin') {
    let profile: string;
    try {
      profile = JSON.stringify(JSON.parse(sources.readText(value)));
    } catch (err) {
      throw new FlagError(`opening seccomp profile (${value}) failed: ${(err as Error).message}`);
    }
    return `seccomp=${profile}`;
  }
  return `${key}=${value}`;
}

function keyValues(list: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw invalid(kv, flag, `${flag} must be in the format of key=value`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** Go's time.ParseDuration, as docker's duration flags take it: a unit is required (except for 0). */
function durationOf(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+(\.\d*)?$/.test(value.trim()) && Number(value) !== 0)
    throw invalid(value, flag, `time: missing unit in duration ${JSON.stringify(value)}`);
  try {
    return parseGoDuration(value);
  } catch {
    throw invalid(value, flag, `time: invalid duration ${JSON.stringify(value)}`);
  }
}

/** docker's --health-* and --no-healthcheck: Config.Healthcheck, or undefined to keep the image's. */
function healthcheckOf(values: CreateFlagValues): HealthcheckSpec | undefined {
  const retries = intOf(values.healthRetries, '--health-retries');
  const spec: HealthcheckSpec = defined({
    Test: values.healthCmd ? ['CMD-SHELL', values.healthCmd] : undefined,
    Interval: durationOf(values.healthInterval, '--health-interval') || undefined,
    Timeout: durationOf(values.healthTimeout, '--health-timeout') || undefined,
    StartPeriod: durationOf(values.healthStartPeriod, '--health-start-period') || undefined,
    StartInterval: durationOf(values.healthStartInterval, '--health-start-interval') || undefined,
    Retries: retries || undefined,
  });
  if (retries !== undefined && retries < 0) throw new FlagError('--health-retries cannot be negative');
  if (values.healthcheck === false) {
    if (Object.keys(spec).length > 0)
      throw new FlagError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  return Object.keys(spec).length > 0 ? spec : undefined;
}

function logConfigOf(values: CreateFlagValues): HostConfigSpec['LogConfig'] {
  if (!values.logOpt.length) return undefined;
  const config = keyValues(values.logOpt, '--log-opt');
  for (const [key, value] of Object.entries(config)) {
    if (key === 'max-size') bytesOf(value, '--log-opt max-size');
    else if (key === 'max-file') {
      if (!/^\d+$/.test(value) || Number(value) < 1)
        throw invalid(value, '--log-opt max-file', 'max-file must be a positive number');
    } else throw new FlagError(`unknown log opt '${key}' for k8s-file log driver`);
  }
  return { Config: config };
}

function pullPolicy(value: string | undefined): PullPolicy {
  const pull = value ?? 'missing';
  if (pull !== 'missing' && pull !== 'always' && pull !== 'never')
    throw new FlagError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  return pull;
}

/** Drops undefined fields, so the body carries only what the user said. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** run/create's flags, image and command → Docker's ContainerCreate body and the client's own settings. */
export function createInvocation(
  image: string,
  command: readonly string[],
  values: CreateFlagValues,
  sources: FlagSources = processSources,
): CreateInvocation {
  const detach = values.detach === true;
  const interactive = values.interactive === true;
  const tty = values.tty === true;
  const restart = parseRestartPolicy(values.restart ?? 'no');
  if (values.rm && restart.Name !== 'no') throw new FlagError('Conflicting options: --restart and --rm');
  const { exposed, bindings } = exposedPortsOf(values);
  const binds: string[] = [];
  const mounts: MountSpec[] = [];
  for (const v of values.volume) {
    const { bind, mount } = volumeFlag(v);
    if (bind) binds.push(bind);
    if (mount) mounts.push(mount);
  }
  for (const m of values.mount) mounts.push(parseMountFlag(m));
  const memory = bytesOf(values.memory, '-m, --memory');
  const memorySwap = values.memorySwap === '-1' ? -1 : bytesOf(values.memorySwap, '--memory-swap');
  if (memorySwap !== undefined && memorySwap !== -1 && memory !== undefined && memorySwap < memory)
    throw new FlagError('Minimum memoryswap limit should be larger than memory limit, see usage');
  const blkioWeight = intOf(values.blkioWeight, '--blkio-weight');
  if (blkioWeight !== undefined && blkioWeight !== 0 && (blkioWeight < 10 || blkioWeight > 1000))
    throw new FlagError('Range of blkio weight is from 10 to 1000');
  const stopTimeout = intOf(values.stopTimeout, '--stop-timeout');
  const network = values.network;
  const endpoint: EndpointSpec = defined({
    IPAMConfig: values.ip ? { IPv4Address: ipOf(values.ip, '--ip', 4) } : undefined,
    Aliases: values.networkAlias.length ? values.networkAlias : undefined,
  });

  const hostConfig: HostConfigSpec = defined({
    Binds: binds.length ? binds : undefined,
    Mounts: mounts.length ? mounts : undefined,
    Tmpfs: tmpfsOf(values),
    ReadonlyRootfs: values.readOnly || undefined,
    PortBindings: bindings,
    PublishAllPorts: values.publishAll || undefined,
    NetworkMode: network,
    Dns: values.dns.length ? values.dns.map((d) => ipOf(d, '--dns')) : undefined,
    DnsSearch: values.dnsSearch.length ? values.dnsSearch.map(dnsSearchOf) : undefined,
    DnsOptions: values.dnsOption.length ? values.dnsOption : undefined,
    ExtraHosts: values.addHost.length ? values.addHost.map(extraHost) : undefined,
    RestartPolicy: restart,
    AutoRemove: values.rm || undefined,
    Memory: memory,
    MemorySwap: memorySwap,
    MemoryReservation: bytesOf(values.memoryReservation, '--memory-reservation'),
    CpuShares: intOf(values.cpuShares, '-c, --cpu-shares'),
    NanoCpus: nanoCpusOf(values.cpus),
    CpusetCpus: values.cpusetCpus,
    PidsLimit: intOf(values.pidsLimit, '--pids-limit'),
    BlkioWeight: blkioWeight,
    BlkioDeviceReadBps: values.deviceReadBps.length
      ? values.deviceReadBps.map((d) => throttleDevice(d, '--device-read-bps'))
      : undefined,
    BlkioDeviceWriteBps: values.deviceWriteBps.length
      ? values.deviceWriteBps.map((d) => throttleDevice(d, '--device-write-bps'))
      : undefined,
    Ulimits: values.ulimit.length ? values.ulimit.map(parseUlimit) : undefined,
    Init: values.init || undefined,
    CapAdd: values.capAdd.length ? values.capAdd : undefined,
    CapDrop: values.capDrop.length ? values.capDrop : undefined,
    Privileged: values.privileged || undefined,
    SecurityOpt: values.securityOpt.length
      ? values.securityOpt.map((s) => securityOpt(s, sources))
      : undefined,
    GroupAdd: values.groupAdd.length ? values.groupAdd : undefined,
    ShmSize: bytesOf(values.shmSize, '--shm-size'),
    Sysctls: values.sysctl.length ? keyValues(values.sysctl, '--sysctl') : undefined,
    LogConfig: logConfigOf(values),
  });

  const spec: ContainerCreateSpec = defined({
    Image: image,
    Hostname: values.hostname,
    User: values.user,
    Env: environment(values, sources),
    Cmd: command.length ? [...command] : undefined,
    // docker: `--entrypoint ""` clears the image's; the value is one word, not split.
    Entrypoint:
      values.entrypoint === undefined ? undefined : values.entrypoint === '' ? [] : [values.entrypoint],
    WorkingDir: values.workdir,
    Labels: labels(values, sources),
    ExposedPorts: exposed,
    Tty: tty,
    OpenStdin: interactive,
    StdinOnce: interactive && !detach,
    AttachStdin: interactive && !detach,
    AttachStdout: !detach,
    AttachStderr: !detach,
    StopSignal: values.stopSignal,
    StopTimeout: stopTimeout,
    Healthcheck: healthcheckOf(values),
    HostConfig: hostConfig,
    NetworkingConfig: Object.keys(endpoint).length
      ? { EndpointsConfig: { [network ?? 'bridge']: endpoint } }
      : undefined,
  });
  return { spec, name: values.name ?? '', pull: pullPolicy(values.pull), detach, interactive, tty };
}
