// `tsnetctl diagnose A B`: the path a packet from container A to container B takes, hop by hop, read from the
// kernels it crosses (A's namespace, A's node, the underlay, B's node, B's namespace) and compared with what
// the store says the overlay must hold. The first broken hop is the answer, with what to do about it. A hop on a
// node this machine cannot reach is "not checked" rather than guessed.
import type { ContainerEntry, EndpointEntry } from '../../discovery/entry.ts';
import type { Handle } from '../../netlink/handle.ts';
import type { Link } from '../../netlink/link.ts';
import type { Route } from '../../netlink/route.ts';
import { peerEntries, TSNET_ROUTE_PROTOCOL } from '../../overlay/index.ts';
import { cidrContains, type LeaseView, leaseOfContainer } from './snapshot.ts';

export const HOP_IDS = [
  'a-interface',
  'a-route',
  'a-veth',
  'node-route',
  'neighbour',
  'fdb',
  'underlay',
  'b-underlay',
  'b-route',
  'b-bridge',
  'b-veth',
  'b-interface',
] as const;
export type HopId = (typeof HOP_IDS)[number];

export interface Hop {
  readonly id: HopId;
  /** Where it was read: a node name, or "A"/"B" with the container's name. */
  readonly where: string;
  readonly status: 'ok' | 'broken' | 'not-checked';
  readonly detail: string;
  /** What to do, for a broken hop. */
  readonly fix?: string;
}

export interface PathEnd {
  readonly name: string;
  readonly id: string;
  readonly node: string;
  readonly network: string;
  readonly ip: string;
  readonly sandbox: string | undefined;
}

export interface PathDiagnosis {
  readonly from: PathEnd;
  readonly to: PathEnd;
  readonly hops: readonly Hop[];
  /** The first broken hop; undefined when none is (some may not have been checked). */
  readonly broken: Hop | undefined;
}

/** How to open a namespace: a path, or this process's own (undefined). */
export type NetnsRef = { readonly path: string | undefined };

export interface PathContext {
  readonly leases: readonly LeaseView[];
  readonly vtepName: string;
  /** A node's namespace as reachable from here; undefined: it is not. */
  readonly nodeNetns: (node: string) => NetnsRef | undefined;
  /** A container's namespace as reachable from here; undefined (with the reason) when it is not. */
  readonly sandboxNetns: (entry: ContainerEntry) => NetnsRef | { unreachable: string };
  /** Runs `fn` on a netlink handle in the namespace. */
  readonly withHandle: <T>(ref: NetnsRef, fn: (h: Handle) => Promise<T>) => Promise<T>;
}

const BR_STATE_FORWARDING = 3;
const BR_STATES = ['disabled', 'listening', 'learning', 'forwarding', 'blocking'];
const IF_OPER_DOWN = 2;
const RTN_UNICAST = 1;

/** The network both containers are on (the overlay first), with each one's endpoint on it. */
function sharedNetwork(a: ContainerEntry, b: ContainerEntry): { a: EndpointEntry; b: EndpointEntry } {
  const pairs = a.endpoints
    .filter((e) => e.ipv4)
    .flatMap((ea) => {
      const eb = b.endpoints.find((e) => e.networkId === ea.networkId && e.ipv4);
      return eb ? [{ a: ea, b: eb }] : [];
    })
    .filter((p) => p.a.scope === 'cluster' || a.node === b.node);
  const pick = pairs.find((p) => p.a.scope === 'cluster') ?? pairs[0];
  if (!pick)
    throw new Error(
      `${a.name} and ${b.name} share no network they can talk on ` +
        `(${a.name}: ${a.endpoints.map((e) => e.network).join(', ') || 'none'}; ` +
        `${b.name}: ${b.endpoints.map((e) => e.network).join(', ') || 'none'})`,
    );
  return pick;
}

/** The route the kernel picks for `ip` in the main table: longest prefix, then lowest metric. */
export function routeFor(routes: readonly Route[], ip: string): Route | undefined {
  return routes
    .filter((r) => r.type === RTN_UNICAST && cidrContains(r.dst, ip))
    .sort(
      (x, y) =>
        Number(y.dst.split('/')[1]) - Number(x.dst.split('/')[1]) || (x.priority ?? 0) - (y.priority ?? 0),
    )[0];
}

interface SandboxFacts {
  readonly link: Link | undefined;
  readonly routes: Route[];
}

async function sandboxFacts(h: Handle, ip: string): Promise<SandboxFacts> {
  const addr = (await h.addrList({ family: 4 })).find((a) => a.address === ip);
  const link = addr ? await h.linkFind(addr.index) : undefined;
  return { link, routes: await h.routeList({ family: 4 }) };
}

