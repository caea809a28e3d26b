// The validated, normalized compose project: the Compose Specification's common subset in one form per
// field (lists where Compose allows a string, maps where it allows a list, sizes in bytes, durations in
// nanoseconds, relative paths resolved against the project directory). Everything after loading — the
// create specs, the config hash, `compose config` — works on this model only.
import { isAbsolute, resolve } from 'node:path';
import { parseByteSize } from '../cgroups/devices.ts';
import { parseGoDuration } from '../time/go-duration.ts';
import { splitShellWords } from './shell-words.ts';
import { composeError, type LMap, type LNode, type LScalar, type Pos } from './tree.ts';

export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface BuildConfig {
  /** absolute */
  readonly context: string;
  readonly dockerfile: string;
  readonly args: Readonly<Record<string, string | null>>;
  readonly target?: string;
}

export interface PortConfig {
  /** container port */
  readonly target: number;
  /** host port or range ("8080", "8000-8010"); absent: picked by the agent */
  readonly published?: string;
  readonly host_ip?: string;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
}

export interface ServiceVolume {
  readonly type: 'bind' | 'volume' | 'tmpfs';
  /** bind: absolute host path; volume: the project-level volume key (absent: anonymous) */
  readonly source?: string;
  readonly target: string;
  readonly read_only: boolean;
  readonly bind?: {
    readonly propagation?: string;
    readonly create_host_path: boolean;
    readonly selinux?: 'z' | 'Z';
  };
  readonly volume?: { readonly nocopy: boolean };
  readonly tmpfs?: { readonly size?: number; readonly mode?: number };
}

export interface ServiceNetwork {
  readonly aliases: readonly string[];
  readonly ipv4_address?: string;
}

export interface Dependency {
  readonly condition: DependencyCondition;
  /** restart this service when the dependency is recreated (Compose's `depends_on.<s>.restart`) */
  readonly restart: boolean;
  readonly required: boolean;
}

export interface Healthcheck {
  /** ["NONE"] | ["CMD", ...argv] | ["CMD-SHELL", command] */
  readonly test?: readonly string[];
  /** nanoseconds */
  readonly interval?: number;
  readonly timeout?: number;
  readonly start_period?: number;
  readonly start_interval?: number;
  readonly retries?: number;
  readonly disable: boolean;
}

export interface ServiceConfig {
  readonly name: string;
  readonly image?: string;
  readonly build?: BuildConfig;
  readonly command?: readonly string[];
  readonly entrypoint?: readonly string[];
  /** env_file entries first, then `environment`; null: declared without a value and unset in the environment */
  readonly environment: Readonly<Record<string, string | null>>;
  readonly ports: readonly PortConfig[];
  /** "80/tcp" form */
  readonly expose: readonly string[];
  readonly volumes: readonly ServiceVolume[];
  readonly networks: Readonly<Record<string, ServiceNetwork>>;
  readonly depends_on: Readonly<Record<string, Dependency>>;
  readonly restart?: 'no' | 'always' | 'unless-stopped' | 'on-failure' | `on-failure:${number}`;
  readonly healthcheck?: Healthcheck;
  /** deploy.resources.limits, mem_limit and cpus together: bytes and CPUs */
  readonly limits: { readonly memory?: number; readonly cpus?: number };
  readonly hostname?: string;
  readonly user?: string;
  readonly working_dir?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly init?: boolean;
}

export interface NetworkConfig {
  /** the engine's network name: `name:`, else `<project>_<key>` */
  readonly name: string;
  readonly driver: 'bridge' | 'overlay' | 'macvlan';
  readonly driver_opts: Readonly<Record<string, string>>;
  readonly ipam: { readonly config: readonly { subnet?: string; gateway?: string; ip_range?: string }[] };
  readonly external: boolean;
  readonly internal: boolean;
  readonly labels: Readonly<Record<string, string>>;
}

