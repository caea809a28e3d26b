// The main job, end to end: a 3-node tsnet cluster in network namespaces on this machine (a veth underlay, etcd,
// one tsnet-agent per node owning its runtime, the VXLAN overlay), an image built here from busybox-static and
// pushed to a registry on the underlay, pulled by every agent; a web container (busybox httpd) and a client
// container per node on the `tsnet` network; then every client reaches every web container by name (cluster
// DNS), by ping and by HTTP, from inside the container. Exits 0 only when every pair works.
//
//   node --import=tsx scripts/demo.ts            build, show, remove everything
//   node --import=tsx scripts/demo.ts --keep     leave the cluster running and say how to reach and remove it
//   node --import=tsx scripts/demo.ts --down N   remove cluster N (left by --keep)
//
// `npm run demo` (scripts/demo.sh) installs the dependencies and builds first.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AgentClient } from '../pkg/api/client.ts';
import {
  type Cluster,
  type ClusterNode,
  type CtlResult,
  ctlCommand,
  REGISTRY_HOST,
  startCluster,
  subnetNetwork,
  teardownCluster,
  tsnetctl,
  writeBusyboxRootfs,
} from '../pkg/cluster/index.ts';

const NODES = 3;
const NETWORK = 'tsnet';
const IMAGE = `${REGISTRY_HOST}/demo/busybox:1`;

interface Args {
  keep: boolean;
  down?: string;
}

const USAGE = 'usage: demo.ts [--keep] | --down NAME';

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
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument ${JSON.stringify(a)} (${USAGE})`);
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

// --- tsnetctl against one node's agent ------------------------------------------------------------------------

/** `tsnetctl --host unix://<node's API socket> ARGS`; never throws for a non-zero exit. */
const ctl = (node: ClusterNode, args: readonly string[], timeoutMs?: number): Promise<CtlResult> =>
  tsnetctl(['--host', `unix://${node.apiSocket}`, ...args], timeoutMs);

