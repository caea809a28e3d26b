// The operator's commands (network, nodes, node, diagnose, health): the cluster store and this node's kernel,
// read directly rather than through the agent's API.
import { type Flags, flagString, UsageError } from '../cli/command-line.ts';
import { Handle } from '../netlink/handle.ts';
import { isNetns } from '../netns/index.ts';
import { peerFromLease, TSNET_ROUTE_PROTOCOL } from '../overlay/index.ts';
import { loadNetworkConfig } from '../subnet/config.ts';
import { DEFAULT_SUBNET_FILE, readSubnetEnv, type SubnetEnv, subnetFromGatewayForm } from '../subnet/env.ts';
import { SubnetManager } from '../subnet/manager.ts';
import { CLUSTER_RUNNERS } from './cluster/commands.ts';
import { diagnoseNode } from './diagnose.ts';
import { outputFormat, render, textTable } from './format/structured.ts';
import { agentUrl, withStore } from './store.ts';

const str = flagString;

function print(flags: Flags, data: unknown, text: (wide: boolean) => string): void {
  process.stdout.write(render(outputFormat(flags), { data, text }));
}

function netnsFlag(flags: Flags): string | undefined {
  const path = flags['netns'];
  if (typeof path !== 'string') return undefined;
  if (!isNetns(path))
    throw new UsageError(`--netns ${path}: not a network namespace (e.g. /run/netns/NAME, /proc/PID/ns/net)`);
  return path;
}

/** subnet.env at `path`, undefined when there is none; a path that cannot be read is the operator's mistake. */
function subnetEnvAt(path: string): SubnetEnv | undefined {
  try {
    return readSubnetEnv(path);
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    throw code ? new UsageError(`subnet file ${path}: ${message}`) : err;
  }
}

async function leases(flags: Flags) {
  return withStore(
    flags,
    async (store, prefix) => (await new SubnetManager({ store, prefix }).listLeases()).leases,
  );
}

async function network(flags: Flags): Promise<void> {
  const config = await withStore(flags, (store, prefix) => loadNetworkConfig(store, prefix));
  print(flags, config, () =>
    textTable([
      ['network', 'subnet len', 'subnet min', 'subnet max', 'backend', 'VNI', 'port'],
      [
        config.Network,
        String(config.SubnetLen),
        config.SubnetMin,
        config.SubnetMax,
        config.Backend.Type,
        String(config.Backend.VNI),
        String(config.Backend.Port),
      ],
    ]),
  );
}

async function node(flags: Flags): Promise<void> {
  const netns = netnsFlag(flags);
  const vxlan = str(flags, 'vxlan-name', 'tsnet.1');
  const subnetFile = str(flags, 'subnet-file', DEFAULT_SUBNET_FILE);
  const env = subnetEnvAt(subnetFile);
  const state = await Handle.with(netns, async (h) => {
    const vtep = await h.linkFind(vxlan);
    if (!vtep) return { vtep: undefined, routes: [], neighbours: [], fdb: [] };
    const [routes, neighbours, fdb] = await Promise.all([
      h.routeList({ family: 4, oif: vtep.index }),
      h.neighList({ index: vtep.index, family: 4 }),
      h.fdbList({ index: vtep.index }),
    ]);
    return {
      vtep: { name: vtep.name, mac: vtep.mac, mtu: vtep.mtu, up: vtep.up, info: vtep.info },
      routes: routes
        .filter((r) => r.protocol === TSNET_ROUTE_PROTOCOL)
        .map((r) => ({ dst: r.dst, via: r.gateway, onlink: r.onlink })),
      neighbours: neighbours.map((n) => ({ ip: n.ip, mac: n.mac, state: n.state })),
      fdb: fdb.filter((f) => f.dst).map((f) => ({ mac: f.mac, dst: f.dst })),
    };
  });
  print(flags, { subnetEnv: env, ...state }, () => {
    const lines = [
      env
        ? `subnet ${env.subnet} of ${env.network}, MTU ${env.mtu}, masquerade ${env.ipMasq}`
        : `subnet.env: none at ${subnetFile} (agent not ready, or it writes --subnet-file elsewhere)`,
      state.vtep
        ? `VTEP ${state.vtep.name} ${state.vtep.mac} MTU ${state.vtep.mtu} ${state.vtep.up ? 'up' : 'DOWN'}`
        : `VTEP ${vxlan}: missing`,
    ];
    if (state.routes.length)
      lines.push('', textTable([['route', 'via'], ...state.routes.map((r) => [r.dst, r.via ?? ''])]));
    if (state.fdb.length)
      lines.push(
        '',
        textTable([['FDB MAC', 'underlay dst'], ...state.fdb.map((f) => [f.mac ?? '', f.dst ?? ''])]),
      );
    return lines.join('\n');
  });
}

