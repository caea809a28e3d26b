// tsnetctl's cluster view: nodes, node NAME, leases, endpoints, routes, diagnose A B and the `ps -A` listing,
// from the store (and the kernels this machine reaches), every one printable as table, wide, json or yaml.
import { type Flags, flagString, UsageError } from '../../cli/command-line.ts';
import type { ContainerEntry } from '../../discovery/entry.ts';
import { Handle } from '../../netlink/handle.ts';
import { peerEntries, peerFromLease } from '../../overlay/index.ts';
import { diagnoseNode } from '../diagnose.ts';
import { outputFormat, render, textTable } from '../format/structured.ts';
import type { OperatorInput, OperatorRunner } from '../operator.ts';
import { withStore } from '../store.ts';
import { diagnosePath, type PathDiagnosis } from './path.ts';
import { nodeReach, parseNodeNetns } from './reach.ts';
import { type ClusterSnapshot, findContainer, type NodeView, readClusterSnapshot } from './snapshot.ts';

function print(flags: Flags, data: unknown, text: (wide: boolean) => string): void {
  process.stdout.write(render(outputFormat(flags), { data, text }));
}

const snapshotOf = (flags: Flags): Promise<ClusterSnapshot> => withStore(flags, readClusterSnapshot);
const dash = (v: string | number | undefined): string => (v === undefined || v === '' ? '-' : String(v));
/** TTL left of a store lease: none for a key bound to no lease (it never expires). */
const ttlText = (leaseId: string | undefined, left: number | undefined): string =>
  leaseId === undefined ? 'none' : left === undefined ? 'expired' : `${left}s`;

function warnMalformed(snapshot: ClusterSnapshot): void {
  for (const m of snapshot.malformed) process.stderr.write(`tsnetctl: skipping a malformed entry: ${m}\n`);
}

function nodesTable(nodes: readonly NodeView[], wide: boolean): string {
  if (nodes.length === 0) return 'no node holds a lease';
  return textTable([
    [
      'NAME',
      'PUBLIC IP',
      'SUBNET',
      'VTEP MAC',
      'LEASE TTL',
      'CONTAINERS',
      'READY',
      ...(wide ? ['BACKEND'] : []),
    ],
    ...nodes.map((n) => [
      dash(n.name),
      dash(n.publicIp),
      dash(n.subnet),
      dash(n.vtepMac),
      n.subnet === undefined ? '-' : ttlText(n.leaseId, n.ttlLeft),
      String(n.containers),
      n.ready ? 'yes' : 'no',
      ...(wide ? [n.subnet === undefined ? '-' : 'vxlan'] : []),
    ]),
  ]);
}

async function nodes({ flags }: OperatorInput): Promise<void> {
  const snapshot = await snapshotOf(flags);
  warnMalformed(snapshot);
  print(flags, snapshot.nodes, (wide) => nodesTable(snapshot.nodes, wide));
}

/** A node by its name, public IP or subnet. */
function findNode(nodes: readonly NodeView[], ref: string): NodeView {
  const found = nodes.find((n) => n.name === ref || n.publicIp === ref || n.subnet === ref);
  if (!found) {
    const known = nodes.map((n) => n.name ?? n.publicIp).join(', ');
    throw new UsageError(`no node ${ref} in the cluster (known: ${known || 'none'})`);
  }
  return found;
}

async function clusterNode({ flags, args }: OperatorInput): Promise<void> {
  const [ref, ...rest] = args;
  if (ref === undefined || rest.length > 0) throw new UsageError('node takes one NAME (or none: this node)');
  const snapshot = await snapshotOf(flags);
  const found = findNode(snapshot.nodes, ref);
  const containers = snapshot.containers.filter((c) => c.node === found.name);
  print(flags, { node: found, containers }, (wide) =>
    [
      nodesTable([found], wide),
      '',
      containers.length === 0 ? 'no container published' : containersTable(containers, wide),
    ].join('\n'),
  );
}

async function leases({ flags }: OperatorInput): Promise<void> {
  const { leases: all } = await snapshotOf(flags);
  print(flags, all, (wide) =>
    all.length === 0
      ? 'no node holds a lease'
      : textTable([
          [
            'SUBNET',
            'PUBLIC IP',
            'VTEP MAC',
            'BACKEND',
            'TTL LEFT',
            ...(wide ? ['LEASE ID', 'REVISION'] : []),
          ],
          ...all.map((l) => [
            l.subnet,
            l.publicIp,
            l.vtepMac,
            l.backend,
            ttlText(l.leaseId, l.ttlLeft),
            ...(wide ? [dash(l.leaseId), String(l.modRevision)] : []),
          ]),
        ]),
  );
}

export interface EndpointRow {
  readonly container: string;
  readonly id: string;
  readonly node: string;
  readonly network: string;
  readonly ip: string | undefined;
  readonly ipv6: string | undefined;
  readonly mac: string | undefined;
  readonly aliases: readonly string[];
  readonly ports: readonly string[];
  readonly state: string;
}