export interface VolumeConfig {
  /** the engine's volume name: `name:`, else `<project>_<key>` */
  readonly name: string;
  readonly driver: string;
  readonly driver_opts: Readonly<Record<string, string>>;
  readonly external: boolean;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ComposeProject {
  readonly name: string;
  /** absolute project directory (relative paths resolve against it) */
  readonly workingDir: string;
  /** absolute paths of the files read, in order */
  readonly configFiles: readonly string[];
  readonly services: Readonly<Record<string, ServiceConfig>>;
  readonly networks: Readonly<Record<string, NetworkConfig>>;
  readonly volumes: Readonly<Record<string, VolumeConfig>>;
}

export interface NormalizeContext {
  readonly projectName: string;
  readonly workingDir: string;
  readonly configFiles: readonly string[];
  /** the environment used to resolve `environment: [NAME]` entries */
  readonly lookup: (name: string) => string | undefined;
  /** reads an env_file (absolute path) into its variables; throws a message naming the file */
  readonly readEnvFile: (path: string) => Map<string, string>;
  readonly home?: string;
}

const TOP_KEYS = new Set(['version', 'name', 'services', 'networks', 'volumes']);
const SERVICE_KEYS = new Set([
  'image',
  'build',
  'command',
  'entrypoint',
  'environment',
  'env_file',
  'ports',
  'expose',
  'volumes',
  'networks',
  'depends_on',
  'restart',
  'healthcheck',
  'deploy',
  'mem_limit',
  'cpus',
  'hostname',
  'user',
  'working_dir',
  'labels',
  'init',
]);
/** Compose Specification keys outside tsnet's subset: named as such rather than as typos. */
const UNSUPPORTED = new Set([
  'container_name',
  'network_mode',
  'secrets',
  'configs',
  'profiles',
  'extends',
  'links',
  'external_links',
  'cap_add',
  'cap_drop',
  'devices',
  'dns',
  'dns_search',
  'extra_hosts',
  'logging',
  'pid',
  'ipc',
  'privileged',
  'read_only',
  'shm_size',
  'stop_signal',
  'stop_grace_period',
  'sysctls',
  'tmpfs',
  'ulimits',
  'tty',
  'stdin_open',
  'scale',
  'platform',
  'pull_policy',
  'security_opt',
  'userns_mode',
  'volumes_from',
  'develop',
  'include',
  'secrets',
  'models',
]);

/** Validates and normalizes a merged compose tree. Throws ComposeError at the first problem. */
export function normalizeProject(root: LNode, ctx: NormalizeContext): ComposeProject {
  const top = map(root, '');
  checkKeys(top, '', TOP_KEYS);
  const servicesNode = top.entries.get('services');
  if (!servicesNode || (servicesNode.kind === 'scalar' && servicesNode.value === null)) {
    throw composeError(top.pos, '', 'no services: a compose file needs a "services" section');
  }
  const servicesMap = map(servicesNode, 'services');
  const networkDecls = optionalMap(top.entries.get('networks'), 'networks');
  const volumeDecls = optionalMap(top.entries.get('volumes'), 'volumes');

  const services: Record<string, ServiceConfig> = {};
  for (const [name, node] of servicesMap.entries) {
    checkName(name, servicesMap.keyPos.get(name) ?? servicesMap.pos, 'services', 'service');
    services[name] = normalizeService(name, node, `services.${name}`, ctx);
  }
  const networks: Record<string, NetworkConfig> = {};
  for (const [key, node] of networkDecls?.entries ?? []) {
    networks[key] = normalizeNetwork(key, node, `networks.${key}`, ctx.projectName);
  }
  // services without a `networks:` join the project's implicit `default` network, as in Compose
  const usesDefault = Object.values(services).some((s) => 'default' in s.networks);
  if (usesDefault && !networks.default) networks.default = defaultNetwork(ctx.projectName);
  const volumes: Record<string, VolumeConfig> = {};
  for (const [key, node] of volumeDecls?.entries ?? []) {
    volumes[key] = normalizeVolume(key, node, `volumes.${key}`, ctx.projectName);
  }
  checkReferences(servicesMap, services, networks, volumes);
  return {
    name: ctx.projectName,
    workingDir: ctx.workingDir,
    configFiles: ctx.configFiles,
    services,
    networks,
    volumes,
  };
}

function defaultNetwork(project: string): NetworkConfig {
  return {
    name: `${project}_default`,
    driver: 'bridge',
    driver_opts: {},
    ipam: { config: [] },
    external: false,
    internal: false,
    labels: {},
  };
}

function checkReferences(
  servicesMap: LMap,
  services: Record<string, ServiceConfig>,
  networks: Record<string, NetworkConfig>,
  volumes: Record<string, VolumeConfig>,
): void {
  for (const [name, s] of Object.entries(services)) {
    const node = servicesMap.entries.get(name) as LMap;
    const at = (key: string): Pos => (node.entries.get(key) ?? node).pos;
    for (const net of Object.keys(s.networks)) {
      if (!networks[net])
        throw composeError(
          at('networks'),
          `services.${name}.networks`,
          `service "${name}" refers to undefined network ${net}`,
        );
    }
    for (const v of s.volumes) {
      if (v.type === 'volume' && v.source !== undefined && !volumes[v.source]) {
        throw composeError(
          at('volumes'),
          `services.${name}.volumes`,
          `service "${name}" refers to undefined volume ${v.source}`,
        );
      }
    }
    for (const dep of Object.keys(s.depends_on)) {
      if (!services[dep] && s.depends_on[dep]?.required !== false) {
        throw composeError(
          at('depends_on'),
          `services.${name}.depends_on`,
          `service "${name}" depends on undefined service "${dep}"`,
        );
      }
      if (dep === name)
        throw composeError(
          at('depends_on'),
          `services.${name}.depends_on`,
          `service "${name}" depends on itself`,
        );
    }
  }
}

// ---- services

function normalizeService(name: string, node: LNode, path: string, ctx: NormalizeContext): ServiceConfig {
  const m = map(node, path);
  checkKeys(m, path, SERVICE_KEYS);
  const get = (k: string): LNode | undefined => present(m.entries.get(k));
  const p = (k: string): string => `${path}.${k}`;
  const image = optionalString(get('image'), p('image'));
  const build = get('build') ? normalizeBuild(get('build') as LNode, p('build'), ctx) : undefined;
  if (image === undefined && build === undefined)
    throw composeError(m.pos, path, `service "${name}" has neither an image nor a build context`);
  const environment: Record<string, string | null> = {};
  for (const [i, item] of optionalSeqOrOne(get('env_file'), p('env_file')).entries()) {
    const file = resolvePath(string(item, `${p('env_file')}[${i}]`), ctx);
    let vars: Map<string, string>;
    try {
      vars = ctx.readEnvFile(file);
    } catch (err) {
      throw composeError(item.pos, `${p('env_file')}[${i}]`, (err as Error).message);
    }
    for (const [k, v] of vars) environment[k] = v;
  }
  for (const [k, v] of Object.entries(mapOrList(get('environment'), p('environment'), '='))) {
    environment[k] = v ?? ctx.lookup(k) ?? null;
  }
  const command = get('command') ? commandLine(get('command') as LNode, p('command')) : undefined;
  const entrypoint = get('entrypoint') ? commandLine(get('entrypoint') as LNode, p('entrypoint')) : undefined;
  const ports = optionalSeq(get('ports'), p('ports')).flatMap((n, i) =>
    normalizePort(n, `${p('ports')}[${i}]`),
  );
  const expose = optionalSeq(get('expose'), p('expose')).flatMap((n, i) =>
    normalizeExpose(n, `${p('expose')}[${i}]`),
  );
  const volumes = optionalSeq(get('volumes'), p('volumes')).map((n, i) =>
    normalizeServiceVolume(n, `${p('volumes')}[${i}]`, ctx),
  );
  const networks = normalizeServiceNetworks(get('networks'), p('networks'));
  const depends_on = normalizeDependsOn(get('depends_on'), p('depends_on'));
  const restart = get('restart') ? normalizeRestart(get('restart') as LNode, p('restart')) : undefined;
  const healthcheck = get('healthcheck')
    ? normalizeHealthcheck(get('healthcheck') as LNode, p('healthcheck'))
    : undefined;
  const limits = normalizeLimits(m, path);
  const labels = stringMap(mapOrList(get('labels'), p('labels'), '='));
  const init = get('init') ? bool(get('init') as LNode, p('init')) : undefined;
  return {
    name,
    ...(image !== undefined && { image }),
    ...(build && { build }),
    ...(command && { command }),
    ...(entrypoint && { entrypoint }),
    environment,
    ports,
    expose,
    volumes,
    networks,
    depends_on,
    ...(restart && { restart }),
    ...(healthcheck && { healthcheck }),
    limits,
    ...optionalStrings(m, path, ['hostname', 'user', 'working_dir']),
    labels,
    ...(init !== undefined && { init }),
  };
}

function optionalStrings(
  m: LMap,
  path: string,
  keys: readonly ('hostname' | 'user' | 'working_dir')[],
): Partial<Record<'hostname' | 'user' | 'working_dir', string>> {
  const out: Partial<Record<'hostname' | 'user' | 'working_dir', string>> = {};
  for (const k of keys) {
    const v = optionalString(present(m.entries.get(k)), `${path}.${k}`);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function normalizeBuild(node: LNode, path: string, ctx: NormalizeContext): BuildConfig {
  if (node.kind === 'scalar')
    return { context: resolvePath(string(node, path), ctx), dockerfile: 'Dockerfile', args: {} };
  const m = map(node, path);
  checkKeys(m, path, new Set(['context', 'dockerfile', 'args', 'target']));
  const context = resolvePath(
    optionalString(present(m.entries.get('context')), `${path}.context`) ?? '.',
    ctx,
  );
  const dockerfile =
    optionalString(present(m.entries.get('dockerfile')), `${path}.dockerfile`) ?? 'Dockerfile';
  const args = mapOrList(present(m.entries.get('args')), `${path}.args`, '=');
  const target = optionalString(present(m.entries.get('target')), `${path}.target`);
  return { context, dockerfile, args, ...(target !== undefined && { target }) };
}

function commandLine(node: LNode, path: string): string[] {
  if (node.kind === 'seq') return node.items.map((n, i) => string(n, `${path}[${i}]`));
  const text = string(node, path);
  try {
    return splitShellWords(text);
  } catch (err) {
    throw composeError(node.pos, path, `${(err as Error).message} in ${JSON.stringify(text)}`);
  }
}

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

function normalizePort(node: LNode, path: string): PortConfig[] {
  if (node.kind === 'map') {
    checkKeys(
      node,
      path,
      new Set(['target', 'published', 'host_ip', 'protocol', 'mode', 'name', 'app_protocol']),
    );
    const targetNode = node.entries.get('target');
    if (!targetNode) throw composeError(node.pos, path, 'a port needs a "target"');
    const target = portNumber(string(targetNode, `${path}.target`), targetNode, `${path}.target`);
    const publishedNode = present(node.entries.get('published'));
    const published = publishedNode ? string(publishedNode, `${path}.published`) : undefined;
    if (published !== undefined && !/^\d+(-\d+)?$/.test(published)) {
      throw composeError(
        (publishedNode as LNode).pos,
        `${path}.published`,
        `invalid published port ${JSON.stringify(published)}`,
      );
    }
    const host_ip = optionalString(present(node.entries.get('host_ip')), `${path}.host_ip`);
    const protocol = (
      optionalString(present(node.entries.get('protocol')), `${path}.protocol`) ?? 'tcp'
    ).toLowerCase();
    if (!PROTOCOLS.has(protocol))
      throw composeError(node.pos, `${path}.protocol`, `invalid protocol ${JSON.stringify(protocol)}`);
    return [
      {
        target,
        ...(published !== undefined && published !== '' && { published }),
        ...(host_ip && { host_ip }),
        protocol: protocol as PortConfig['protocol'],
      },
    ];
  }
  const text = string(node, path);
  const bad = (): never => {
    throw composeError(node.pos, path, `invalid port ${JSON.stringify(text)}`);
  };
  // [HOST_IP:][HOST_PORT[-RANGE]:]CONTAINER_PORT[-RANGE][/PROTOCOL]; an IPv6 host IP is bracketed
  const m =
    /^(?:(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):)?(?:(\d*(?:-\d+)?):)?(\d+(?:-\d+)?)(?:\/(\w+))?$/.exec(
      text,
    );
  if (!m) return bad();
  const host_ip = m[1] ?? m[2];
  const hostRange = m[3] === undefined || m[3] === '' ? undefined : range(m[3], node, path, text);
  const targetRange = range(m[4] as string, node, path, text);
  const protocol = (m[5] ?? 'tcp').toLowerCase();
  if (!PROTOCOLS.has(protocol))
    throw composeError(
      node.pos,
      path,
      `invalid protocol ${JSON.stringify(protocol)} in port ${JSON.stringify(text)}`,
    );
  const base = { ...(host_ip && { host_ip }), protocol: protocol as PortConfig['protocol'] };
  const count = targetRange[1] - targetRange[0] + 1;
  if (hostRange && count > 1 && hostRange[1] - hostRange[0] + 1 !== count) {
    throw composeError(
      node.pos,
      path,
      `invalid port ${JSON.stringify(text)}: the host and container ranges differ in length`,
    );
  }
  const out: PortConfig[] = [];
  for (let i = 0; i < count; i++) {
    let published: string | undefined;
    if (hostRange && count > 1) published = String(hostRange[0] + i);
    else if (hostRange)
      published = hostRange[0] === hostRange[1] ? String(hostRange[0]) : `${hostRange[0]}-${hostRange[1]}`;
    out.push({ target: targetRange[0] + i, ...(published !== undefined && { published }), ...base });
  }
  return out;
}

function range(text: string, node: LNode, path: string, whole: string): [number, number] {
  const [a, b = a] = text.split('-') as [string, string?];
  const lo = Number(a);
  const hi = Number(b);
  if (!(lo >= 1 && hi <= 65535 && lo <= hi) || !Number.isInteger(lo) || !Number.isInteger(hi)) {
    throw composeError(node.pos, path, `invalid port ${JSON.stringify(whole)}`);
  }
  return [lo, hi];
}

function portNumber(text: string, node: LNode, path: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535)
    throw composeError(node.pos, path, `invalid port ${JSON.stringify(text)}`);
  return n;
}

function normalizeExpose(node: LNode, path: string): string[] {
  const text = string(node, path);
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(text);
  if (!m) throw composeError(node.pos, path, `invalid port ${JSON.stringify(text)}`);
  const [lo, hi] = range(m[2] ? `${m[1]}-${m[2]}` : (m[1] as string), node, path, text);
  const proto = (m[3] ?? 'tcp').toLowerCase();
  return Array.from({ length: hi - lo + 1 }, (_, i) => `${lo + i}/${proto}`);
}

const PROPAGATIONS = new Set(['shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate']);

function normalizeServiceVolume(node: LNode, path: string, ctx: NormalizeContext): ServiceVolume {
  if (node.kind === 'map') return longVolume(node, path, ctx);
  const text = string(node, path);
  const parts = text.split(':');
  if (parts.length > 3 || parts.some((s) => s === ''))
    throw composeError(node.pos, path, `invalid volume ${JSON.stringify(text)}`);
  if (parts.length === 1)
    return { type: 'volume', target: absTarget(parts[0] as string, node, path), read_only: false };
  const [source, target, mode = ''] = parts as [string, string, string?];
  let read_only = false;
  let propagation: string | undefined;
  let selinux: 'z' | 'Z' | undefined;
  let nocopy = false;
  for (const opt of mode === '' ? [] : mode.split(',')) {
    if (opt === 'ro') read_only = true;
    else if (opt === 'rw') read_only = false;
    else if (opt === 'z' || opt === 'Z') selinux = opt;
    else if (opt === 'nocopy') nocopy = true;
    else if (PROPAGATIONS.has(opt)) propagation = opt;
    else
      throw composeError(
        node.pos,
        path,
        `invalid volume ${JSON.stringify(text)}: unknown option ${JSON.stringify(opt)}`,
      );
  }
  const t = absTarget(target, node, path);
  if (isHostPath(source)) {
    return {
      type: 'bind',
      source: resolvePath(source, ctx),
      target: t,
      read_only,
      bind: { create_host_path: true, ...(propagation && { propagation }), ...(selinux && { selinux }) },
    };
  }
  return { type: 'volume', source, target: t, read_only, ...(nocopy && { volume: { nocopy } }) };
}

function longVolume(m: LMap, path: string, ctx: NormalizeContext): ServiceVolume {
  checkKeys(
    m,
    path,
    new Set(['type', 'source', 'target', 'read_only', 'bind', 'volume', 'tmpfs', 'consistency']),
  );
  const type = optionalString(present(m.entries.get('type')), `${path}.type`) ?? 'volume';
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
    throw composeError(
      (m.entries.get('type') as LNode).pos,
      `${path}.type`,
      `unsupported volume type ${JSON.stringify(type)} (bind, volume or tmpfs)`,
    );
  }
  const targetNode = m.entries.get('target');
  if (!targetNode) throw composeError(m.pos, path, 'a volume needs a "target"');
  const target = absTarget(string(targetNode, `${path}.target`), targetNode, `${path}.target`);
  const sourceNode = present(m.entries.get('source'));
  const source = sourceNode ? string(sourceNode, `${path}.source`) : undefined;
  const read_only = present(m.entries.get('read_only'))
    ? bool(m.entries.get('read_only') as LNode, `${path}.read_only`)
    : false;
  if (type === 'bind') {
    if (source === undefined) throw composeError(m.pos, path, 'a bind mount needs a "source"');
    const b = optionalMap(m.entries.get('bind'), `${path}.bind`);
    if (b) checkKeys(b, `${path}.bind`, new Set(['propagation', 'create_host_path', 'selinux']));
    const propagation = b
      ? optionalString(present(b.entries.get('propagation')), `${path}.bind.propagation`)
      : undefined;
    if (propagation !== undefined && !PROPAGATIONS.has(propagation)) {
      throw composeError(
        m.pos,
        `${path}.bind.propagation`,
        `invalid propagation ${JSON.stringify(propagation)}`,
      );
    }
    const chp = b && present(b.entries.get('create_host_path'));
    return {
      type,
      source: resolvePath(source, ctx),
      target,
      read_only,
      bind: {
        create_host_path: chp ? bool(chp, `${path}.bind.create_host_path`) : true,
        ...(propagation && { propagation }),
      },
    };
  }
  if (type === 'tmpfs') {
    const t = optionalMap(m.entries.get('tmpfs'), `${path}.tmpfs`);
    const sizeNode = t && present(t.entries.get('size'));
    const size = sizeNode ? bytes(sizeNode, `${path}.tmpfs.size`) : undefined;
    const modeNode = t && present(t.entries.get('mode'));
    const mode = modeNode ? integer(modeNode, `${path}.tmpfs.mode`) : undefined;
    return {
      type,
      target,
      read_only,
      ...((size !== undefined || mode !== undefined) && {
        tmpfs: { ...(size !== undefined && { size }), ...(mode !== undefined && { mode }) },
      }),
    };
  }
  const v = optionalMap(m.entries.get('volume'), `${path}.volume`);
  const nc = v && present(v.entries.get('nocopy'));
  const nocopy = nc ? bool(nc, `${path}.volume.nocopy`) : false;
  return {
    type,
    ...(source !== undefined && { source }),
    target,
    read_only,
    ...(nocopy && { volume: { nocopy } }),
  };
}

function isHostPath(source: string): boolean {
  return source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
}

function absTarget(target: string, node: LNode, path: string): string {
  if (!target.startsWith('/'))
    throw composeError(
      node.pos,
      path,
      `invalid volume target ${JSON.stringify(target)}: must be an absolute path`,
    );
  return target;
}

function resolvePath(p: string, ctx: NormalizeContext): string {
  if (p === '~' || p.startsWith('~/')) return resolve(ctx.home ?? '/root', `.${p.slice(1)}`);
  return isAbsolute(p) ? resolve(p) : resolve(ctx.workingDir, p);
}

function normalizeServiceNetworks(node: LNode | undefined, path: string): Record<string, ServiceNetwork> {
  if (!node) return { default: { aliases: [] } };
  if (node.kind === 'seq') {
    return Object.fromEntries(node.items.map((n, i) => [string(n, `${path}[${i}]`), { aliases: [] }]));
  }
  const m = map(node, path);
  const out: Record<string, ServiceNetwork> = {};
  for (const [net, v] of m.entries) {
    const p = `${path}.${net}`;
    const cfg = optionalMap(v, p);
    if (!cfg) {
      out[net] = { aliases: [] };
      continue;
    }
    checkKeys(cfg, p, new Set(['aliases', 'ipv4_address', 'ipv6_address', 'priority']));
    const aliases = optionalSeq(present(cfg.entries.get('aliases')), `${p}.aliases`).map((a, i) =>
      string(a, `${p}.aliases[${i}]`),
    );
    const ipNode = present(cfg.entries.get('ipv4_address'));
    const ipv4 = ipNode ? string(ipNode, `${p}.ipv4_address`) : undefined;
    if (ipv4 !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(ipv4))
      throw composeError(
        (ipNode as LNode).pos,
        `${p}.ipv4_address`,
        `invalid IPv4 address ${JSON.stringify(ipv4)}`,
      );
    out[net] = { aliases, ...(ipv4 !== undefined && { ipv4_address: ipv4 }) };
  }
  return out;
}

const CONDITIONS = new Set<DependencyCondition>([
  'service_started',
  'service_healthy',
  'service_completed_successfully',
]);

function normalizeDependsOn(node: LNode | undefined, path: string): Record<string, Dependency> {
  if (!node) return {};
  if (node.kind === 'seq') {
    return Object.fromEntries(
      node.items.map((n, i) => [
        string(n, `${path}[${i}]`),
        { condition: 'service_started', restart: false, required: true },
      ]),
    );
  }
  const m = map(node, path);
  const out: Record<string, Dependency> = {};
  for (const [dep, v] of m.entries) {
    const p = `${path}.${dep}`;
    const cfg = optionalMap(v, p);
    if (cfg) checkKeys(cfg, p, new Set(['condition', 'restart', 'required']));
    const condNode = cfg && present(cfg.entries.get('condition'));
    const condition = condNode ? string(condNode, `${p}.condition`) : 'service_started';
    if (!CONDITIONS.has(condition as DependencyCondition)) {
      throw composeError(
        (condNode as LNode).pos,
        `${p}.condition`,
        `invalid condition ${JSON.stringify(condition)} (service_started, service_healthy or service_completed_successfully)`,
      );
    }
    const r = cfg && present(cfg.entries.get('restart'));
    const q = cfg && present(cfg.entries.get('required'));
    out[dep] = {
      condition: condition as DependencyCondition,
      restart: r ? bool(r, `${p}.restart`) : false,
      required: q ? bool(q, `${p}.required`) : true,
    };
  }
  return out;
}

function normalizeRestart(node: LNode, path: string): NonNullable<ServiceConfig['restart']> {
  const text = node.kind === 'scalar' && node.value === false ? 'no' : string(node, path);
  if (text === 'no' || text === 'always' || text === 'unless-stopped' || text === 'on-failure') return text;
  if (/^on-failure:\d+$/.test(text)) return text as `on-failure:${number}`;
  throw composeError(
    node.pos,
    path,
    `invalid restart policy ${JSON.stringify(text)} (no, always, on-failure[:N], unless-stopped)`,
  );
}

function normalizeHealthcheck(node: LNode, path: string): Healthcheck {
  const m = map(node, path);
  checkKeys(
    m,
    path,
    new Set(['test', 'interval', 'timeout', 'start_period', 'start_interval', 'retries', 'disable']),
  );
  const d = present(m.entries.get('disable'));
  const disable = d ? bool(d, `${path}.disable`) : false;
  const testNode = present(m.entries.get('test'));
  let test: string[] | undefined;
  if (testNode?.kind === 'seq') {
    test = testNode.items.map((n, i) => string(n, `${path}.test[${i}]`));
    if (!['NONE', 'CMD', 'CMD-SHELL'].includes(test[0] ?? '')) {
      throw composeError(
        testNode.pos,
        `${path}.test`,
        'a test list starts with "CMD", "CMD-SHELL" or "NONE"',
      );
    }
  } else if (testNode) {
    test = ['CMD-SHELL', string(testNode, `${path}.test`)];
  }
  if (disable) test = ['NONE'];
  const dur = (k: string): number | undefined => {
    const n = present(m.entries.get(k));
    if (!n) return undefined;
    try {
      return parseGoDuration(
        n.kind === 'scalar' && typeof n.value === 'number' ? n.value : string(n, `${path}.${k}`),
      );
    } catch (err) {
      throw composeError(n.pos, `${path}.${k}`, (err as Error).message);
    }
  };
  const interval = dur('interval');
  const timeout = dur('timeout');
  const start_period = dur('start_period');
  const start_interval = dur('start_interval');
  const r = present(m.entries.get('retries'));
  const retries = r ? integer(r, `${path}.retries`) : undefined;
  return {
    ...(test && { test }),
    ...(interval !== undefined && { interval }),
    ...(timeout !== undefined && { timeout }),
    ...(start_period !== undefined && { start_period }),
    ...(start_interval !== undefined && { start_interval }),
    ...(retries !== undefined && { retries }),
    disable,
  };
}

function normalizeLimits(m: LMap, path: string): ServiceConfig['limits'] {
  const deploy = optionalMap(m.entries.get('deploy'), `${path}.deploy`);
  let memory: number | undefined;
  let cpus: number | undefined;
  if (deploy) {
    checkKeys(deploy, `${path}.deploy`, new Set(['resources']));
    const res = optionalMap(deploy.entries.get('resources'), `${path}.deploy.resources`);
    if (res) {
      checkKeys(res, `${path}.deploy.resources`, new Set(['limits', 'reservations']));
      const lim = optionalMap(res.entries.get('limits'), `${path}.deploy.resources.limits`);
      if (lim) {
        const lp = `${path}.deploy.resources.limits`;
        checkKeys(lim, lp, new Set(['memory', 'cpus', 'pids']));
        const mem = present(lim.entries.get('memory'));
        if (mem) memory = bytes(mem, `${lp}.memory`);
        const c = present(lim.entries.get('cpus'));
        if (c) cpus = cpuCount(c, `${lp}.cpus`);
      }
    }
  }
  const memLimit = present(m.entries.get('mem_limit'));
  if (memLimit) {
    const v = bytes(memLimit, `${path}.mem_limit`);
    if (memory !== undefined && memory !== v)
      throw composeError(
        memLimit.pos,
        `${path}.mem_limit`,
        'mem_limit and deploy.resources.limits.memory differ',
      );
    memory = v;
  }
  const cpusNode = present(m.entries.get('cpus'));
  if (cpusNode) {
    const v = cpuCount(cpusNode, `${path}.cpus`);
    if (cpus !== undefined && cpus !== v)
      throw composeError(cpusNode.pos, `${path}.cpus`, 'cpus and deploy.resources.limits.cpus differ');
    cpus = v;
  }
  return { ...(memory !== undefined && { memory }), ...(cpus !== undefined && { cpus }) };
}

function cpuCount(node: LNode, path: string): number {
  const n = Number(string(node, path));
  if (!Number.isFinite(n) || n <= 0)
    throw composeError(node.pos, path, `invalid number of CPUs ${JSON.stringify(string(node, path))}`);
  return n;
}

// ---- top-level networks and volumes

const DRIVERS = new Set(['bridge', 'overlay', 'macvlan']);

function normalizeNetwork(key: string, node: LNode, path: string, project: string): NetworkConfig {
  const m = optionalMap(node, path);
  if (!m) return { ...defaultNetwork(project), name: `${project}_${key}` };
  checkKeys(
    m,
    path,
    new Set([
      'name',
      'driver',
      'driver_opts',
      'ipam',
      'external',
      'internal',
      'labels',
      'attachable',
      'enable_ipv6',
    ]),
  );
  const external = externalFlag(m, path);
  const explicit = optionalString(present(m.entries.get('name')), `${path}.name`);
  const name = explicit ?? (external ? key : `${project}_${key}`);
  const driverNode = present(m.entries.get('driver'));
  const driver = driverNode ? string(driverNode, `${path}.driver`) : 'bridge';
  if (!DRIVERS.has(driver))
    throw composeError(
      (driverNode as LNode).pos,
      `${path}.driver`,
      `unsupported network driver ${JSON.stringify(driver)} (bridge, overlay or macvlan)`,
    );
  const ipamNode = optionalMap(m.entries.get('ipam'), `${path}.ipam`);
  const config: { subnet?: string; gateway?: string; ip_range?: string }[] = [];
  if (ipamNode) {
    checkKeys(ipamNode, `${path}.ipam`, new Set(['driver', 'config', 'options']));
    for (const [i, c] of optionalSeq(
      present(ipamNode.entries.get('config')),
      `${path}.ipam.config`,
    ).entries()) {
      const cp = `${path}.ipam.config[${i}]`;
      const cm = map(c, cp);
      checkKeys(cm, cp, new Set(['subnet', 'gateway', 'ip_range', 'aux_addresses']));
      const entry: { subnet?: string; gateway?: string; ip_range?: string } = {};
      for (const k of ['subnet', 'gateway', 'ip_range'] as const) {
        const v = optionalString(present(cm.entries.get(k)), `${cp}.${k}`);
        if (v !== undefined) entry[k] = v;
      }
      if (entry.subnet !== undefined && !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(entry.subnet)) {
        throw composeError(cm.pos, `${cp}.subnet`, `invalid subnet ${JSON.stringify(entry.subnet)}`);
      }
      config.push(entry);
    }
  }
  const internal = present(m.entries.get('internal'))
    ? bool(m.entries.get('internal') as LNode, `${path}.internal`)
    : false;
  return {
    name,
    driver: driver as NetworkConfig['driver'],
    driver_opts: stringMap(mapOrList(present(m.entries.get('driver_opts')), `${path}.driver_opts`, '=')),
    ipam: { config },
    external,
    internal,
    labels: stringMap(mapOrList(present(m.entries.get('labels')), `${path}.labels`, '=')),
  };
}

function normalizeVolume(key: string, node: LNode, path: string, project: string): VolumeConfig {
  const m = optionalMap(node, path);
  if (!m) return { name: `${project}_${key}`, driver: 'local', driver_opts: {}, external: false, labels: {} };
  checkKeys(m, path, new Set(['name', 'driver', 'driver_opts', 'external', 'labels']));
  const external = externalFlag(m, path);
  const explicit = optionalString(present(m.entries.get('name')), `${path}.name`);
  const driver = optionalString(present(m.entries.get('driver')), `${path}.driver`) ?? 'local';
  if (driver !== 'local')
    throw composeError(
      (m.entries.get('driver') as LNode).pos,
      `${path}.driver`,
      `unsupported volume driver ${JSON.stringify(driver)} (local)`,
    );
  return {
    name: explicit ?? (external ? key : `${project}_${key}`),
    driver,
    driver_opts: stringMap(mapOrList(present(m.entries.get('driver_opts')), `${path}.driver_opts`, '=')),
    external,
    labels: stringMap(mapOrList(present(m.entries.get('labels')), `${path}.labels`, '=')),
  };
}

/** `external: true`, or the legacy `external: {name: x}`. */
function externalFlag(m: LMap, path: string): boolean {
  const e = present(m.entries.get('external'));
  if (!e) return false;
  if (e.kind === 'map') return true;
  return bool(e, `${path}.external`);
}

// ---- readers over the located tree

function checkKeys(m: LMap, path: string, allowed: ReadonlySet<string>): void {
  for (const key of m.entries.keys()) {
    if (allowed.has(key) || key.startsWith('x-')) continue; // x- extensions are the user's own: ignored
    const p = path === '' ? key : `${path}.${key}`;
    const pos = m.keyPos.get(key) ?? m.pos;
    throw composeError(
      pos,
      p,
      UNSUPPORTED.has(key)
        ? `${key} is not supported by tsnet compose`
        : `unknown key ${JSON.stringify(key)}`,
    );
  }
}

function checkName(name: string, pos: Pos, path: string, what: string): void {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name))
    throw composeError(pos, `${path}.${name}`, `invalid ${what} name ${JSON.stringify(name)}`);
}

