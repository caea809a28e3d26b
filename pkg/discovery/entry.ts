// One container as the cluster sees it: what an agent publishes under `<prefix>/containers/<node>/<id>` for
// every container it runs on a network, and how that key and value are read back (validated: a value
// another agent wrote is input like any other).

export interface EndpointEntry {
  /** the network's name on the node (bridge, tsnet, a user network) */
  readonly network: string;
  readonly networkId: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
  readonly mac?: string;
  /** --network-alias names on this network */
  readonly aliases: readonly string[];
  /**
   * local: the network is this node's alone (a bridge, macvlan), so only containers of the same node share
   * it; cluster: one network across nodes (the overlay). Absent: local.
   */
  readonly scope?: 'local' | 'cluster';
}

export interface PublishedPortEntry {
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: string;
}

export interface ContainerEntry {
  readonly id: string;
  /** without Docker's leading "/" */
  readonly name: string;
  readonly node: string;
  readonly image: string;
  /** created, running, paused, restarting, exited */
  readonly state: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly endpoints: readonly EndpointEntry[];
  readonly ports: readonly PublishedPortEntry[];
  /**
   * The container's network namespace as a path on its node (e.g. /run/netns/NAME, /proc/PID/ns/net): where
   * `tsnetctl diagnose` reads its interface and routes. Absent: not known (the engine did not say).
   */
  readonly sandbox?: string;
}

export class DiscoveryEntryError extends Error {
  override name = 'DiscoveryEntryError';
}

const ID = /^[0-9a-f]{64}$/;
/** Node names are DNS labels or dotted names (hostnames), as the agent's --node-name takes them. */
const NODE = /^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,252})$/;

export function containersPrefix(prefix: string): string {
  return `${prefix}/containers/`;
}

export function nodeContainersPrefix(prefix: string, node: string): string {
  return `${containersPrefix(prefix)}${node}/`;
}

export function entryKey(prefix: string, node: string, id: string): string {
  if (!NODE.test(node)) throw new DiscoveryEntryError(`invalid node name ${JSON.stringify(node)}`);
  if (!ID.test(id)) throw new DiscoveryEntryError(`invalid container ID ${JSON.stringify(id)}`);
  return `${nodeContainersPrefix(prefix, node)}${id}`;
}

/** The node and ID a key names, or undefined for a key that is not a container entry. */
export function parseEntryKey(prefix: string, key: string): { node: string; id: string } | undefined {
  const base = containersPrefix(prefix);
  if (!key.startsWith(base)) return undefined;
  const [node, id, ...rest] = key.slice(base.length).split('/');
  if (rest.length || node === undefined || id === undefined || !NODE.test(node) || !ID.test(id))
    return undefined;
  return { node, id };
}

export function encodeEntry(entry: ContainerEntry): string {
  return JSON.stringify(entry);
}

function stringField(o: Record<string, unknown>, field: string, where: string): string {
  const v = o[field];
  if (typeof v !== 'string') throw new DiscoveryEntryError(`${where}: ${field} is not a string`);
  return v;
}

function optionalString(o: Record<string, unknown>, field: string, where: string): string | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new DiscoveryEntryError(`${where}: ${field} is not a string`);
  return v;
}

function stringArray(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new DiscoveryEntryError(`${what} is not a list of strings`);
  return v as string[];
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new DiscoveryEntryError(`${what} is not an object`);
  return v as Record<string, unknown>;
}

/** Reads a value written by encodeEntry on some node; the key's node and ID must match the value's. */
export function decodeEntry(prefix: string, key: string, value: string): ContainerEntry {
  const where = `container entry ${key}`;
  const names = parseEntryKey(prefix, key);
  if (!names) throw new DiscoveryEntryError(`${where}: not a container entry key`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new DiscoveryEntryError(`${where}: not JSON (${(err as Error).message})`);
  }
  const o = record(parsed, where);
  const id = stringField(o, 'id', where);
  const node = stringField(o, 'node', where);
  if (id !== names.id || node !== names.node)
    throw new DiscoveryEntryError(
      `${where}: the value names ${node}/${id}, the key ${names.node}/${names.id}`,
    );
  const labels = record(o['labels'] ?? {}, `${where}: labels`);
  for (const [k, v] of Object.entries(labels))
    if (typeof v !== 'string') throw new DiscoveryEntryError(`${where}: label ${k} is not a string`);
  if (!Array.isArray(o['endpoints'])) throw new DiscoveryEntryError(`${where}: endpoints is not a list`);
  const endpoints = (o['endpoints'] as unknown[]).map((e, i) => {
    const ew = `${where}: endpoint ${i}`;
    const r = record(e, ew);
    const ipv4 = optionalString(r, 'ipv4', ew);
    const ipv6 = optionalString(r, 'ipv6', ew);
    const mac = optionalString(r, 'mac', ew);
    const scope = optionalString(r, 'scope', ew);
    if (scope !== undefined && scope !== 'local' && scope !== 'cluster')
      throw new DiscoveryEntryError(`${ew}: scope ${JSON.stringify(scope)} is neither local nor cluster`);
    return {
      network: stringField(r, 'network', ew),
      networkId: stringField(r, 'networkId', ew),
      ...(ipv4 !== undefined ? { ipv4 } : {}),
      ...(ipv6 !== undefined ? { ipv6 } : {}),
      ...(mac !== undefined ? { mac } : {}),
      ...(scope !== undefined ? { scope: scope as 'local' | 'cluster' } : {}),
      aliases: stringArray(r['aliases'] ?? [], `${ew}: aliases`),
    };
  });
  const ports = (Array.isArray(o['ports']) ? (o['ports'] as unknown[]) : []).map((p, i) => {
    const pw = `${where}: port ${i}`;
    const r = record(p, pw);
    const hostPort = r['hostPort'];
    const containerPort = r['containerPort'];
    if (typeof hostPort !== 'number' || typeof containerPort !== 'number')
      throw new DiscoveryEntryError(`${pw}: ports are not numbers`);
    return {
      hostIp: stringField(r, 'hostIp', pw),
      hostPort,
      containerPort,
      protocol: stringField(r, 'protocol', pw),
    };
  });
  const sandbox = optionalString(o, 'sandbox', where);
  if (sandbox !== undefined && !sandbox.startsWith('/'))
    throw new DiscoveryEntryError(`${where}: sandbox ${JSON.stringify(sandbox)} is not an absolute path`);
  return {
    id,
    name: stringField(o, 'name', where),
    node,
    image: stringField(o, 'image', where),
    state: stringField(o, 'state', where),
    labels: labels as Record<string, string>,
    endpoints,
    ports,
    ...(sandbox !== undefined ? { sandbox } : {}),
  };
}

/** Same content (the publisher skips a write that would change nothing). */
export function sameEntry(a: ContainerEntry, b: ContainerEntry): boolean {
  return encodeEntry(a) === encodeEntry(b);
}
