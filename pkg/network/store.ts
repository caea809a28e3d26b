// The node's networks: each a conflist `tsnet-<name>.conflist` in the CNI conf dir (written temp + fsync +
// link, so a name is taken once), plus the built-ins Docker users expect: bridge (the default, on tsnet0),
// host, none, and tsnet (the cluster overlay) while the node is in a cluster (subnet.env exists).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_BRIDGE } from '../bridge/config.ts';
import { NetworkNotFoundError } from '../container/networking.ts';
import { createFileExclusive, fsyncDirectory } from '../fsutil/atomic.ts';
import { makeDirectorySync } from '../fsutil/mkdir.ts';
import {
  formatIp,
  formatSubnet,
  hasHostBits,
  parseCidr,
  parseIp,
  type Subnet,
  subnetContains,
  subnetOf,
} from '../ip/address.ts';
import { validateLinkName } from '../netlink/link.ts';
import { readSubnetEnv } from '../subnet/env.ts';
import { inTurn } from '../sync/turns.ts';
import { byCodeUnits } from '../text/order.ts';
import { type NetworkConfigList, parseConfList } from './cni-exec.ts';
import {
  bridgeConflist,
  type Driver,
  type IpamPool,
  macvlanConflist,
  type NetworkMeta,
  overlayConflist,
  type PluginDirs,
} from './conflist.ts';

export type DockerDriver = Driver | 'host' | 'null';

export interface Network extends Omit<NetworkMeta, 'driver'> {
  readonly name: string;
  readonly driver: DockerDriver;
  readonly kind: 'cni' | 'host' | 'none';
  readonly scope: 'local' | 'cluster';
  readonly builtin: boolean;
  /** The conflist (kind 'cni'). */
  readonly list?: NetworkConfigList;
  readonly file?: string;
}

export interface CreateNetworkRequest {
  readonly name: string;
  /** '' means bridge */
  readonly driver: string;
  readonly pools: readonly { subnet?: string; gateway?: string; ipRange?: string }[];
  readonly options: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly internal: boolean;
}

// one error for an unknown network, whoever looks it up (the engine maps it to NOT_FOUND)
export { NetworkNotFoundError };

/** A create the agent refuses (bad name, bad subnet, taken name, overlap); nothing was written. */
export class InvalidNetworkError extends Error {
  override readonly name = 'InvalidNetworkError';
}

export class NetworkExistsError extends Error {
  override readonly name = 'NetworkExistsError';
  constructor(name: string) {
    super(`network with name ${name} already exists`);
  }
}

export const DEFAULT_NETWORK = 'bridge';
export const CLUSTER_NETWORK = 'tsnet';
const BUILTIN_NAMES = new Set([DEFAULT_NETWORK, 'host', 'none', CLUSTER_NETWORK]);
const FILE_PREFIX = 'tsnet-';
const FILE_SUFFIX = '.conflist';
/** docker0's subnet for the default network. */
const DEFAULT_BRIDGE_POOL: IpamPool = { subnet: '172.17.0.0/16', gateway: '172.17.0.1' };
/**
 * Docker's name rule. At most 62 characters: published ports are labelled `<container id>@<network>` in
 * nftables comments of at most 127 bytes, and a container ID is 64.
 */
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,61}$/;

export function validateNetworkName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new InvalidNetworkError(
      `invalid network name ${JSON.stringify(name)}: 1-62 characters, [a-zA-Z0-9][a-zA-Z0-9_.-]*`,
    );
  }
}

export interface NetworkStoreOptions {
  /** --cni-conf-dir */
  readonly confDir: string;
  readonly pluginDirs: PluginDirs;
}

/** A stable ID for the networks without a conflist (host, none). */
function builtinId(name: string): string {
  return createHashHex(`tsnet builtin network ${name}`);
}

function createHashHex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

export class NetworkStore {
  private readonly opts: NetworkStoreOptions;

  constructor(opts: NetworkStoreOptions) {
    this.opts = opts;
  }

  get confDir(): string {
    return this.opts.confDir;
  }