const portText = (p: ContainerEntry['ports'][number]): string =>
  `${p.hostIp === '' ? '' : `${p.hostIp}:`}${p.hostPort}->${p.containerPort}/${p.protocol}`;

export function endpointRows(
  containers: readonly ContainerEntry[],
  filter: { node?: string; network?: string },
) {
  return containers
    .filter((c) => filter.node === undefined || c.node === filter.node)
    .flatMap((c) =>
      c.endpoints
        .filter(
          (e) =>
            filter.network === undefined || e.network === filter.network || e.networkId === filter.network,
        )
        .map(
          (e): EndpointRow => ({
            container: c.name,
            id: c.id,
            node: c.node,
            network: e.network,
            ip: e.ipv4,
            ipv6: e.ipv6,
            mac: e.mac,
            aliases: e.aliases,
            ports: c.ports.map(portText),
            state: c.state,
          }),
        ),
    );
}

async function endpoints({ flags }: OperatorInput): Promise<void> {
  const snapshot = await snapshotOf(flags);
  warnMalformed(snapshot);
  const node = typeof flags['node'] === 'string' ? flags['node'] : undefined;
  const network = typeof flags['network'] === 'string' ? flags['network'] : undefined;
  const rows = endpointRows(snapshot.containers, {
    ...(node ? { node } : {}),
    ...(network ? { network } : {}),
  });
  print(flags, rows, (wide) =>
    rows.length === 0
      ? 'no endpoint'
      : textTable([
          [
            'CONTAINER',
            'NODE',
            'NETWORK',
            'IP',
            'MAC',
            'ALIASES',
            'PORTS',
            ...(wide ? ['IPV6', 'STATE', 'CONTAINER ID'] : []),
          ],
          ...rows.map((r) => [
            r.container,
            r.node,
            r.network,
            dash(r.ip),
            dash(r.mac),
            dash(r.aliases.join(',')),
            dash(r.ports.join(',')),
            ...(wide ? [dash(r.ipv6), r.state, r.id.slice(0, 12)] : []),
          ]),
        ]),
  );
}

// --- ps --all-nodes ---------------------------------------------------------------------------------------

export interface ClusterContainerRow {
  readonly id: string;
  readonly name: string;
  readonly node: string;
  readonly image: string;
  readonly state: string;
  readonly networks: readonly string[];
  readonly ips: readonly string[];
  readonly ports: readonly string[];
}

/**
 * Every container of the cluster with its node, from the discovery entries in the store (so it answers while
 * the local agent is down): what `ps --all-nodes` / `ps -A` lists. Takes the operator's store flags
 * (--etcd-endpoints, --etcd-prefix, --data-dir, ...).
 */
export async function clusterContainers(flags: Flags): Promise<ClusterContainerRow[]> {
  const snapshot = await snapshotOf(flags);
  warnMalformed(snapshot);
  return snapshot.containers.map((c) => ({
    id: c.id,
    name: c.name,
    node: c.node,
    image: c.image,
    state: c.state,
    networks: c.endpoints.map((e) => e.network),
    ips: c.endpoints.flatMap((e) => (e.ipv4 ? [e.ipv4] : [])),
    ports: c.ports.map(portText),
  }));
}

function containersTable(containers: readonly ContainerEntry[], wide: boolean): string {
  return textTable([
    ['CONTAINER ID', 'NAME', 'NODE', 'IMAGE', 'STATE', 'IP', ...(wide ? ['NETWORKS', 'PORTS'] : [])],
    ...containers.map((c) => [
      wide ? c.id : c.id.slice(0, 12),
      c.name,
      c.node,
      c.image,
      c.state,
      dash(c.endpoints.flatMap((e) => (e.ipv4 ? [e.ipv4] : [])).join(',')),
      ...(wide
        ? [dash(c.endpoints.map((e) => e.network).join(',')), dash(c.ports.map(portText).join(','))]
        : []),
    ]),
  ]);
}

/** `ps -A` printed (table, wide, json, yaml): for the `ps` command to call with its flags. */
export async function printClusterContainers(flags: Flags): Promise<void> {
  const snapshot = await snapshotOf(flags);
  warnMalformed(snapshot);
  print(flags, snapshot.containers, (wide) => containersTable(snapshot.containers, wide));
}

// --- routes -------------------------------------------------------------------------------------------------

export interface RouteRow {
  readonly node: string;
  readonly kind: 'route' | 'neighbour' | 'fdb' | 'vtep' | 'node';
  readonly entry: string;
  readonly status: 'ok' | 'missing' | 'foreign' | 'not-checked';
}

