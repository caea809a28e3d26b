// Continuous pings between pods on different nodes for the whole soak (5 a second per pair). Stopped with SIGINT,
// each ping prints its summary; every packet lost is reported.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Container } from '../../pkg/cluster/index.ts';

interface PingRun {
  from: Container;
  to: Container;
  child: ChildProcess;
  output: string;
  done: Promise<void>;
}

export interface PingLoss {
  pair: string;
  sent: number;
  received: number;
}

export class Pinger {
  private readonly runs: PingRun[] = [];

  /** Each pod pings the next one round the ring (pods on different nodes). */
  start(pods: readonly Container[]): void {
    pods.forEach((from, i) => {
      const to = pods[(i + 1) % pods.length]!;
      if (to === from) return;
      const child = spawn(
        'nsenter',
        [`--net=${from.netnsPath}`, 'ping', '-n', '-q', '-i', '0.2', '-W', '1', to.ip],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const run: PingRun = { from, to, child, output: '', done: Promise.resolve() };
      child.stdout?.on('data', (d: Buffer) => {
        run.output += d.toString();
      });
      run.done = new Promise((resolve) => child.on('close', () => resolve()));
      this.runs.push(run);
    });
  }

  async stop(): Promise<PingLoss[]> {
    for (const r of this.runs) r.child.kill('SIGINT');
    await Promise.all(this.runs.map((r) => r.done));
    return this.runs.map((r) => {
      const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(r.output);
      return {
        pair: `${r.from.name}@node${r.from.node} -> ${r.to.name}@node${r.to.node}`,
        sent: Number(m?.[1] ?? 0),
        received: Number(m?.[2] ?? 0),
      };
    });
  }
}