interface NodeFacts {
  readonly links: Link[];
  readonly routes: Route[];
  readonly addrs: { index: number; address: string }[];
  readonly neighbours: { ip?: string; mac?: string }[];
  readonly fdb: { mac?: string; dst?: string }[];
  readonly vtep: Link | undefined;
}

async function nodeFacts(h: Handle, vtepName: string): Promise<NodeFacts> {
  const links = await h.linkList();
  const vtep = links.find((l) => l.name === vtepName);
  return {
    links,
    vtep,
    routes: await h.routeList({ family: 4 }),
    addrs: (await h.addrList({ family: 4 })).map((a) => ({ index: a.index, address: a.address })),
    neighbours: vtep ? await h.neighList({ index: vtep.index, family: 4 }) : [],
    fdb: vtep ? await h.fdbList({ index: vtep.index }) : [],
  };
}

/** Up, with a carrier (operstate not DOWN). */
const linkCarries = (l: Link): boolean => l.up && l.operState !== IF_OPER_DOWN;

const linkState = (l: Link): string =>
  `${l.up ? 'up' : 'DOWN'}${l.up && l.operState === IF_OPER_DOWN ? ' (no carrier)' : ''}`;

/** The host side of a container's veth and the bridge it is a port of, checked as one hop. */
function vethHop(
  id: 'a-veth' | 'b-veth',
  where: string,
  facts: NodeFacts,
  peerIndex: number | undefined,
): { hop: Hop; bridge: Link | undefined } {
  const veth = peerIndex === undefined ? undefined : facts.links.find((l) => l.index === peerIndex);
  if (!veth)
    return {
      hop: hop(
        id,
        where,
        `the container's veth peer (index ${peerIndex ?? '?'}) is not on the node`,
        'the container lost its host veth: reconnect it to the network (or restart it)',
      ),
      bridge: undefined,
    };
  const bridge = facts.links.find((l) => l.index === veth.masterIndex);
  const state = veth.bridgePort?.state;
  const stateName = state === undefined ? 'unknown' : (BR_STATES[state] ?? String(state));
  const detail = `${veth.name} ${linkState(veth)}, port of ${bridge?.name ?? 'no bridge'} (${stateName})`;
  if (!veth.up)
    return {
      hop: hop(id, where, detail, `bring the host veth up: ip link set ${veth.name} up`),
      bridge,
    };
  if (!bridge)
    return {
      hop: hop(id, where, detail, `${veth.name} is no bridge port: reconnect the container to the network`),
      bridge,
    };
  if (state !== BR_STATE_FORWARDING)
    return {
      hop: hop(
        id,
        where,
        detail,
        `the bridge port does not forward: bridge link set dev ${veth.name} state 3`,
      ),
      bridge,
    };
  return { hop: hop(id, where, detail), bridge };
}

function interfaceHop(id: 'a-interface' | 'b-interface', where: string, ip: string, s: SandboxFacts): Hop {
  if (!s.link)
    return hop(
      id,
      where,
      `no interface holds ${ip}`,
      'the container lost its address: reconnect it to the network (or restart it)',
    );
  const detail = `${s.link.name} ${linkState(s.link)} with ${ip}`;
  return s.link.up
    ? hop(id, where, detail)
    : hop(id, where, detail, `bring it up in the container: ip link set ${s.link.name} up`);
}

/** A hop read from the kernel: broken when there is something to do about it. */
function hop(id: HopId, where: string, detail: string, fix?: string): Hop {
  return fix === undefined
    ? { id, where, status: 'ok', detail }
    : { id, where, status: 'broken', detail, fix };
}

const notChecked = (id: HopId, where: string, why: string): Hop => ({
  id,
  where,
  status: 'not-checked',
  detail: why,
});