async function diagnose(flags: Flags): Promise<void> {
  const netns = netnsFlag(flags);
  // The kernel tells which lease is this node's; a subnet.env is consulted only when the operator names one.
  const subnetFile = typeof flags['subnet-file'] === 'string' ? flags['subnet-file'] : undefined;
  const env = subnetFile ? subnetEnvAt(subnetFile) : undefined;
  const all = await leases(flags);
  const d = await diagnoseNode(
    netns,
    str(flags, 'vxlan-name', 'tsnet.1'),
    all.map(peerFromLease),
    env ? subnetFromGatewayForm(env.subnet) : undefined,
  );
  // With a VTEP but no lease of its own, the node is not part of the cluster it is compared with.
  const unidentified = d.vtep !== undefined && d.local === undefined && all.length > 0;
  const bad =
    d.peers.filter((p) => !(p.neighbour && p.fdb && p.route)).length +
    d.foreignRoutes.length +
    (d.vtep ? 0 : 1) +
    (unidentified ? 1 : 0);
  print(flags, d, () => {
    const mark = (ok: boolean) => (ok ? 'ok' : 'MISSING');
    const lines = [
      d.vtep
        ? `VTEP ${d.vtep.name} ${d.vtep.mac} ${d.vtep.up ? 'up' : 'DOWN'}`
        : 'VTEP missing: is the agent running?',
      d.local
        ? `this node: ${d.local.subnets.join(', ')} (public IP ${d.local.publicIp}, from the ${EVIDENCE[d.local.identifiedBy]})`
        : `this node: no lease matches ${d.vtep?.local ? `the VTEP's local address ${d.vtep.local} or ` : ''}its addresses`,
      textTable([
        ['peer subnet', 'public IP', 'neighbour', 'FDB', 'route'],
        ...d.peers.map((p) => [p.subnet, p.publicIp, mark(p.neighbour), mark(p.fdb), mark(p.route)]),
      ]),
    ];
    for (const r of d.foreignRoutes) lines.push(`foreign overlay route ${r}: no lease explains it`);
    lines.push(bad === 0 ? 'all peers programmed' : `${bad} problem(s)`);
    return lines.join('\n');
  });
  if (bad > 0) process.exitCode = 1;
}

const EVIDENCE = {
  'vtep-local-address': "VTEP's local address",
  'node-address': "node's addresses",
  'subnet-file': 'subnet file',
} as const;

async function health(flags: Flags): Promise<void> {
  const url = agentUrl(flags);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  } catch (err) {
    throw new UsageError(`no agent answers at ${url}: ${(err as Error).message}`);
  }
  const body = (await res.json()) as Record<string, unknown>;
  print(flags, body, () => `${res.ok ? 'healthy' : 'NOT healthy'}: ${JSON.stringify(body)}`);
  if (!res.ok) process.exitCode = 1;
}

/** What an operator command is given: its flags, its arguments, and --node-netns NODE=PATH (repeatable). */
export interface OperatorInput {
  readonly flags: Flags;
  readonly args: readonly string[];
  readonly nodeNetns: readonly string[];
}

export type OperatorRunner = (input: OperatorInput) => Promise<void>;

export const OPERATOR_RUNNERS: Record<string, OperatorRunner> = {
  network: ({ flags }) => network(flags),
  health: ({ flags }) => health(flags),
  ...CLUSTER_RUNNERS,
  // With a name: a node of the cluster from the store; without: this node's kernel, as before.
  node: (input) => (input.args.length > 0 ? CLUSTER_RUNNERS.clusterNode(input) : node(input.flags)),
  // With two containers: the path between them; without: this node's overlay entries against the leases.
  diagnose: (input) => {
    if (input.args.length === 0) return diagnose(input.flags);
    return CLUSTER_RUNNERS.diagnosePath(input);
  },
};