async function routes({ flags, nodeNetns }: OperatorInput): Promise<void> {
  const snapshot = await snapshotOf(flags);
  const vtepName = flagString(flags, 'vxlan-name', 'tsnet.1');
  const only = typeof flags['node'] === 'string' ? findNode(snapshot.nodes, flags['node']) : undefined;
  const reach = await nodeReach(snapshot.nodes, parseNodeNetns(nodeNetns), netnsOf(flags));
  const peers = snapshot.leases.map((l) =>
    peerFromLease({
      subnet: l.subnet,
      key: '',
      attrs: { PublicIP: l.publicIp, BackendType: 'vxlan', BackendData: { VtepMAC: l.vtepMac } },
      modRevision: l.modRevision,
    }),
  );
  const rows: RouteRow[] = [];
  for (const n of only ? [only] : snapshot.nodes.filter((x) => x.subnet !== undefined)) {
    const label = n.name ?? n.publicIp ?? '?';
    const ref = n.name === undefined ? undefined : reach.nodeNetns(n.name);
    if (!ref) {
      rows.push({
        node: label,
        kind: 'node',
        entry: 'not checked from here (pass --node-netns)',
        status: 'not-checked',
      });
      continue;
    }
    const d = await diagnoseNode(ref.path, vtepName, peers, n.subnet);
    if (!d.vtep) rows.push({ node: label, kind: 'vtep', entry: vtepName, status: 'missing' });
    for (const p of d.peers) {
      const e = peerEntries(p);
      const st = (ok: boolean) => (ok ? 'ok' : 'missing') as RouteRow['status'];
      rows.push(
        { node: label, kind: 'neighbour', entry: `${e.vtepIp} lladdr ${e.vtepMac}`, status: st(p.neighbour) },
        { node: label, kind: 'fdb', entry: `${e.vtepMac} dst ${e.publicIp}`, status: st(p.fdb) },
        { node: label, kind: 'route', entry: `${e.subnet} via ${e.vtepIp} onlink`, status: st(p.route) },
      );
    }
    for (const r of d.foreignRoutes) rows.push({ node: label, kind: 'route', entry: r, status: 'foreign' });
    for (const f of d.foreignNeighbours)
      rows.push({ node: label, kind: 'neighbour', entry: `${f.ip} lladdr ${f.mac}`, status: 'foreign' });
    for (const f of d.foreignFdb)
      rows.push({ node: label, kind: 'fdb', entry: `${f.mac} dst ${f.dst}`, status: 'foreign' });
  }
  print(flags, rows, () =>
    rows.length === 0
      ? 'no node to check'
      : textTable([
          ['NODE', 'KIND', 'ENTRY', 'STATUS'],
          ...rows.map((r) => [r.node, r.kind, r.entry, r.status === 'ok' ? 'ok' : r.status.toUpperCase()]),
        ]),
  );
  if (rows.some((r) => r.status === 'missing' || r.status === 'foreign')) process.exitCode = 1;
}

function netnsOf(flags: Flags): string | undefined {
  return typeof flags['netns'] === 'string' ? flags['netns'] : undefined;
}

// --- diagnose A B -------------------------------------------------------------------------------------------

function pathText(d: PathDiagnosis): string {
  const end = (e: PathDiagnosis['from']) => `${e.name} (${e.ip} on ${e.node})`;
  const lines = [
    `path ${end(d.from)} -> ${end(d.to)} on network ${d.from.network}`,
    textTable([
      ['HOP', 'WHERE', 'STATUS', 'DETAIL'],
      ...d.hops.map((h) => [h.id, h.where, h.status === 'broken' ? 'BROKEN' : h.status, h.detail]),
    ]),
  ];
  if (d.broken)
    lines.push(
      `broken hop: ${d.broken.id} on ${d.broken.where}: ${d.broken.detail}`,
      `what to do: ${d.broken.fix ?? ''}`,
    );
  else if (d.hops.every((h) => h.status === 'not-checked'))
    lines.push(
      `nothing checked from here: run diagnose on ${d.from.node} or ${d.to.node}, or pass --node-netns`,
    );
  else if (d.hops.some((h) => h.status === 'not-checked'))
    lines.push('no broken hop among those checked from here');
  else lines.push('every hop is fine');
  return lines.join('\n');
}

async function diagnoseContainers({ flags, args, nodeNetns }: OperatorInput): Promise<void> {
  const [refA, refB, ...rest] = args;
  if (refA === undefined || refB === undefined || rest.length > 0)
    throw new UsageError('diagnose takes two containers (A B), or none to check this node');
  const mapped = parseNodeNetns(nodeNetns);
  const snapshot = await snapshotOf(flags);
  const a = findContainer(snapshot.containers, refA);
  const b = findContainer(snapshot.containers, refB);
  const reach = await nodeReach(snapshot.nodes, mapped, netnsOf(flags));
  const d = await diagnosePath(
    {
      leases: snapshot.leases,
      vtepName: flagString(flags, 'vxlan-name', 'tsnet.1'),
      ...reach,
      withHandle: (ref, fn) => Handle.with(ref.path, fn),
    },
    a,
    b,
  );
  print(flags, d, () => pathText(d));
  if (d.broken) process.exitCode = 1;
}

export const CLUSTER_RUNNERS = {
  nodes,
  leases,
  endpoints,
  routes,
  clusterNode,
  diagnosePath: diagnoseContainers,
} satisfies Record<string, OperatorRunner>;
