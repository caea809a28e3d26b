// npm run bench:cni — sequential ADD and DEL latency (p50, p99, pods/s) and 8-parallel ADD throughput for
// tsnet-bridge + tsnet-ipam served by a warm agent (the native forwarder handing each call to
// test/bench/cni-server.ts in the node namespace, what tsnet-agent does with --cni-socket), the same plugins
// with no agent (the forwarder executes the Node plugin), and, when installed, the reference bridge +
// host-local, in one run. Plugins run with a clean environment (env -i) inside a throwaway node namespace, as
// a runtime would start them. BENCH_CNI_ONLY=served|node runs one flavour (plus the reference);
// BENCH_CNI_PROFILE=DIR profiles the agent side.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createNamedNetns, deleteNamedNetns } from '../../pkg/netns/index.ts';
import { uniqueName } from '../helpers/netns.ts';

const PODS = Number(process.env['BENCH_PODS'] ?? 40);
const PARALLEL = 8;
/** The 8-parallel figure is the median of this many rounds per flavour. */
const PARALLEL_ROUNDS = 3;
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

/**
 * How tsnet-agent's bundle starts node: the variables and V8 flags of its launcher line (`#!/usr/bin/env -S
 * MALLOC_ARENA_MAX=2 node --max-semi-space-size=1`, scripts/build.ts), so the served flavour's garbage
 * collector works as the agent's does.
 */