/** null (`key:` without a value) counts as absent */
function present(node: LNode | undefined): LNode | undefined {
  return node === undefined || (node.kind === 'scalar' && node.value === null) ? undefined : node;
}

function map(node: LNode, path: string): LMap {
  if (node.kind !== 'map') throw composeError(node.pos, path, `must be a mapping, not ${describe(node)}`);
  return node;
}

function optionalMap(node: LNode | undefined, path: string): LMap | undefined {
  const n = present(node);
  return n ? map(n, path) : undefined;
}

function optionalSeq(node: LNode | undefined, path: string): readonly LNode[] {
  const n = present(node);
  if (!n) return [];
  if (n.kind !== 'seq') throw composeError(n.pos, path, `must be a list, not ${describe(n)}`);
  return n.items;
}

function optionalSeqOrOne(node: LNode | undefined, path: string): readonly LNode[] {
  const n = present(node);
  return n?.kind === 'scalar' ? [n] : optionalSeq(n, path);
}

function string(node: LNode, path: string): string {
  if (node.kind !== 'scalar' || node.value === null)
    throw composeError(node.pos, path, `must be a string, not ${describe(node)}`);
  return String(node.value);
}

function optionalString(node: LNode | undefined, path: string): string | undefined {
  return node ? string(node, path) : undefined;
}

