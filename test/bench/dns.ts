// npm run bench:dns — the cluster DNS's figures on this machine, in a 2-node cluster of throwaway namespaces
// (test/cluster/dns-world.ts: etcd, an agent per node, a test resolver on the underlay as the upstream):
// 1. queries per second and p50/p99 latency from inside a container (test/bench/dns-client.ts in its network
//    namespace, asking the node's DNS on the gateway) for a cluster name on another node, a cached external
//    name and uncached external names (each query a new name, so each goes to the upstream);
// 2. start-to-resolvable across nodes: a container started on node1 (its StartedAt) until a prober in a
//    container on node0 gets its A record (p50/p99 over --containers N, default 100);
// 3. removal across nodes: `rm -f` of each of those containers on node1 until the prober on node0 gets
//    NXDOMAIN, from rm's return (negative: gone before rm returned) and from its start.
//
//   npm run bench:dns [-- --containers N] [--queries N] [--concurrency N]
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { nsRun } from '../../pkg/cluster/index.ts';
import { type DnsWorld, EXTERNAL_ZONE, startDnsWorld } from '../cluster/dns-world.ts';

interface Args {
  containers: number;
  queries: number;
  concurrency: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { containers: 100, queries: 3000, concurrency: 16 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    const key = flag.replace(/^--/, '') as keyof Args;
    const value = Number(argv[++i]);
    if (!(key in args) || !Number.isInteger(value) || value < 1) {
      console.error(`bench:dns: bad argument ${flag} (--containers N, --queries N, --concurrency N)`);
      process.exit(2);
    }
    args[key] = value;
  }
  return args;
}

const CLIENT = join(import.meta.dirname, 'dns-client.ts');

interface Inspect {
  State: { Pid: number; StartedAt: string };
  NetworkSettings: { Networks: Record<string, { IPAddress: string; Gateway: string }> };
}

async function inspect(world: DnsWorld, node: number, name: string): Promise<Inspect> {
  const [found] = JSON.parse(await world.ok(node, 'inspect', name)) as Inspect[];
  if (!found) throw new Error(`node${node}: no container ${name}`);
  return found;
}

/** The container's network namespace and its DNS server (the gateway on tsnet). */
async function clientOf(
  world: DnsWorld,
  node: number,
  name: string,
): Promise<{ netns: string; server: string }> {
  const i = await inspect(world, node, name);
  const server = i.NetworkSettings.Networks['tsnet']?.Gateway;
  if (!server) throw new Error(`${name} has no gateway on tsnet`);
  return { netns: `/proc/${i.State.Pid}/ns/net`, server };
}