function agentLaunch(): { env: Record<string, string>; flags: string[] } {
  const path = resolve(import.meta.dirname, '../../dist/bin/tsnet-agent');
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build first`);
  const line = readFileSync(path, 'utf8').split('\n')[0]?.trimEnd() ?? '';
  const m = /^#!\S*\benv -S((?: [A-Za-z_][A-Za-z0-9_]*=\S*)*) node((?: -\S+)*)$/.exec(line);
  if (!m)
    throw new Error(
      `${path}: its launcher line ${JSON.stringify(line)} is not env -S [VAR=value...] node [flags...]`,
    );
  const env = Object.fromEntries(
    (m[1] ?? '')
      .trim()
      .split(' ')
      .filter(Boolean)
      .map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]),
  );
  return { env, flags: (m[2] ?? '').trim().split(' ').filter(Boolean) };
}

/** Starts test/bench/cni-server.ts in `nodeNs` on `socket`, launched as the agent is; resolves once it listens. */
function startServer(nodeNs: string, socket: string): Promise<ChildProcess> {
  const server = resolve(import.meta.dirname, 'cni-server.ts');
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const launch = agentLaunch();
  const node = [process.execPath, ...launch.flags, ...profile, '--import=tsx', server, socket];
  const child = spawn('nsenter', [`--net=${nodeNs}`, ...node], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: resolve(import.meta.dirname, '../..'),
    env: { ...process.env, ...launch.env },
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

/** One flavour's own node namespace, container namespaces, data dir and (served) CNI server. */
interface World {
  readonly f: Flavour;
  readonly nodeName: string;
  readonly nodeNs: string;
  readonly ctrNames: string[];
  readonly ctrs: string[];
  readonly dataDir: string;
  readonly socket: string | undefined;
  readonly conf: string;
  server?: ChildProcess;
}

async function setUp(f: Flavour): Promise<World> {
  const nodeName = uniqueName('bcni');
  const ctrNames = Array.from({ length: PODS }, (_, i) => uniqueName(`bc${i}`));
  const dataDir = mkdtempSync(join(tmpdir(), 'tsnet-bench-'));
  const w: World = {
    f,
    nodeName,
    nodeNs: createNamedNetns(nodeName),
    ctrNames,
    ctrs: ctrNames.map((n) => createNamedNetns(n)),
    dataDir,
    socket: f.served ? join(dataDir, 'cni.sock') : undefined,
    conf: JSON.stringify({
      cniVersion: '1.0.0',
      name: 'benchnet',
      type: f.type,
      bridge: 'benchbr0',
      isGateway: true,
      ipMasq: false,
      ipam: { type: f.ipam, subnet: '10.240.0.0/16', dataDir },
    }),
  };
  if (w.socket) w.server = await startServer(w.nodeNs, w.socket);
  return w;
}

async function tearDown(w: World): Promise<void> {
  if (w.server) await stopServer(w.server);
  for (const n of w.ctrNames) deleteNamedNetns(n);
  deleteNamedNetns(w.nodeName);
  rmSync(w.dataDir, { recursive: true, force: true });
}

const call = (w: World, command: string, i: number, id: string) =>
  run(w.f, w.nodeNs, command, w.ctrs[i]!, id, w.conf, w.socket);

const median = (xs: number[]) => pct(xs, 50);

/**
 * Every flavour in its own world, measured in turns: pod i's ADD for each flavour (the first one rotating),
 * then the DELs alike, then PARALLEL_ROUNDS rounds of each flavour's 8-parallel ADDs one after the other.
 * A change in the machine's load (this VM's CPU steal comes and goes) then hits every flavour alike.
 */
async function benchInTurns(worlds: readonly World[]): Promise<Map<string, Figures>> {
  const adds = new Map(worlds.map((w) => [w, [] as number[]]));
  const dels = new Map(worlds.map((w) => [w, [] as number[]]));
  const parMs = new Map(worlds.map((w) => [w, [] as number[]]));
  const inTurn = (i: number) => worlds.map((_, k) => worlds[(i + k) % worlds.length]!);
  for (let i = 0; i < PODS; i++)
    for (const w of inTurn(i)) adds.get(w)!.push(await call(w, 'ADD', i, `c${i}`));
  for (let i = 0; i < PODS; i++)
    for (const w of inTurn(i)) dels.get(w)!.push(await call(w, 'DEL', i, `c${i}`));
  for (let round = 0; round < PARALLEL_ROUNDS; round++) {
    for (const w of inTurn(round)) {
      const start = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          while (next < PODS) {
            const i = next++;
            await call(w, 'ADD', i, `p${round}-${i}`);
          }
        }),
      );
      parMs.get(w)!.push(performance.now() - start);
      for (let i = 0; i < PODS; i++) await call(w, 'DEL', i, `p${round}-${i}`);
    }
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return new Map(
    worlds.map((w) => [
      w.f.label,
      {
        addP50: pct(adds.get(w)!, 50),
        addP99: pct(adds.get(w)!, 99),
        delP50: pct(dels.get(w)!, 50),
        delP99: pct(dels.get(w)!, 99),
        seqPodsPerSec: (PODS / sum(adds.get(w)!)) * 1000,
        parallelPodsPerSec: (PODS / median(parMs.get(w)!)) * 1000,
      },
    ]),
  );
}

const SERVED = 'tsnet C forwarder -> agent';
const NODE = 'tsnet Node plugin, no agent';
const REFERENCE = 'reference bridge+host-local';
const only = process.env['BENCH_CNI_ONLY'];
const flavours: Flavour[] = [
  { label: SERVED, dir: DIST, type: 'tsnet-bridge', ipam: 'tsnet-ipam', served: true },
  { label: NODE, dir: DIST, type: 'tsnet-bridge', ipam: 'tsnet-ipam' },
].filter((f) => !only || (only === 'served') === (f.served === true));
if (!existsSync(join(DIST, 'tsnet-bridge')))
  throw new Error('dist/cni/tsnet-bridge missing: run npm run build first');
if (existsSync(join(REF, 'bridge')))
  flavours.push({ label: REFERENCE, dir: REF, type: 'bridge', ipam: 'host-local' });

const worlds: World[] = [];
let results: Map<string, Figures>;
try {
  for (const f of [...flavours].reverse()) worlds.push(await setUp(f));
  results = await benchInTurns(worlds);
} finally {
  for (const w of worlds) await tearDown(w);
}
const fmt = (n: number) => n.toFixed(1);
console.log(
  `CNI benchmark: ${PODS} pods, sequential ADD then DEL, then ${PARALLEL}-parallel ADD (median of ${PARALLEL_ROUNDS} rounds), the flavours in turns (env -i)`,
);
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