export async function diagnosePath(
  ctx: PathContext,
  a: ContainerEntry,
  b: ContainerEntry,
): Promise<PathDiagnosis> {
  const shared = sharedNetwork(a, b);
  const end = (e: ContainerEntry, ep: EndpointEntry): PathEnd => ({
    name: e.name,
    id: e.id,
    node: e.node,
    network: ep.network,
    ip: ep.ipv4 ?? '',
    sandbox: e.sandbox,
  });
  const from = end(a, shared.a);
  const to = end(b, shared.b);
  const hops: Hop[] = [];
  const aWhere = `${a.name} on ${a.node}`;
  const bWhere = `${b.name} on ${b.node}`;
  const remote = (node: string) => `not checked from here (run diagnose on ${node}, or pass --node-netns)`;

  // A's namespace, then A's node.
  const aNs = ctx.sandboxNetns(a);
  const aSandbox = 'path' in aNs ? await ctx.withHandle(aNs, (h) => sandboxFacts(h, from.ip)) : undefined;
  if (!aSandbox) {
    const why = 'unreachable' in aNs ? aNs.unreachable : '';
    hops.push(notChecked('a-interface', aWhere, why), notChecked('a-route', aWhere, why));
  } else {
    hops.push(interfaceHop('a-interface', aWhere, from.ip, aSandbox));
    const r = routeFor(aSandbox.routes, to.ip);
    const via = r ? `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}` : '';
    if (!r || (aSandbox.link && r.oif !== aSandbox.link.index))
      hops.push(
        hop(
          'a-route',
          aWhere,
          r ? `${to.ip} is routed by ${via} off ${from.ip}'s interface` : `no route to ${to.ip}`,
          `restore the container's route (e.g. ip route add ${r ? r.dst : 'default'} via <its gateway> dev ${aSandbox.link?.name ?? 'eth0'} in its namespace), or reconnect it`,
        ),
      );
    else hops.push(hop('a-route', aWhere, `${to.ip} by ${via}`));
  }

  const naRef = ctx.nodeNetns(a.node);
  const na = naRef ? await ctx.withHandle(naRef, (h) => nodeFacts(h, ctx.vtepName)) : undefined;
  if (!na) hops.push(notChecked('a-veth', a.node, remote(a.node)));
  else hops.push(vethHop('a-veth', a.node, na, aSandbox?.link?.parentIndex).hop);

  // Across the overlay, when B is on another node.
  const sameNode = a.node === b.node;
  const bLease = leaseOfContainer(ctx.leases, b);
  if (!sameNode) {
    const overlay = ['node-route', 'neighbour', 'fdb', 'underlay'] as const;
    if (!bLease) {
      for (const id of overlay)
        hops.push(
          hop(
            id,
            a.node,
            `no subnet lease holds ${to.ip}: ${b.node} is not in the cluster (lease expired?)`,
            `check ${b.node}'s agent runs and renews its lease (tsnetctl leases)`,
          ),
        );
    } else if (!na) {
      for (const id of overlay) hops.push(notChecked(id, a.node, remote(a.node)));
    } else {
      hops.push(...overlayHops(na, a.node, b.node, bLease, to.ip, ctx.vtepName));
    }
  }

  // B's node, then B's namespace.
  const bNs = ctx.sandboxNetns(b);
  const bSandbox = 'path' in bNs ? await ctx.withHandle(bNs, (h) => sandboxFacts(h, to.ip)) : undefined;
  const nbRef = ctx.nodeNetns(b.node);
  const nb = sameNode
    ? na
    : nbRef
      ? await ctx.withHandle(nbRef, (h) => nodeFacts(h, ctx.vtepName))
      : undefined;
  if (!nb) {
    for (const id of ['b-underlay', 'b-route', 'b-bridge', 'b-veth'] as const)
      if (!sameNode || id !== 'b-underlay') hops.push(notChecked(id, b.node, remote(b.node)));
  } else {
    if (!sameNode && bLease) hops.push(underlayOfNodeHop(nb, b.node, bLease.publicIp, ctx.vtepName));
    const veth = vethHop('b-veth', b.node, nb, bSandbox?.link?.parentIndex);
    const r = routeFor(nb.routes, to.ip);
    const oif = r ? nb.links.find((l) => l.index === r.oif) : undefined;
    const bridge = veth.bridge;
    if (!r || (bridge && r.oif !== bridge.index))
      hops.push(
        hop(
          'b-route',
          b.node,
          r
            ? `${to.ip} is routed by ${r.dst} dev ${oif?.name ?? r.oif}, not the bridge`
            : `no route to ${to.ip}`,
          `the bridge's connected route is gone: check the bridge's address (ip addr show ${bridge?.name ?? ''})`,
        ),
      );
    else hops.push(hop('b-route', b.node, `${to.ip} by ${r.dst} dev ${oif?.name ?? r.oif}`));
    if (!bridge) hops.push(notChecked('b-bridge', b.node, "the container's veth is on no bridge"));
    else
      hops.push(
        hop(
          'b-bridge',
          b.node,
          `${bridge.name} ${bridge.up ? 'up' : 'DOWN'}`,
          bridge.up ? undefined : `bring the bridge up: ip link set ${bridge.name} up`,
        ),
      );
    hops.push(veth.hop);
  }
  if (!bSandbox) hops.push(notChecked('b-interface', bWhere, 'unreachable' in bNs ? bNs.unreachable : ''));
  else hops.push(interfaceHop('b-interface', bWhere, to.ip, bSandbox));

  return { from, to, hops, broken: hops.find((h) => h.status === 'broken') };
}