interface LoadResult {
  qps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(
  netns: string,
  server: string,
  target: string,
  count: number,
  concurrency: number,
): Promise<LoadResult> {
  const out = await nsRun(
    netns,
    process.execPath,
    ['--import=tsx', CLIENT, 'load', server, target, String(count), String(concurrency)],
    { timeoutMs: 600_000 },
  );
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as LoadResult;
}

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, col) => c.padEnd(widths[col] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A prober in `netns`: write a name, get back when it first resolved (epoch ms). */
function startProber(netns: string, server: string) {
  const child: ChildProcess = spawn(
    'nsenter',
    [`--net=${netns}`, process.execPath, '--import=tsx', CLIENT, 'probe', server],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const waiting = new Map<string, (at: number) => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const [name = '', at = ''] = line.split(' ');
    waiting.get(name)?.(Number(at));
    waiting.delete(name);
  });
  return {
    resolvedAt(name: string): Promise<number> {
      const p = new Promise<number>((resolve) => waiting.set(name, resolve));
      child.stdin?.write(`+${name}\n`);
      return p;
    },
    /** When `name` first answered NXDOMAIN. */
    goneAt(name: string): Promise<number> {
      const p = new Promise<number>((resolve) => waiting.set(name, resolve));
      child.stdin?.write(`-${name}\n`);
      return p;
    },
    stop(): void {
      child.kill('SIGKILL');
    },
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  console.log(`bench:dns: starting a 2-node cluster (etcd, agents, a test resolver) ...`);
  const world = await startDnsWorld({ nodes: 2 });
  try {
    await world.run(0, 'bench0', 'tsnet');
    await world.run(1, 'target', 'tsnet');
    await world.run(1, 'bench1', 'tsnet');
    const c0 = await clientOf(world, 0, 'bench0');
    // the cluster name must be in node0's view before it is measured
    const warm = startProber(c0.netns, c0.server);
    await warm.resolvedAt('target');
    await warm.resolvedAt(`cached.${EXTERNAL_ZONE}`);
    warm.stop();

    const rows: string[][] = [
      ['query (from a container on node0)', 'queries', 'qps', 'p50 ms', 'p99 ms', 'errors'],
    ];
    for (const [label, target] of [
      ['cluster name (container on node1)', 'target'],
      ['external name, cached', `cached.${EXTERNAL_ZONE}`],
      ['external name, uncached (upstream)', `@unique:${EXTERNAL_ZONE}`],
    ] as const) {
      // latency unloaded (one query at a time), throughput with queries in flight
      const serial = await load(c0.netns, c0.server, target, Math.min(args.queries, 1000), 1);
      const loaded = await load(c0.netns, c0.server, target, args.queries, args.concurrency);
      rows.push([
        label,
        `${args.queries} x${args.concurrency}`,
        loaded.qps.toFixed(0),
        serial.p50.toFixed(2),
        serial.p99.toFixed(2),
        String(serial.errors + loaded.errors),
      ]);
      console.log(`  ${label}: done`);
    }

    // start-to-resolvable across nodes
    const prober = startProber(c0.netns, c0.server);
    const delays: number[] = [];
    const sinceRmReturned: number[] = [];
    const sinceRmStarted: number[] = [];
    for (let i = 0; i < args.containers; i++) {
      const name = `s${i}`;
      const resolved = prober.resolvedAt(name);
      await world.ok(
        1,
        'run',
        '-d',
        '--name',
        name,
        '--network',
        'tsnet',
        'tsnet-test/busybox:latest',
        '/bin/busybox',
        'sleep',
        '3600',
      );
      const startedAt = Date.parse((await inspect(world, 1, name)).State.StartedAt);
      delays.push((await resolved) - startedAt);
      const gone = prober.goneAt(name);
      const rmStarted = Date.now();
      await world.ok(1, 'rm', '-f', name);
      const rmReturned = Date.now();
      const goneAt = await gone;
      sinceRmReturned.push(goneAt - rmReturned);
      sinceRmStarted.push(goneAt - rmStarted);
    }
    prober.stop();

    console.log('\nbench:dns (the machine is shared: figures are what this run saw)\n');
    console.log(table(rows));
    console.log(
      `\nstart-to-resolvable across nodes (run on node1 -> A answer in a container on node0), ${delays.length} containers:` +
        ` p50 ${percentile(delays, 50).toFixed(1)} ms, p99 ${percentile(delays, 99).toFixed(1)} ms, max ${Math.max(...delays).toFixed(1)} ms`,
    );
    console.log(
      `removal across nodes (rm -f on node1 -> NXDOMAIN in a container on node0), ${sinceRmReturned.length} containers:` +
        ` after rm returned p50 ${percentile(sinceRmReturned, 50).toFixed(1)} ms, p99 ${percentile(sinceRmReturned, 99).toFixed(1)} ms, max ${Math.max(...sinceRmReturned).toFixed(1)} ms` +
        ` (negative: gone before rm returned); after rm started p50 ${percentile(sinceRmStarted, 50).toFixed(1)} ms, p99 ${percentile(sinceRmStarted, 99).toFixed(1)} ms`,
    );
  } finally {
    await world.teardown();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench:dns: failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
