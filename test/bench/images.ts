// bench:images — pull (cold, and with the layers present), unpack throughput and push of a multi-layer image,
// tsnet (through the agent's API) beside skopeo and, when installed, podman, in one run. Each registry is
// Debian's docker-registry in a namespace of its own; the agent runs in the registry's namespace and is
// reached over its API socket. Prints figures; asserts nothing.
//   npm run bench:images [-- --layers 5 --mb 20]
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { AgentClient } from '../../pkg/api/client.ts';
import { applyLayer } from '../../pkg/archive/apply.ts';
import { agentCommand, REPO_ROOT } from '../../pkg/cluster/agent.ts';
import { pollUntil } from '../../pkg/cluster/exec.ts';
import { randomLayerTar, startRegistry, type TestRegistry, writeLayoutOf } from '../helpers/registry.ts';

const run = promisify(execFile);

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name}: a positive integer`);
  return v;
}

const LAYERS = flag('layers', 5);
const MB = flag('mb', 20);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Drains a progress stream; rejects with the agent's error. */
function drain(
  stream: NodeJS.ReadableStream & { on(event: string, fn: (x: unknown) => void): unknown },
): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('data', () => undefined);
    stream.on('error', (err) => reject(err as Error));
    stream.on('end', () => resolve());
  });
}

interface Agent {
  child: ChildProcess;
  client: AgentClient;
  stop(): Promise<void>;
}

async function startAgent(netnsPath: string, dataDir: string, runDir: string): Promise<Agent> {
  const [cmd = '', ...prefix] = agentCommand();
  const child = spawn(
    'nsenter',
    [
      `--net=${netnsPath}`,
      cmd,
      ...prefix,
      'run',
      '--data-dir',
      dataDir,
      '--run-dir',
      runDir,
      '--cni-socket',
      '',
      '--cni-conf-dir', // its networks, never the machine's /etc/cni/net.d
      join(dataDir, 'net.d'),
      '--http',
      '',
    ],
    { cwd: REPO_ROOT, stdio: 'ignore' },
  );
  const client = new AgentClient(join(runDir, 'tsnet.sock'));
  await pollUntil('the agent API', () => client.version().catch(() => undefined), { timeoutMs: 60_000 });
  return {
    child,
    client,
    async stop() {
      client.close();
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** What podman creates on the host whatever its flags; removed afterwards unless it was there before. */
const PODMAN_HOST_DIRS = ['/run/containers', '/etc/containers/networks'];

async function podmanPull(registry: TestRegistry, ref: string, dir: string): Promise<number | undefined> {
  if (!existsSync('/usr/bin/podman')) return undefined;
  const existed = PODMAN_HOST_DIRS.filter((d) => existsSync(d));
  try {
    return await timedPodmanPull(registry, ref, dir);
  } finally {
    for (const d of PODMAN_HOST_DIRS) if (!existed.includes(d)) rmSync(d, { recursive: true, force: true });
  }
}

async function timedPodmanPull(registry: TestRegistry, ref: string, dir: string): Promise<number> {
  const args = [
    `--net=${registry.netnsPath}`,
    'podman',
    '--root',
    join(dir, 'root'),
    '--runroot',
    join(dir, 'runroot'),
    '--storage-driver',
    'vfs',
    '--network-config-dir',
    join(dir, 'networks'),
    '--tmpdir',
    join(dir, 'tmp'),
    'pull',
    '--quiet',
    '--tls-verify=false',
    ref,
  ];
  return timed(() => run('nsenter', args, { maxBuffer: 1 << 20 }));
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'tsnet-bench-images-'));
  const registries: TestRegistry[] = [];
  let agent: Agent | undefined;
  try {
    const tars = await Promise.all(
      Array.from({ length: LAYERS }, (_, i) => randomLayerTar(`data/layer${i}.bin`, MB << 20)),
    );
    const totalMb = (tars.reduce((n, t) => n + t.length, 0) / (1 << 20)).toFixed(0);
    writeLayoutOf(join(work, 'layout'), 'bench', tars);

    const source = await startRegistry();
    registries.push(source);
    const host = source.host;
    await source.skopeo(
      'copy',
      '--dest-tls-verify=false',
      `oci:${join(work, 'layout')}:bench`,
      `docker://${host}/bench/big:v1`,
    );
    await source.skopeo(
      'copy',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `docker://${host}/bench/big:v1`,
      `docker://${host}/bench/same:v1`,
    );

    agent = await startAgent(source.netnsPath, join(work, 'agent-data'), join(work, 'agent-run'));
    const a = agent;
    const pullCold = await timed(() => drain(a.client.pull({ reference: `${host}/bench/big:v1` })));
    const pullPresent = await timed(() => drain(a.client.pull({ reference: `${host}/bench/same:v1` })));

    const skopeoCold = await timed(() =>
      source.skopeo(
        'copy',
        '--src-tls-verify=false',
        `docker://${host}/bench/big:v1`,
        `oci:${join(work, 'skopeo-out')}:x`,
      ),
    );
    const podman = await podmanPull(source, `${host}/bench/big:v1`, join(work, 'podman'));

    // The gzip streams are made before the clock starts: only gunzip + apply is measured.
    const gzipped = tars.map((t) => gzipSync(t, { level: 1 }));
    let unpackBytes = 0;
    const unpackMs = await timed(async () => {
      for (const [i, gz] of gzipped.entries()) {
        const dir = join(work, 'unpack', String(i));
        mkdirSync(dir, { recursive: true });
        unpackBytes += (await applyLayer(Readable.from([gz]), dir)).bytes;
      }
    });

    // Pushes to a registry that has none of the blobs: real uploads, not mounts.
    await agent.stop();
    agent = undefined;
    const target = await startRegistry();
    registries.push(target);
    agent = await startAgent(target.netnsPath, join(work, 'agent-data'), join(work, 'agent-run'));
    const b = agent;
    await b.client.tag(`${host}/bench/big:v1`, `${target.host}/bench/pushed:v1`);
    const pushMs = await timed(() => drain(b.client.push({ reference: `${target.host}/bench/pushed:v1` })));
    const skopeoPush = await timed(() =>
      target.skopeo(
        'copy',
        '--dest-tls-verify=false',
        `oci:${join(work, 'layout')}:bench`,
        `docker://${target.host}/bench/skopeo:v1`,
      ),
    );

    const ms = (v: number | undefined) => (v === undefined ? 'not installed' : `${v.toFixed(0)} ms`);
    const rows: [string, string, string, string][] = [
      ['', 'tsnet (agent API)', 'skopeo', 'podman'],
      ['pull, cold (fetch + verify + unpack for tsnet/podman)', ms(pullCold), ms(skopeoCold), ms(podman)],
      ['pull, every layer present', ms(pullPresent), '', ''],
      ['push, no blob in the registry', ms(pushMs), ms(skopeoPush), ''],
    ];
    const width = rows[0]?.map((_, c) => Math.max(...rows.map((r) => r[c]?.length ?? 0))) ?? [];
    console.log(`bench:images: ${LAYERS} layers of ${MB} MiB (${totalMb} MiB uncompressed, random data)`);
    for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(width[c] ?? 0)).join('  '));
    console.log(
      `unpack (pkg/archive applyLayer, gzip): ${(unpackBytes / (1 << 20) / (unpackMs / 1000)).toFixed(0)} MiB/s`,
    );
  } finally {
    await agent?.stop();
    for (const r of registries) await r.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:images: ${(err as Error).message}`);
  process.exit(1);
});
