// CNI ADD/DEL cycles against the cluster's nodes, as a runtime makes them: a fresh namespace, ADD through one of
// the two paths (forwarded to the node's agent through its CNI socket, or the plugin in-process with no agent),
// now and then the plugin SIGKILLed at a random moment of its ADD or DEL, and always a final DEL (a runtime
// retries DEL until it succeeds) before the namespace goes. Every cycle that is not expected to fail and does is a
// finding; so is a DEL that never succeeds.
import { spawn } from 'node:child_process';
import { type Cluster, type ClusterNode, cniPluginPath, DIST_CNI, pings } from '../../pkg/cluster/index.ts';
import { createNamedNetns, deleteNamedNetns } from '../../pkg/netns/index.ts';
import type { AgentFaults } from './faults.ts';
import { type Report, randomInt } from './report.ts';

export interface CniChurnOptions {
  cluster: Cluster;
  report: Report;
  faults: AgentFaults;
  workers: number;
  /** Stop after this many cycles (or at stop(), whichever comes first). */
  cycles: number;
  /** Probability that a cycle's ADD (or its first DEL) is SIGKILLed midway. */
  killRate: number;
  /** Addresses of pods on other nodes, pinged from a new attachment now and then. */
  peers: () => { node: number; ip: string }[];
}

type Path = 'forwarded' | 'in-process';

interface PluginRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const PLUGIN_TIMEOUT_MS = 60_000;

export class CniChurn {
  private stopped = false;
  private started = 0;
  private readonly nsPrefix: string;

  constructor(private readonly o: CniChurnOptions) {
    this.nsPrefix = `${o.cluster.name}-s`;
  }

  stop(): void {
    this.stopped = true;
  }

  async run(): Promise<void> {
    await Promise.all(Array.from({ length: this.o.workers }, (_, w) => this.worker(w)));
  }

  private async worker(w: number): Promise<void> {
    while (!this.stopped && this.started < this.o.cycles) {
      const n = this.started++;
      await this.cycle(n, w).catch((err: unknown) =>
        this.o.report.find(`cni cycle ${n}: ${(err as Error).message}`),
      );
    }
  }

  private async cycle(n: number, worker: number): Promise<void> {
    const { cluster, report, faults } = this.o;
    const node = cluster.nodes[n % cluster.nodes.length]!;
    const netnsName = `${this.nsPrefix}${worker}-${n}`;
    const containerId = `soak-cni-${n}`;
    const netnsPath = createNamedNetns(netnsName);
    try {
      const path: Path = Math.random() < 0.5 ? 'forwarded' : 'in-process';
      const kill = Math.random() < this.o.killRate;
      const epoch = faults.epoch(node.index);
      const add = await this.plugin(
        node,
        path,
        'ADD',
        containerId,
        netnsPath,
        kill ? randomInt(0, 80) : undefined,
      );
      report.count(`cni ADD ${path}`);
      if (add.signal === 'SIGKILL') report.count('cni plugin SIGKILLed mid-ADD');
      else if (add.code === 0) {
        report.count('cni ADD ok');
        if (n % 25 === 0) await this.checkDatapath(node, netnsPath, add.stdout);
      } else if (path === 'forwarded' && faults.disturbed(node.index, epoch)) {
        report.count('cni ADD failed while its agent was killed (expected)');
      } else {
        report.find(`ADD ${containerId} on node${node.index} (${path}) failed: ${brief(add)}`);
      }
      // A DEL killed midway once in a while, then DEL until it succeeds, as a runtime does.
      if (kill && Math.random() < 0.3) {
        const del = await this.plugin(node, path, 'DEL', containerId, netnsPath, randomInt(0, 60));
        if (del.signal === 'SIGKILL') report.count('cni plugin SIGKILLed mid-DEL');
      }
      await this.delUntilDone(node, containerId, netnsPath);
    } finally {
      deleteNamedNetns(netnsName);
    }
  }

  private async delUntilDone(node: ClusterNode, containerId: string, netnsPath: string): Promise<void> {
    let last: PluginRun | undefined;
    for (let attempt = 1; attempt <= 6; attempt++) {
      const path: Path = attempt % 2 === 1 ? 'forwarded' : 'in-process';
      last = await this.plugin(node, path, 'DEL', containerId, netnsPath);
      if (last.code === 0) {
        this.o.report.count('cni DEL ok');
        if (attempt > 1) this.o.report.count('cni DEL retried');
        return;
      }
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
    this.o.report.find(`DEL ${containerId} on node${node.index} never succeeded: ${last ? brief(last) : ''}`);
  }

  /** The new attachment reaches a pod on another node (the overlay datapath, not only the plugin's answer). */
  private async checkDatapath(node: ClusterNode, netnsPath: string, result: string): Promise<void> {
    const peer = this.o.peers().find((p) => p.node !== node.index);
    if (!peer || !/"address"/.test(result)) return;
    this.o.report.count('cni datapath checks');
    if (!(await pings(netnsPath, peer.ip, 3, 2)))
      this.o.report.find(`a new attachment on node${node.index} cannot reach ${peer.ip} on node${peer.node}`);
  }

  private plugin(
    node: ClusterNode,
    path: Path,
    command: 'ADD' | 'DEL',
    containerId: string,
    netnsPath: string,
    killAfterMs?: number,
  ): Promise<PluginRun> {
    const config = this.o.cluster.cniConfig(node);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: containerId,
      CNI_NETNS: netnsPath,
      CNI_IFNAME: 'eth0',
      CNI_PATH: DIST_CNI,
      ...(path === 'forwarded' ? { TSNET_CNI_SOCKET: node.cniSocket } : {}),
    };
    return new Promise((resolve, reject) => {
      // nsenter without --fork execs the plugin: the pid signalled is the plugin's own.
      const child = spawn('nsenter', [`--net=${node.netnsPath}`, cniPluginPath(String(config['type']))], {
        env,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const killer =
        killAfterMs !== undefined ? setTimeout(() => child.kill('SIGKILL'), killAfterMs) : undefined;
      const hang = setTimeout(() => {
        this.o.report.find(`${command} ${containerId} on node${node.index} (${path}) hung for 60 s`);
        child.kill('SIGKILL');
      }, PLUGIN_TIMEOUT_MS);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(killer);
        clearTimeout(hang);
        resolve({ code, signal, stdout, stderr });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(JSON.stringify(config));
    });
  }
}

function brief(r: PluginRun): string {
  const text = (r.stdout.trim() || r.stderr.trim() || `exit ${r.code}`).replace(/\s+/g, ' ');
  return text.slice(0, 200);
}
