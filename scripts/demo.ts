// The main job, end to end: a 3-node tsnet cluster in network namespaces on this machine (etcd on a veth
// underlay, one tsnet-agent per node, a VXLAN overlay between them), 2 containers per node attached with the
// tsnet-vxlan CNI plugin, and a container-to-container connectivity matrix. Exits 0 when every pair connects.
//
//   node --import=tsx scripts/demo.ts            build, show, remove everything
//   node --import=tsx scripts/demo.ts --keep     leave the cluster running and say how to remove it
//   node --import=tsx scripts/demo.ts --down N   remove cluster N (left by --keep)
//
// `npm run demo` (scripts/demo.sh) installs the dependencies and builds first.
import { randomBytes } from 'node:crypto';
import {
  type Cluster,
  type Container,
  pingAllPairs,
  startCluster,
  subnetNetwork,
  teardownCluster,
  VTEP_NAME,
} from '../pkg/cluster/index.ts';

const NODES = 3;
const CONTAINERS_PER_NODE = 2;

interface Args {
  keep: boolean;
  down?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--keep') args.keep = true;
    else if (a === '--down') {
      const name = argv[++i];
      if (!name) fail('--down needs the cluster name printed by --keep');
      args.down = name;
    } else if (a === '--help' || a === '-h') {
      console.log('usage: demo.ts [--keep] | --down NAME');
      process.exit(0);
    } else fail(`unknown argument ${JSON.stringify(a)} (usage: demo.ts [--keep] | --down NAME)`);
  }
  return args;
}

function fail(message: string): never {
  console.error(`demo: ${message}`);
  process.exit(2);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function printNodes(cluster: Cluster): Promise<void> {
  const rows = [
    ['node', 'namespace', 'subnet', 'gateway', 'VTEP', 'VTEP MAC', 'VTEP underlay IP', 'VNI', 'MTU'],
  ];
  for (const node of cluster.nodes) {
    const env = cluster.subnetEnv(node.index);
    const vtep = await cluster.vtepOf(node.index);
    rows.push([
      `node${node.index}`,
      node.netnsName,
      env ? subnetNetwork(env.subnet) : '?',
      env?.subnet.split('/')[0] ?? '?',
      VTEP_NAME,
      vtep.mac,
      vtep.local,
      String(vtep.vni),
      String(vtep.mtu),
    ]);
  }
  console.log(`\nnodes (network ${cluster.subnetEnv(0)?.network ?? '?'}, etcd at ${cluster.etcdUrl})`);
  console.log(table(rows));
}

/** Pings every ordered pair (3 tries each); returns the failed pairs. */
async function connectivityMatrix(containers: Container[]): Promise<number> {
  const results = new Map<string, boolean>(
    (await pingAllPairs(containers)).map((r) => [`${r.from.name}>${r.to.name}`, r.ok]),
  );
  const header = ['from \\ to', ...containers.map((c) => c.name)];
  const rows = containers.map((from) => [
    `${from.name} (${from.ip})`,
    ...containers.map((to) => (from === to ? '-' : results.get(`${from.name}>${to.name}`) ? 'ok' : 'FAIL')),
  ]);
  console.log('\nconnectivity (ping, container to container)');
  console.log(table([header, ...rows]));
  const failed = [...results.values()].filter((ok) => !ok).length;
  console.log(`\n${results.size - failed}/${results.size} pairs connect`);
  return failed;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.down) {
    await teardownCluster(args.down);
    console.log(`demo: cluster ${args.down} removed`);
    return 0;
  }

  const name = `tsnet-demo-${randomBytes(2).toString('hex')}`;
  console.log(`demo: starting cluster ${name}: ${NODES} nodes, etcd, one tsnet-agent per node`);
  // From the first namespace on, an interrupt removes whatever the cluster's recorded state lists.
  const onSignal = (): void => {
    console.error('\ndemo: interrupted, removing the cluster');
    teardownCluster(name)
      .catch((err: unknown) => console.error(`demo: ${(err as Error).message}`))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const cluster = await startCluster({ nodes: NODES, name });

  let failed = 1;
  try {
    const containers: Container[] = [];
    for (const node of cluster.nodes) {
      for (let k = 0; k < CONTAINERS_PER_NODE; k++) {
        containers.push(await cluster.addContainer(node.index, `n${node.index}c${k}`));
      }
    }
    await printNodes(cluster);
    console.log('\ncontainers (tsnet-vxlan)');
    console.log(
      table([
        ['container', 'node', 'IP', 'namespace'],
        ...containers.map((c) => [c.name, `node${c.node}`, c.ip, c.netnsPath]),
      ]),
    );
    failed = await connectivityMatrix(containers);
  } catch (err) {
    console.error(`demo: ${(err as Error).message}`);
    if (!args.keep) await cluster.teardown().catch(() => undefined);
    throw err;
  }

  if (args.keep) {
    const c0 = cluster.containers()[0];
    console.log(`\ndemo: cluster ${cluster.name} left running (files in ${cluster.dir})`);
    if (c0) console.log(`  enter a container:  nsenter --net=${c0.netnsPath} sh`);
    console.log(`  agent logs:         ${cluster.dir}/node*/agent.log`);
    console.log(`  remove it:          node --import=tsx scripts/demo.ts --down ${cluster.name}`);
    console.log(`                 or:  npm run demo -- --down ${cluster.name}`);
  } else {
    await cluster.teardown();
    console.log(`\ndemo: cluster ${cluster.name} removed`);
  }
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo: failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
