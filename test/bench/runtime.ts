// bench:runtime — the container runtime's everyday costs, tsnet beside podman and Docker in one run, each
// driven through its own docker-style CLI with the same verbs: `run --rm IMG true`, `run -d` + `rm -f`,
// `exec true`, 20 containers started in parallel, `ps` with 50 containers, the daemon's RSS with 50
// running and the RSS of one container's monitor. Every daemon runs in a network namespace of its own (its
// bridge and firewall rules stay there) with its storage in a temporary directory; podman and Docker are
// measured only when installed (Debian's podman; Docker needs dockerd from docker.io). Prints figures;
// asserts nothing.
//   npm run bench:runtime [-- --runs 15 --only tsnet]
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { agentCommand, REPO_ROOT } from '../../pkg/cluster/agent.ts';
import { pollUntil } from '../../pkg/cluster/exec.ts';
import { createNamedNetns, deleteNamedNetns } from '../../pkg/netns/index.ts';
import { childrenOf } from '../helpers/processes.ts';
import { writeBusyboxLayout } from '../helpers/registry.ts';

const run = promisify(execFile);

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const RUNS = Number(flag('runs') ?? 15);
const ONLY = flag('only');
const PARALLEL = 20;
const MANY = 50;
const IMAGE = 'localhost/bench/busybox:latest';

/** One runtime under test: how to call its CLI, and the processes whose memory counts. */
interface Runtime {
  readonly name: string;
  /** argv prefix of its CLI, already inside its namespace */
  readonly cli: readonly string[];
  /** flags every `run` gets (podman's default rlimits fail here: root lacks CAP_SYS_RESOURCE) */
  readonly runFlags: readonly string[];
  /** flags of `rm -f` (podman's waits for the stop timeout first unless told -t 0; Docker's kills at once) */
  readonly removeFlags: readonly string[];
  daemonPids(): number[];
  /** Processes the daemon keeps for its client (tsnet's warm tsnetctl processes) */
  clientHelperPids?(): number[];
  /** name of the per-container monitor process (conmon, containerd-shim) */
  readonly monitor: string;
  /** tsnet: where its starts and releases spent their time (p50 ms per phase, from the agent's debug log) */
  startPhases?(): string;
  stop(): Promise<void>;
}

async function cli(rt: Runtime, ...args: string[]): Promise<string> {
  const [cmd = '', ...rest] = rt.cli;
  const { stdout } = await run(cmd, [...rest, ...args], { maxBuffer: 16 << 20 });
  return stdout;
}

/** `run` with the runtime's own flags, then `args`. */
const runContainer = (rt: Runtime, ...args: string[]): Promise<string> =>
  cli(rt, 'run', ...rt.runFlags, ...args);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function p50(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function repeat(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up: caches, first-use paths
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await timed(fn));
  return p50(times);
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

function pidsNamed(comm: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim().startsWith(comm)) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

interface Figures {
  runRm: number;
  runDetachRemove: number;
  exec: number;
  parallel: number;
  ps: number;
  daemonRssMiB: number;
  monitorRssMiB: number;
  clientHelpersRssMiB: number;
}

async function measure(rt: Runtime): Promise<Figures> {
  const runRm = await repeat(() => runContainer(rt, '--rm', IMAGE, '/bin/busybox', 'true'));
  const runDetachRemove = await repeat(async () => {
    const id = (await runContainer(rt, '-d', IMAGE, '/bin/busybox', 'sleep', '1000')).trim();
    await cli(rt, 'rm', '-f', ...rt.removeFlags, id);
  });
  const target = (await runContainer(rt, '-d', IMAGE, '/bin/busybox', 'sleep', '1000')).trim();
  const exec = await repeat(() => cli(rt, 'exec', target, '/bin/busybox', 'true'));
  await cli(rt, 'rm', '-f', ...rt.removeFlags, target);

  const parallelIds: string[] = [];
  const parallel = await timed(() =>
    Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        parallelIds.push((await runContainer(rt, '-d', IMAGE, '/bin/busybox', 'sleep', '1000')).trim());
      }),
    ),
  );
  const more: string[] = [];
  for (let i = parallelIds.length; i < MANY; i++)
    more.push((await runContainer(rt, '-d', IMAGE, '/bin/busybox', 'sleep', '1000')).trim());
  const ps = await repeat(() => cli(rt, 'ps'));
  const daemons = rt.daemonPids();
  const daemonRssMiB = daemons.length ? daemons.reduce((n, pid) => n + rssKiB(pid), 0) / 1024 : Number.NaN;
  const monitors = pidsNamed(rt.monitor);
  const monitorRssMiB = monitors.length
    ? monitors.reduce((n, pid) => n + rssKiB(pid), 0) / monitors.length / 1024
    : Number.NaN;
  await cli(rt, 'rm', '-f', ...rt.removeFlags, ...parallelIds, ...more);
  const helpers = rt.clientHelperPids?.() ?? [];
  const clientHelpersRssMiB = helpers.length
    ? helpers.reduce((n, pid) => n + rssKiB(pid), 0) / 1024
    : Number.NaN;
  return { runRm, runDetachRemove, exec, parallel, ps, daemonRssMiB, monitorRssMiB, clientHelpersRssMiB };
}