function overlayHops(
  na: NodeFacts,
  nodeA: string,
  nodeB: string,
  lease: LeaseView,
  ip: string,
  vtepName: string,
): Hop[] {
  const e = peerEntries({ subnet: lease.subnet, publicIp: lease.publicIp, vtepMac: lease.vtepMac });
  const agentFix = `${nodeA}'s agent programs it: check it runs (tsnetctl health on ${nodeA}) or restart it`;
  const vtep = na.vtep;
  if (!vtep)
    return (['node-route', 'neighbour', 'fdb', 'underlay'] as const).map((id) =>
      hop(id, nodeA, `no VTEP ${vtepName} on ${nodeA}`, agentFix),
    );
  const hops: Hop[] = [];
  const route = na.routes.find(
    (r) =>
      r.dst === e.subnet &&
      r.gateway === e.vtepIp &&
      r.oif === vtep.index &&
      r.protocol === TSNET_ROUTE_PROTOCOL,
  );
  const picked = routeFor(na.routes, ip);
  if (!route)
    hops.push(
      hop(
        'node-route',
        nodeA,
        `no route ${e.subnet} via ${e.vtepIp} dev ${vtepName} (${nodeB}'s subnet)`,
        agentFix,
      ),
    );
  else if (picked !== route)
    hops.push(
      hop(
        'node-route',
        nodeA,
        `${ip} is routed by ${picked?.dst ?? '?'} ahead of the overlay route ${e.subnet}`,
        `remove the route that shadows ${e.subnet} on ${nodeA}`,
      ),
    );
  else hops.push(hop('node-route', nodeA, `${e.subnet} via ${e.vtepIp} dev ${vtepName}`));
  const neighbour = na.neighbours.some((n) => n.ip === e.vtepIp && n.mac === e.vtepMac);
  const missing = (present: boolean) => (present ? '' : ': missing');
  hops.push(
    hop(
      'neighbour',
      nodeA,
      `${e.vtepIp} lladdr ${e.vtepMac} dev ${vtepName}${missing(neighbour)}`,
      neighbour ? undefined : agentFix,
    ),
  );
  const fdb = na.fdb.some((f) => f.mac === e.vtepMac && f.dst === e.publicIp);
  hops.push(
    hop(
      'fdb',
      nodeA,
      `${e.vtepMac} dst ${e.publicIp} dev ${vtepName}${missing(fdb)}`,
      fdb ? undefined : agentFix,
    ),
  );
  const ul = routeFor(na.routes, e.publicIp);
  const ulLink = ul ? na.links.find((l) => l.index === ul.oif) : undefined;
  if (!vtep.up)
    hops.push(hop('underlay', nodeA, `VTEP ${vtepName} DOWN`, `ip link set ${vtepName} up on ${nodeA}`));
  else if (!ul || !ulLink)
    hops.push(
      hop(
        'underlay',
        nodeA,
        `no route to ${nodeB}'s public IP ${e.publicIp}`,
        `restore ${nodeA}'s underlay route or address towards ${e.publicIp}`,
      ),
    );
  else
    hops.push(
      hop(
        'underlay',
        nodeA,
        `${e.publicIp} by ${ul.dst}${ul.gateway ? ` via ${ul.gateway}` : ''} dev ${ulLink.name} ${linkState(ulLink)}`,
        linkCarries(ulLink)
          ? undefined
          : `bring ${nodeA}'s underlay link up: ip link set ${ulLink.name} up (and check its cable)`,
      ),
    );
  return hops;
}

/** B's node's own end of the underlay: the link holding its public IP, and its VTEP. */
function underlayOfNodeHop(nb: NodeFacts, node: string, publicIp: string, vtepName: string): Hop {
  const addr = nb.addrs.find((a) => a.address === publicIp);
  const link = addr ? nb.links.find((l) => l.index === addr.index) : undefined;
  if (!link)
    return hop(
      'b-underlay',
      node,
      `no link holds ${node}'s public IP ${publicIp}`,
      `restore ${publicIp} on ${node}'s underlay link, or let its agent renew its lease with the right --public-ip`,
    );
  if (!linkCarries(link))
    return hop(
      'b-underlay',
      node,
      `${link.name} (${publicIp}) ${linkState(link)}`,
      `bring ${node}'s underlay link up: ip link set ${link.name} up (and check its cable)`,
    );
  if (!nb.vtep?.up)
    return hop(
      'b-underlay',
      node,
      `VTEP ${vtepName} ${nb.vtep ? 'DOWN' : 'missing'} on ${node}`,
      `${node}'s agent owns the VTEP: check it runs, or ip link set ${vtepName} up`,
    );
  return hop('b-underlay', node, `${link.name} (${publicIp}) ${linkState(link)}, VTEP ${vtepName} up`);
}
