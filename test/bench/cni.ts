// npm run bench:cni — sequential ADD and DEL latency (p50, p99, pods/s) and 8-parallel ADD throughput for
// tsnet-bridge + tsnet-ipam served by a warm agent (the native forwarder handing each call to
// test/bench/cni-server.ts in the node namespace, what tsnet-agent does with --cni-socket), the same plugins
// with no agent (the forwarder executes the Node plugin), and, when installed, the reference bridge +
// host-local, in one run. Plugins run with a clean environment (env -i) inside a throwaway node namespace, as
// a runtime would start them. BENCH_CNI_ONLY=served|node runs one flavour (plus the reference);
// BENCH_CNI_PROFILE=DIR profiles the agent side.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createNamedNetns, deleteNamedNetns } from '../../pkg/netns/index.ts';
import { uniqueName } from '../helpers/netns.ts';

const PODS = Number(process.env['BENCH_PODS'] ?? 40);
const PARALLEL = 8;
const DIST = resolve(import.meta.dirname, '../../dist/cni');
const REF = '/usr/lib/cni';
/** BENCH_CNI_PROFILE=DIR: the agent-side server writes a V8 CPU profile of its run there (node --cpu-prof). */
const PROFILE_DIR = process.env['BENCH_CNI_PROFILE'];

interface Flavour {
  readonly label: string;
  readonly dir: string;
  readonly type: string;
  readonly ipam: string;
  /** Plugins forward to a warm CNI server in the node namespace. */
  readonly served?: boolean;
}