/** p50 of each phase over the agent's 'container started' and 'container released' log records. */
function startPhasesOf(log: string): string {
  return ['started', 'released'].map((what) => phasesOf(log, what)).join('\n');
}

function phasesOf(log: string, what: string): string {
  const byPhase = new Map<string, number[]>();
  let starts = 0;
  for (const line of log.split('\n')) {
    if (!line.includes(`"container ${what}"`)) continue;
    const phases = (JSON.parse(line) as { phasesMs?: Record<string, number> }).phasesMs ?? {};
    starts++;
    for (const [phase, ms] of Object.entries(phases)) byPhase.set(phase, [...(byPhase.get(phase) ?? []), ms]);
  }
  const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? Number.NaN;
  const parts = [...byPhase].map(([phase, xs]) => `${phase} ${p50(xs).toFixed(1)}`);
  return `tsnet: container ${what}, p50 ms per phase over ${starts}: ${parts.join(', ')}`;
}

async function startTsnet(work: string, netns: string, archive: string): Promise<Runtime> {
  const dataDir = join(work, 'tsnet-data');
  const runDir = join(work, 'r');
  const [cmd = '', ...prefix] = agentCommand();
  const logPath = join(work, 'tsnet-agent.log');
  const logFd = openSync(logPath, 'w');
  // biome-ignore format: one flag and its value per line
  const flags = [
    'run', '--data-dir', dataDir, '--run-dir', runDir, '--http', '',
    '--cni-conf-dir', join(work, 'net.d'), // its networks, never the machine's /etc/cni/net.d
    '--log-level', 'debug', // for its 'container started' records and their phases
  ];
  const child: ChildProcess = spawn('nsenter', [`--net=${netns}`, cmd, ...prefix, ...flags], {
    cwd: REPO_ROOT,
    stdio: ['ignore', logFd, 'ignore'],
  });
  closeSync(logFd);
  const ctl = join(REPO_ROOT, 'dist/bin/tsnetctl');
  if (!existsSync(ctl)) throw new Error(`${ctl} missing: npm run build`);
  const rt: Runtime = {
    name: 'tsnet',
    cli: [
      'nsenter',
      `--net=${netns}`,
      ctl, // as installed: its own launcher line (scripts/build.ts) starts node
      '--host',
      `unix://${join(runDir, 'tsnet.sock')}`,
    ],
    daemonPids: () => (child.pid ? [child.pid] : []),
    clientHelperPids: () =>
      child.pid
        ? childrenOf(child.pid)
            .filter((c) => c.cmdline.includes('tsnetctl'))
            .map((c) => c.pid)
        : [],
    runFlags: [],
    removeFlags: [],
    monitor: 'conmon',
    startPhases: () => startPhasesOf(readFileSync(logPath, 'utf8')),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
  await pollUntil('the tsnet agent', () => cli(rt, 'version').catch(() => undefined), { timeoutMs: 60_000 });
  await cli(rt, 'load', '-i', archive);
  return rt;
}

/** What podman creates on the host whatever its flags; removed afterwards unless it was there before. */
const PODMAN_HOST_DIRS = ['/run/containers', '/etc/containers/networks', '/var/lib/cni/networks/podman'];

async function startPodman(work: string, netns: string, archive: string): Promise<Runtime | undefined> {
  if (!existsSync('/usr/bin/podman')) return undefined;
  const existed = PODMAN_HOST_DIRS.filter((d) => existsSync(d));
  const dir = join(work, 'podman');
  const rt: Runtime = {
    name: 'podman',
    cli: [
      'nsenter',
      `--net=${netns}`,
      'podman',
      '--root',
      join(dir, 'root'),
      '--runroot',
      join(dir, 'runroot'),
      '--network-config-dir',
      join(dir, 'networks'),
      '--tmpdir',
      join(dir, 'tmp'),
      '--runtime',
      'runc',
      '--cgroup-manager',
      'cgroupfs',
      '--events-backend',
      'file',
    ],
    runFlags: ['--ulimit=nofile=1024:1024', '--ulimit=nproc=1024:1024'],
    removeFlags: ['-t', '0'],
    daemonPids: () => [],
    monitor: 'conmon',
    async stop() {
      // podman keeps its overlay storage mounted: its own reset unmounts and empties it
      await cli(rt, 'system', 'reset', '--force').catch(() => undefined);
      for (const d of PODMAN_HOST_DIRS) if (!existed.includes(d)) rmSync(d, { recursive: true, force: true });
    },
  };
  await cli(rt, 'load', '-q', '-i', archive);
  return rt;
}

async function startDocker(work: string, netns: string, archive: string): Promise<Runtime | undefined> {
  if (!existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd')) return undefined;
  const dir = join(work, 'docker');
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, 'docker.sock');
  const child = spawn(
    'nsenter',
    [
      `--net=${netns}`,
      'dockerd',
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'dockerd.pid'),
      '--host',
      `unix://${sock}`,
      '--containerd-namespace',
      `bench-${randomBytes(3).toString('hex')}`,
    ],
    { stdio: 'ignore' },
  );
  const rt: Runtime = {
    name: 'docker',
    cli: [
      'nsenter',
      `--net=${netns}`,
      existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker',
      '-H',
      `unix://${sock}`,
    ],
    daemonPids: () =>
      [...(child.pid ? [child.pid] : []), ...pidsNamed('dockerd'), ...pidsNamed('containerd')].filter(
        (p, i, all) => all.indexOf(p) === i && !pidsNamed('containerd-shim').includes(p),
      ),
    runFlags: [],
    removeFlags: [],
    monitor: 'containerd-shim',
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
  await pollUntil('dockerd', () => cli(rt, 'version').catch(() => undefined), { timeoutMs: 60_000 });
  await cli(rt, 'load', '-q', '-i', archive);
  return rt;
}

async function main(): Promise<void> {
  // short: conmon's attach socket (RUN_DIR/containers/<64 hex>/attach) must fit in sun_path's 108 bytes
  const work = mkdtempSync(join(tmpdir(), 'tbr-'));
  const netnsNames: string[] = [];
  const runtimes: Runtime[] = [];
  const results: [string, Figures][] = [];
  const phaseLines: string[] = [];
  try {
    const layout = await writeBusyboxLayout(join(work, 'layout'), 'latest', ['linux/amd64']);
    const archive = join(work, 'busybox.tar');
    await run('skopeo', ['copy', `oci:${layout.layout}:${layout.tag}`, `docker-archive:${archive}:${IMAGE}`]);
    const starters: [string, typeof startTsnet | typeof startPodman][] = [
      ['tsnet', startTsnet],
      ['podman', startPodman],
      ['docker', startDocker],
    ];
    for (const [name, start] of starters) {
      if (ONLY && ONLY !== name) continue;
      const ns = `tsnt-bench-${name}-${randomBytes(3).toString('hex')}`;
      const netns = createNamedNetns(ns);
      netnsNames.push(ns);
      const rt = await start(work, netns, archive);
      if (!rt) {
        console.log(`bench:runtime: ${name} not installed`);
        continue;
      }
      runtimes.push(rt);
      results.push([name, await measure(rt)]);
      const phases = rt.startPhases?.();
      if (phases) phaseLines.push(phases);
      await rt.stop();
      runtimes.splice(runtimes.indexOf(rt), 1);
    }
    const ms = (v: number) => `${v.toFixed(0)} ms`;
    const mib = (v: number) => (Number.isNaN(v) ? '-' : `${v.toFixed(1)} MiB`);
    const rows: string[][] = [
      ['', ...results.map(([n]) => n)],
      // podman has no daemon: its RSS row is '-'
      ['run --rm IMG true (p50)', ...results.map(([, f]) => ms(f.runRm))],
      ['run -d + rm -f (p50)', ...results.map(([, f]) => ms(f.runDetachRemove))],
      ['exec true (p50)', ...results.map(([, f]) => ms(f.exec))],
      [`${PARALLEL} run -d in parallel (total)`, ...results.map(([, f]) => ms(f.parallel))],
      [`ps with ${MANY} containers (p50)`, ...results.map(([, f]) => ms(f.ps))],
      [`daemon RSS with ${MANY} running`, ...results.map(([, f]) => mib(f.daemonRssMiB))],
      ['monitor RSS per container', ...results.map(([, f]) => mib(f.monitorRssMiB))],
      ['warm client processes RSS (all)', ...results.map(([, f]) => mib(f.clientHelpersRssMiB))],
    ];
    const width = rows[0]?.map((_, c) => Math.max(...rows.map((r) => r[c]?.length ?? 0))) ?? [];
    console.log(`bench:runtime: busybox, ${RUNS} runs per p50 (after one warm-up)`);
    for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(width[c] ?? 0)).join('  '));
    const goals = goalLine(new Map(results));
    if (goals) console.log(goals);
    for (const line of phaseLines) console.log(line);
  } finally {
    for (const rt of runtimes) await rt.stop().catch(() => undefined);
    for (const ns of netnsNames) {
      try {
        deleteNamedNetns(ns);
      } catch {
        // already gone
      }
    }
    rmSync(work, { recursive: true, force: true });
  }
}

/** tsnet's figures against Docker's of the same run, beside issue 9's goals (when both were measured). */
function goalLine(byName: ReadonlyMap<string, Figures>): string | undefined {
  const tsnet = byName.get('tsnet');
  const docker = byName.get('docker');
  if (!tsnet || !docker) return undefined;
  const ratio = (ours: number, theirs: number, goal: number) => {
    const r = ours / theirs;
    return `${r.toFixed(2)}x (goal <= ${goal}x: ${r <= goal ? 'met' : 'not met'})`;
  };
  const rss = tsnet.daemonRssMiB;
  return [
    'tsnet / docker:',
    `run --rm ${ratio(tsnet.runRm, docker.runRm, 0.5)},`,
    `run -d + rm -f ${ratio(tsnet.runDetachRemove, docker.runDetachRemove, 0.5)},`,
    `exec ${ratio(tsnet.exec, docker.exec, 0.75)};`,
    `agent RSS with ${MANY} running ${rss.toFixed(1)} MiB (goal < 80: ${rss < 80 ? 'met' : 'not met'})`,
  ].join(' ');
}

main().catch((err: unknown) => {
  console.error(`bench:runtime: ${(err as Error).message}`);
  process.exit(1);
});