  fileOf(name: string): string {
    validateNetworkName(name);
    return join(this.opts.confDir, `${FILE_PREFIX}${name}${FILE_SUFFIX}`);
  }

  /**
   * The built-in conflists, by name: bridge, and tsnet while the node is in a cluster. Their IDs are stable
   * (derived from the name), so a built-in listed before its file is written keeps its ID afterwards.
   */
  private builtinConflists(): Map<string, Record<string, unknown>> {
    const out = new Map<string, Record<string, unknown>>();
    const meta = (driver: Driver, name: string, pools: IpamPool[]) => ({
      ...this.meta(driver, pools, {}, {}, false),
      id: builtinId(name),
    });
    out.set(
      DEFAULT_NETWORK,
      bridgeConflist(
        DEFAULT_NETWORK,
        meta('bridge', DEFAULT_NETWORK, [DEFAULT_BRIDGE_POOL]),
        { bridge: DEFAULT_BRIDGE, ipMasq: true },
        this.opts.pluginDirs,
      ),
    );
    if (this.inCluster()) {
      const overlay = meta('overlay', CLUSTER_NETWORK, this.clusterPools());
      out.set(CLUSTER_NETWORK, overlayConflist(CLUSTER_NETWORK, overlay, this.opts.pluginDirs));
    }
    return out;
  }

  /**
   * Writes the built-ins' conflists that are missing. Called when networks are first used (create, attach),
   * not at start: an agent that never runs a container leaves the conf dir alone.
   */
  async ensureBuiltins(): Promise<void> {
    for (const [name, conflist] of this.builtinConflists()) {
      if (existsSync(this.fileOf(name))) continue;
      try {
        await this.writeNew(name, conflist);
      } catch (err) {
        if (!(err instanceof NetworkExistsError)) throw err; // written meanwhile: fine
      }
    }
  }