function run(
  f: Flavour,
  nodeNs: string,
  command: string,
  ctrNs: string,
  id: string,
  conf: string,
  socket?: string,
): Promise<number> {
  const env = [
    'env',
    '-i',
    `PATH=/usr/sbin:/usr/bin:/sbin:/bin`,
    ...(socket ? [`TSNET_CNI_SOCKET=${socket}`] : []),
    `CNI_COMMAND=${command}`,
    `CNI_CONTAINERID=${id}`,
    `CNI_NETNS=${ctrNs}`,
    'CNI_IFNAME=eth0',
    `CNI_PATH=${f.dir}`,
    join(f.dir, f.type),
  ];
  const start = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn('nsenter', [`--net=${nodeNs}`, ...env], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${f.label} ${command} ${id} failed: ${out}`));
      else resolvePromise(performance.now() - start);
    });
    child.stdin.end(conf);
  });
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? 0;
}

interface Figures {
  addP50: number;
  addP99: number;
  delP50: number;
  delP99: number;
  seqPodsPerSec: number;
  parallelPodsPerSec: number;
}

/** Starts test/bench/cni-server.ts in `nodeNs` on `socket`; resolves once it listens. */
function startServer(nodeNs: string, socket: string): Promise<ChildProcess> {
  const server = resolve(import.meta.dirname, 'cni-server.ts');
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const node = [process.execPath, ...profile, '--import=tsx', server, socket];
  const child = spawn('nsenter', [`--net=${nodeNs}`, ...node], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: resolve(import.meta.dirname, '../..'),
  });
  return new Promise((resolvePromise, reject) => {
    child.stdout?.once('data', () => resolvePromise(child));
    child.once('exit', (code) => reject(new Error(`CNI server exited (${code}) before listening`)));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function bench(f: Flavour): Promise<Figures> {
  const nodeName = uniqueName('bcni');
  const nodeNs = createNamedNetns(nodeName);
  const ctrNames = Array.from({ length: PODS }, (_, i) => uniqueName(`bc${i}`));
  const ctrs = ctrNames.map((n) => createNamedNetns(n));
  const dataDir = mkdtempSync(join(tmpdir(), 'tsnet-bench-'));
  const socket = f.served ? join(dataDir, 'cni.sock') : undefined;
  let server: ChildProcess | undefined;
  const conf = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'benchnet',
    type: f.type,
    bridge: 'benchbr0',
    isGateway: true,
    ipMasq: false,
    ipam: { type: f.ipam, subnet: '10.240.0.0/16', dataDir },
  });
  try {
    if (socket) server = await startServer(nodeNs, socket);
    const adds: number[] = [];
    const dels: number[] = [];
    const seqStart = performance.now();
    for (let i = 0; i < PODS; i++) adds.push(await run(f, nodeNs, 'ADD', ctrs[i]!, `c${i}`, conf, socket));
    const seqMs = performance.now() - seqStart;
    for (let i = 0; i < PODS; i++) dels.push(await run(f, nodeNs, 'DEL', ctrs[i]!, `c${i}`, conf, socket));
    const parStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < PODS) {
          const i = next++;
          await run(f, nodeNs, 'ADD', ctrs[i]!, `p${i}`, conf, socket);
        }
      }),
    );
    const parMs = performance.now() - parStart;
    for (let i = 0; i < PODS; i++) await run(f, nodeNs, 'DEL', ctrs[i]!, `p${i}`, conf, socket);
    return {
      addP50: pct(adds, 50),
      addP99: pct(adds, 99),
      delP50: pct(dels, 50),
      delP99: pct(dels, 99),
      seqPodsPerSec: (PODS / seqMs) * 1000,
      parallelPodsPerSec: (PODS / parMs) * 1000,
    };
  } finally {
    if (server) await stopServer(server);
    for (const n of ctrNames) deleteNamedNetns(n);
    deleteNamedNetns(nodeName);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const SERVED = 'tsnet C forwarder -> agent';
const NODE = 'tsnet Node plugin, no agent';
const REFERENCE = 'reference bridge+host-local';
const only = process.env['BENCH_CNI_ONLY'];
const flavours: Flavour[] = [
  { label: SERVED, dir: DIST, type: 'tsnet-bridge', ipam: 'tsnet-ipam', served: true },
  { label: NODE, dir: DIST, type: 'tsnet-bridge', ipam: 'tsnet-ipam' },
].filter((f) => !only || (only === 'served') === f.served);
if (!existsSync(join(DIST, 'tsnet-bridge')))
  throw new Error('dist/cni/tsnet-bridge missing: run npm run build first');
if (existsSync(join(REF, 'bridge')))
  flavours.push({ label: REFERENCE, dir: REF, type: 'bridge', ipam: 'host-local' });

// Interleaved (reference first, then ours), so a change in the machine's load hits every flavour alike.
const results = new Map<string, Figures>();
for (const f of [...flavours].reverse()) results.set(f.label, await bench(f));
const fmt = (n: number) => n.toFixed(1);
console.log(`CNI benchmark: ${PODS} pods, sequential ADD then DEL, then ${PARALLEL}-parallel ADD (env -i)`);
console.log(
  [
    'plugins',
    'ADD p50 ms',
    'ADD p99 ms',
    'DEL p50 ms',
    'DEL p99 ms',
    'seq pods/s',
    `${PARALLEL}-par pods/s`,
  ].join('\t'),
);
for (const [label, r] of results) {
  console.log(
    [
      label,
      fmt(r.addP50),
      fmt(r.addP99),
      fmt(r.delP50),
      fmt(r.delP99),
      fmt(r.seqPodsPerSec),
      fmt(r.parallelPodsPerSec),
    ].join('\t'),
  );
}
const ref = results.get(REFERENCE);
const served = results.get(SERVED);
const node = results.get(NODE);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
if (ref && served) {
  console.log(
    `ratios forwarder/reference: ADD p50 ${ratio(served.addP50, ref.addP50)} (goal <= 0.8x), ` +
      `DEL p50 ${ratio(served.delP50, ref.delP50)} (goal <= 1.0x), ` +
      `${PARALLEL}-parallel ADD throughput ${ratio(served.parallelPodsPerSec, ref.parallelPodsPerSec)} (goal >= 1.0x)`,
  );
}
if (ref && node) {
  console.log(
    `ratios Node plugin/reference: ADD p50 ${ratio(node.addP50, ref.addP50)} (goal <= 2.5x), ` +
      `DEL p50 ${ratio(node.delP50, ref.delP50)}, ` +
      `${PARALLEL}-parallel ADD throughput ${ratio(node.parallelPodsPerSec, ref.parallelPodsPerSec)}`,
  );
}