function bool(node: LNode, path: string): boolean {
  if (node.kind === 'scalar' && typeof node.value === 'boolean') return node.value;
  const s = node.kind === 'scalar' ? String(node.value).toLowerCase() : '';
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw composeError(node.pos, path, `must be true or false, not ${describe(node)}`);
}

function integer(node: LNode, path: string): number {
  const s = string(node, path);
  if (!/^-?\d+$/.test(s)) throw composeError(node.pos, path, `must be an integer, not ${JSON.stringify(s)}`);
  return Number(s);
}

function bytes(node: LNode, path: string): number {
  try {
    return parseByteSize(string(node, path));
  } catch (err) {
    throw composeError(node.pos, path, (err as Error).message);
  }
}

/** A list of `K<sep>V` strings or a mapping → name → value (null: no value given). */
function mapOrList(node: LNode | undefined, path: string, sep: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (!node) return out;
  if (node.kind === 'seq') {
    for (const [i, item] of node.items.entries()) {
      const text = string(item, `${path}[${i}]`);
      const at = text.indexOf(sep);
      out[at < 0 ? text : text.slice(0, at)] = at < 0 ? null : text.slice(at + sep.length);
    }
    return out;
  }
  for (const [k, v] of map(node, path).entries) {
    if (v.kind !== 'scalar')
      throw composeError(v.pos, `${path}.${k}`, `must be a string, not ${describe(v)}`);
    out[k] = v.value === null ? null : String(v.value);
  }
  return out;
}

/** For labels and options, where a name without a value means "" */
function stringMap(values: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v ?? '']));
}

function describe(node: LNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  return (node as LScalar).value === null ? 'an empty value' : JSON.stringify((node as LScalar).value);
}