  /** Every network: host and none, then the conflists (tsnet only while the node is in a cluster). */
  async list(): Promise<Network[]> {
    const out: Network[] = [this.hostLike('host'), this.hostLike('none')];
    let names: string[] = [];
    try {
      names = await readdir(this.opts.confDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const builtins = this.builtinConflists();
    const found: Network[] = [];
    for (const file of names) {
      if (!file.startsWith(FILE_PREFIX) || !file.endsWith(FILE_SUFFIX)) continue;
      const network = await this.load(join(this.opts.confDir, file));
      if (!network) continue;
      if (network.name === CLUSTER_NETWORK && !builtins.has(CLUSTER_NETWORK)) continue;
      found.push(network);
    }
    // Built-ins not written yet are listed as they will be written.
    for (const [name, conflist] of builtins) {
      if (found.some((n) => n.name === name)) continue;
      const network = this.fromBytes(
        Buffer.from(`${JSON.stringify(conflist, null, 2)}\n`),
        this.fileOf(name),
      );
      if (network) found.push(network);
    }
    return [...out, ...found.sort((a, b) => byCodeUnits(a.name, b.name))];
  }

  /**
   * Docker's scope of the network named `name`, read synchronously (discovery asks on every container event):
   * cluster for the overlay driver — tsnet and each user `-d overlay` network, which nodes create on their
   * own and which is one network across them by name —, local for the rest and for a name without a conflist.
   */
  scopeOf(name: string): Network['scope'] {
    if (name === CLUSTER_NETWORK) return 'cluster';
    let file: string;
    let bytes: Buffer;
    try {
      file = this.fileOf(name);
      bytes = readFileSync(file);
    } catch {
      return 'local';
    }
    return this.fromBytes(bytes, file)?.scope ?? 'local';
  }

  /** By full ID, then exact name, then unique ID prefix (Docker's order). */
  async find(ref: string): Promise<Network> {
    const all = await this.list();
    const hit =
      all.find((n) => n.id === ref) ??
      all.find((n) => n.name === ref) ??
      (/^[0-9a-f]{1,63}$/.test(ref) ? uniquePrefix(all, ref) : undefined);
    if (!hit) throw new NetworkNotFoundError(ref);
    return hit;
  }

  /** Creates are serialised per conf dir: two at once could both find the same subnet free. */
  create(req: CreateNetworkRequest): Promise<Network> {
    return inTurn(`network-store:${this.opts.confDir}`, () => this.createNow(req));
  }

  private async createNow(req: CreateNetworkRequest): Promise<Network> {
    validateNetworkName(req.name);
    await this.ensureBuiltins();
    if (BUILTIN_NAMES.has(req.name)) throw new NetworkExistsError(req.name);
    const driver = parseDriver(req.driver);
    const existing = await this.list();
    if (existing.some((n) => n.name === req.name)) throw new NetworkExistsError(req.name);
    const pools =
      driver === 'overlay' ? this.overlayPools(req) : choosePools(req.pools, existing, this.clusterNetwork());
    const meta = this.meta(driver, pools, req.labels, req.options, req.internal);
    const conflist = this.conflistFor(req.name, driver, meta, req.options);
    await this.writeNew(req.name, conflist);
    const made = await this.load(this.fileOf(req.name));
    if (!made) throw new Error(`network ${req.name}: the conflist just written cannot be read back`);
    return made;
  }

  /** Deletes a network's conflist; the built-ins stay. Attachments are the caller's to refuse. */
  async remove(network: Network): Promise<void> {
    if (network.builtin) {
      throw new InvalidNetworkError(`${network.name} is a pre-defined network and cannot be removed`);
    }
    await rm(this.fileOf(network.name), { force: true });
    await fsyncDirectory(this.opts.confDir);
  }

  private conflistFor(
    name: string,
    driver: Driver,
    meta: NetworkMeta,
    options: Readonly<Record<string, string>>,
  ): Record<string, unknown> {
    const mtu = mtuOption(options);
    if (driver === 'macvlan') {
      const parent = options['parent'];
      if (parent !== undefined) validateInterfaceOption('parent', parent);
      return macvlanConflist(
        name,
        meta,
        { parent, mode: options['macvlan_mode'], mtu },
        this.opts.pluginDirs,
      );
    }
    if (driver === 'overlay') return overlayConflist(name, meta, this.opts.pluginDirs);
    // Docker's br-<id>; tsnet's stays within 15 bytes and cannot be mistaken for Docker's.
    const bridge = options['com.docker.network.bridge.name'] ?? `tsbr-${meta.id.slice(0, 10)}`;
    validateInterfaceOption('com.docker.network.bridge.name', bridge);
    const masq = options['com.docker.network.bridge.enable_ip_masquerade'];
    return bridgeConflist(
      name,
      meta,
      { bridge, mtu, ipMasq: masq === undefined ? true : masq === 'true' },
      this.opts.pluginDirs,
    );
  }

  private meta(
    driver: Driver,
    pools: readonly IpamPool[],
    labels: Readonly<Record<string, string>>,
    options: Readonly<Record<string, string>>,
    internal: boolean,
  ): NetworkMeta {
    return {
      id: newId(),
      driver,
      created: new Date().toISOString(),
      internal,
      labels: { ...labels },
      options: { ...options },
      pools: [...pools],
    };
  }

  /** A conflist for a new name; a name someone else took meanwhile is refused, nothing overwritten. */
  private async writeNew(name: string, conflist: Record<string, unknown>): Promise<void> {
    makeDirectorySync(this.opts.confDir);
    const created = await createFileExclusive(this.fileOf(name), `${JSON.stringify(conflist, null, 2)}\n`);
    if (!created) throw new NetworkExistsError(name);
  }

  private async load(file: string): Promise<Network | undefined> {
    try {
      return this.fromBytes(await readFile(file), file);
    } catch {
      return undefined;
    }
  }

  private fromBytes(bytes: Buffer, file: string): Network | undefined {
    let list: NetworkConfigList;
    try {
      list = parseConfList(bytes, file);
    } catch {
      return undefined; // not ours to judge: another runtime's broken file is skipped, not fatal
    }
    const raw = JSON.parse(bytes.toString('utf8')) as { args?: { tsnet?: Partial<NetworkMeta> } };
    const meta = raw.args?.tsnet;
    const driver = meta?.driver ?? 'bridge';
    return {
      id: typeof meta?.id === 'string' && /^[0-9a-f]{64}$/.test(meta.id) ? meta.id : createHashHex(file),
      name: list.name,
      driver,
      kind: 'cni',
      scope: driver === 'overlay' ? 'cluster' : 'local',
      builtin: list.name === DEFAULT_NETWORK || list.name === CLUSTER_NETWORK,
      created: meta?.created ?? new Date(0).toISOString(),
      internal: meta?.internal === true,
      labels: meta?.labels ?? {},
      options: meta?.options ?? {},
      pools: list.name === CLUSTER_NETWORK && this.inCluster() ? this.clusterPools() : (meta?.pools ?? []),
      list,
      file,
    };
  }

  private hostLike(name: 'host' | 'none'): Network {
    return {
      id: builtinId(name),
      name,
      driver: name === 'host' ? 'host' : 'null',
      kind: name,
      scope: 'local',
      builtin: true,
      created: new Date(0).toISOString(),
      internal: false,
      labels: {},
      options: {},
      pools: [],
    };
  }

  private inCluster(): boolean {
    return existsSync(this.opts.pluginDirs.subnetFile);
  }

  /** The node's share of the cluster network (subnet.env), as the overlay's pool. */
  private clusterPools(): IpamPool[] {
    try {
      const env = readSubnetEnv(this.opts.pluginDirs.subnetFile);
      if (!env) return [];
      const cidr = parseCidr(env.subnet);
      if (!cidr) return [];
      return [{ subnet: formatSubnet(subnetOf(cidr.address, cidr.prefix)), gateway: formatIp(cidr.address) }];
    } catch {
      return [];
    }
  }

  private clusterNetwork(): string | undefined {
    try {
      return readSubnetEnv(this.opts.pluginDirs.subnetFile)?.network;
    } catch {
      return undefined;
    }
  }

  private overlayPools(req: CreateNetworkRequest): IpamPool[] {
    if (req.pools.some((p) => p.subnet || p.gateway || p.ipRange)) {
      throw new InvalidNetworkError(
        "an overlay network uses the node's subnet of the cluster network: --subnet, --gateway and --ip-range do not apply",
      );
    }
    if (!this.inCluster()) {
      throw new InvalidNetworkError(
        'an overlay network needs the node to be in a cluster (no subnet.env yet)',
      );
    }
    return this.clusterPools();
  }
}

function uniquePrefix(all: readonly Network[], prefix: string): Network | undefined {
  const hits = all.filter((n) => n.id.startsWith(prefix));
  return hits.length === 1 ? hits[0] : undefined;
}

function parseDriver(driver: string): Driver {
  const d = driver === '' ? 'bridge' : driver;
  if (d === 'bridge' || d === 'macvlan' || d === 'overlay') return d;
  throw new InvalidNetworkError(`plugin "${driver}" not found: drivers are bridge, macvlan and overlay`);
}

function mtuOption(options: Readonly<Record<string, string>>): number | undefined {
  const raw = options['com.docker.network.driver.mtu'] ?? options['mtu'];
  if (raw === undefined) return undefined;
  const mtu = Number(raw);
  if (!/^\d+$/.test(raw) || mtu < 68 || mtu > 65535) {
    throw new InvalidNetworkError(`invalid MTU ${JSON.stringify(raw)}: an integer from 68 to 65535`);
  }
  return mtu;
}

function validateInterfaceOption(key: string, value: string): void {
  try {
    validateLinkName(value);
  } catch (err) {
    throw new InvalidNetworkError(`-o ${key}=${value}: ${(err as Error).message}`);
  }
}

// ---- IPAM pools ----

function parseSubnet(text: string): Subnet {
  const cidr = parseCidr(text);
  if (cidr?.address.family !== 4) {
    throw new InvalidNetworkError(
      `invalid subnet ${JSON.stringify(text)}: expected an IPv4 CIDR like 172.20.0.0/16`,
    );
  }
  const subnet = subnetOf(cidr.address, cidr.prefix);
  if (hasHostBits(cidr.address, cidr.prefix)) {
    throw new InvalidNetworkError(`invalid subnet ${text}: it should be ${formatSubnet(subnet)}`);
  }
  if (cidr.prefix > 30) throw new InvalidNetworkError(`invalid subnet ${text}: too small for containers`);
  return subnet;
}

function overlaps(a: Subnet, b: Subnet): boolean {
  const last = (s: Subnet) => s.network + (1n << BigInt(32 - s.prefix)) - 1n;
  return a.family === b.family && a.network <= last(b) && b.network <= last(a);
}

/** Docker's default address pools: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s. */
function* defaultPoolCandidates(): Generator<string> {
  for (let i = 17; i <= 31; i++) yield `172.${i}.0.0/16`;
  for (let i = 0; i < 256; i += 16) yield `192.168.${i}.0/20`;
}

function firstHost(subnet: Subnet): string {
  return formatIp({ family: 4, value: subnet.network + 1n });
}

/**
 * The pools of a new network: each requested one validated (gateway and ip-range inside the subnet) and
 * refused when it overlaps another network's, or a free /16 (then /20) from Docker's pools when none is given.
 */
export function choosePools(
  requested: CreateNetworkRequest['pools'],
  existing: readonly Network[],
  clusterNetwork: string | undefined,
): IpamPool[] {
  const taken: { subnet: Subnet; by: string }[] = existing.flatMap((n) =>
    n.pools.flatMap((p) => {
      const c = parseCidr(p.subnet);
      return c ? [{ subnet: subnetOf(c.address, c.prefix), by: n.name }] : [];
    }),
  );
  const cluster = clusterNetwork ? parseCidr(clusterNetwork) : undefined;
  if (cluster) taken.push({ subnet: subnetOf(cluster.address, cluster.prefix), by: 'the cluster network' });
  const wanted = requested.filter((p) => p.subnet || p.gateway || p.ipRange);
  if (wanted.length === 0) {
    for (const text of defaultPoolCandidates()) {
      const subnet = parseSubnet(text);
      if (!taken.some((t) => overlaps(t.subnet, subnet)))
        return [{ subnet: text, gateway: firstHost(subnet) }];
    }
    throw new InvalidNetworkError(
      'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network',
    );
  }
  const out: IpamPool[] = [];
  for (const p of wanted) {
    if (!p.subnet) {
      throw new InvalidNetworkError(
        `${p.gateway ? `--gateway ${p.gateway}` : `--ip-range ${p.ipRange}`} needs a --subnet`,
      );
    }
    const subnet = parseSubnet(p.subnet);
    const clash = taken.find((t) => overlaps(t.subnet, subnet));
    if (clash) {
      throw new InvalidNetworkError(
        `Pool overlaps with other one on this address space: ${formatSubnet(subnet)} overlaps ${formatSubnet(clash.subnet)} of ${clash.by}`,
      );
    }
    let gateway = firstHost(subnet);
    if (p.gateway) {
      const ip = parseIp(p.gateway);
      if (!ip || !subnetContains(subnet, ip) || ip.value === subnet.network) {
        throw new InvalidNetworkError(
          `no matching subnet for gateway ${p.gateway}: not a host of ${p.subnet}`,
        );
      }
      gateway = formatIp(ip);
    }
    let ipRange: string | undefined;
    if (p.ipRange) {
      const range = parseCidr(p.ipRange);
      const rangeNet = range ? subnetOf(range.address, range.prefix) : undefined;
      if (!range || !rangeNet || range.prefix < subnet.prefix || !subnetContains(subnet, range.address)) {
        throw new InvalidNetworkError(`no matching subnet for range ${p.ipRange}: not inside ${p.subnet}`);
      }
      if (hasHostBits(range.address, range.prefix)) {
        throw new InvalidNetworkError(
          `invalid ip-range ${p.ipRange}: it should be ${formatSubnet(rangeNet)}`,
        );
      }
      ipRange = formatSubnet(rangeNet);
    }
    taken.push({ subnet, by: 'another pool of this network' });
    out.push({ subnet: formatSubnet(subnet), gateway, ...(ipRange ? { ipRange } : {}) });
  }
  return out;
}