/** Like ctl(), but a failure is an error naming the command. */
async function ctlOk(node: ClusterNode, args: readonly string[]): Promise<string> {
  const r = await ctl(node, args);
  if (r.code !== 0) {
    throw new Error(`node${node.index}: tsnetctl ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
  return r.stdout;
}

// --- the image ---------------------------------------------------------------------------------------------

/** Builds the image on node0 (import of the rootfs tar), pushes it to the registry, pulls it on every node. */
async function publishImage(cluster: Cluster): Promise<void> {
  const builder = cluster.nodes[0]!;
  const tar = join(cluster.dir, 'busybox-rootfs.tar');
  await writeBusyboxRootfs(tar);
  await ctlOk(builder, ['import', '-c', 'ENV PATH=/bin', '-c', 'CMD ["/bin/sh"]', tar, IMAGE]);
  step(`node0: tsnetctl import busybox-rootfs.tar ${IMAGE}`);
  await ctlOk(builder, ['push', IMAGE]);
  step(`node0: tsnetctl push ${IMAGE}`);
  // node0 drops its copy, so that every node's image comes from the registry.
  await ctlOk(builder, ['rmi', IMAGE]);
  await Promise.all(cluster.nodes.map((n) => ctlOk(n, ['pull', IMAGE])));
  step(`node0..node${NODES - 1}: tsnetctl pull ${IMAGE}`);
}

function step(text: string): void {
  console.log(`  ${text}`);
}

// --- the containers ----------------------------------------------------------------------------------------

interface DemoContainer {
  name: string;
  node: ClusterNode;
  ip: string;
}

/** The page each web container serves: it names the container and its node. */
const pageOf = (name: string, node: ClusterNode): string => `hello from ${name} on node${node.index}`;

async function runContainers(cluster: Cluster): Promise<{ webs: DemoContainer[]; clients: DemoContainer[] }> {
  const webs: DemoContainer[] = [];
  const clients: DemoContainer[] = [];
  await Promise.all(
    cluster.nodes.map(async (node) => {
      const web = `web-node${node.index}`;
      const client = `client-node${node.index}`;
      const serve = `echo '${pageOf(web, node)}' > /www/index.html && exec httpd -f -p 80 -h /www`;
      await ctlOk(node, ['run', '-d', '--name', web, '--network', NETWORK, IMAGE, 'sh', '-c', serve]);
      await ctlOk(node, ['run', '-d', '--name', client, '--network', NETWORK, IMAGE, 'sleep', '86400']);
      webs.push({ name: web, node, ip: await containerIp(node, web) });
      clients.push({ name: client, node, ip: await containerIp(node, client) });
    }),
  );
  const byNode = (a: DemoContainer, b: DemoContainer): number => a.node.index - b.node.index;
  return { webs: webs.sort(byNode), clients: clients.sort(byNode) };
}

/** The container's address on the demo network, from the agent's inspect. */
async function containerIp(node: ClusterNode, name: string): Promise<string> {
  const client = new AgentClient(node.apiSocket);
  try {
    const inspect = (await client.inspectContainer(name)) as {
      NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
    };
    const ip = inspect.NetworkSettings?.Networks?.[NETWORK]?.IPAddress;
    if (!ip) throw new Error(`node${node.index}: ${name} has no address on network ${NETWORK}`);
    return ip;
  } finally {
    client.close();
  }
}

// --- the checks --------------------------------------------------------------------------------------------

interface PairCheck {
  name: boolean;
  ping: boolean;
  http: boolean;
  /** Why a column failed, for the lines under the matrix. */
  notes: string[];
}

/** Runs `cmd` in the client container (tsnetctl exec); up to `tries` times until `ok` accepts the result. */
async function execIn(
  client: DemoContainer,
  cmd: readonly string[],
  ok: (r: CtlResult) => boolean,
  tries = 3,
): Promise<{ ok: boolean; last: CtlResult }> {
  let last: CtlResult = { code: -1, stdout: '', stderr: '' };
  for (let i = 0; i < tries; i++) {
    last = await ctl(client.node, ['exec', client.name, ...cmd], 30_000);
    if (ok(last)) return { ok: true, last };
  }
  return { ok: false, last };
}

const brief = (r: CtlResult): string =>
  (r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`).split('\n').slice(-1)[0]!.slice(0, 160);

async function checkPair(client: DemoContainer, web: DemoContainer): Promise<PairCheck> {
  const notes: string[] = [];
  // Cluster DNS: the name must resolve to the web container's address.
  const name = await execIn(
    client,
    ['nslookup', web.name],
    (r) => r.code === 0 && r.stdout.split('\n').some((l) => l.includes(web.ip)),
    2,
  );
  if (!name.ok) notes.push(`nslookup ${web.name}: ${brief(name.last)}`);
  const ping = await execIn(client, ['ping', '-c', '1', '-W', '2', web.ip], (r) => r.code === 0);
  if (!ping.ok) notes.push(`ping ${web.ip}: ${brief(ping.last)}`);
  // busybox wget segfaults on this kind of machine: a raw GET through nc.
  const get = `printf 'GET / HTTP/1.0\\r\\nHost: ${web.name}\\r\\n\\r\\n' | nc -w 3 ${web.ip} 80`;
  const page = pageOf(web.name, web.node);
  const http = await execIn(client, ['sh', '-c', get], (r) => r.code === 0 && r.stdout.includes(page));
  if (!http.ok) notes.push(`GET http://${web.ip}/: ${brief(http.last)}`);
  return { name: name.ok, ping: ping.ok, http: http.ok, notes };
}

/** Prints the matrix; returns the number of failed checks. */
async function checkMatrix(clients: DemoContainer[], webs: DemoContainer[]): Promise<number> {
  const results = new Map<string, PairCheck>();
  // One client's checks in sequence, the clients side by side.
  await Promise.all(
    clients.map(async (c) => {
      for (const w of webs) results.set(`${c.name}>${w.name}`, await checkPair(c, w));
    }),
  );
  const mark = (ok: boolean): string => (ok ? 'ok' : 'FAIL');
  console.log('\nreachability from inside each client: name (nslookup) / ping / HTTP (GET through nc)');
  console.log(
    table([
      ['client \\ web', ...webs.map((w) => w.name)],
      ...clients.map((c) => [
        c.name,
        ...webs.map((w) => {
          const r = results.get(`${c.name}>${w.name}`)!;
          return `${mark(r.name)} / ${mark(r.ping)} / ${mark(r.http)}`;
        }),
      ]),
    ]),
  );
  let failed = 0;
  for (const [pair, r] of [...results].sort(([a], [b]) => a.localeCompare(b))) {
    failed += [r.name, r.ping, r.http].filter((ok) => !ok).length;
    for (const note of r.notes) console.log(`  ${pair.replace('>', ' -> ')}: ${note}`);
  }
  const total = results.size * 3;
  console.log(`\n${total - failed}/${total} checks pass (${results.size} pairs x name, ping, HTTP)`);
  return failed;
}

// --- printing ----------------------------------------------------------------------------------------------

function printNodes(cluster: Cluster): void {
  const rows = [['node', 'underlay IP', 'subnet', 'API socket']];
  for (const node of cluster.nodes) {
    const env = cluster.subnetEnv(node.index);
    rows.push([`node${node.index}`, node.publicIp, env ? subnetNetwork(env.subnet) : '?', node.apiSocket]);
  }
  console.log(
    `\nnodes (overlay ${cluster.subnetEnv(0)?.network ?? '?'}, etcd at ${cluster.etcdUrl}, registry at ${REGISTRY_HOST})`,
  );
  console.log(table(rows));
}

function printContainers(all: DemoContainer[]): void {
  console.log(`\ncontainers (network ${NETWORK}, image ${IMAGE})`);
  console.log(table([['container', 'node', 'IP'], ...all.map((c) => [c.name, `node${c.node.index}`, c.ip])]));
}

function printKept(cluster: Cluster): void {
  const ctlPath = ctlCommand().join(' ');
  const n0 = cluster.nodes[0]!;
  console.log(`\ndemo: cluster ${cluster.name} left running (files in ${cluster.dir})`);
  console.log(`  a node's agent:     ${ctlPath} --host unix://${n0.apiSocket} ps`);
  console.log(`  inside a client:    ${ctlPath} --host unix://${n0.apiSocket} exec -it client-node0 sh`);
  console.log(`  the cluster:        ${ctlPath} nodes --etcd-endpoints ${cluster.etcdEndpoint}`);
  console.log(`  a node's shell:     nsenter --net=${n0.netnsPath} sh`);
  console.log(`  agent logs:         ${cluster.dir}/node*/agent.log`);
  console.log(`  remove it:          npm run demo -- --down ${cluster.name}`);
  console.log(`                 or:  node --import=tsx scripts/demo.ts --down ${cluster.name}`);
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.down) {
    await teardownCluster(args.down);
    console.log(`demo: cluster ${args.down} removed`);
    return 0;
  }

  const name = `tsnet-demo-${randomBytes(2).toString('hex')}`;
  console.log(`demo: starting cluster ${name}: ${NODES} nodes, etcd, a registry, one tsnet-agent per node`);
  // From the first namespace on, an interrupt removes whatever the cluster's recorded state lists.
  const onSignal = (): void => {
    console.error('\ndemo: interrupted, removing the cluster');
    teardownCluster(name)
      .catch((err: unknown) => console.error(`demo: ${(err as Error).message}`))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const cluster = await startCluster({ nodes: NODES, name, registry: true });

  let failed = 1;
  try {
    console.log('\nimage');
    await publishImage(cluster);
    const { webs, clients } = await runContainers(cluster);
    printNodes(cluster);
    printContainers([...webs, ...clients]);
    failed = await checkMatrix(clients, webs);
  } catch (err) {
    if (args.keep) printKept(cluster);
    else await cluster.teardown().catch(() => undefined);
    throw err;
  }

  if (args.keep) printKept(cluster);
  else {
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
