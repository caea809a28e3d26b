// The agent faults of the soak: a node's agent SIGKILLed at a random moment and started again after a random
// pause. Operations that were in flight against that agent may fail (that is expected, and they are retried or
// cleaned up); `epoch`/`disturbed` let the workloads tell such a failure from a real one.
import type { Cluster } from '../../pkg/cluster/index.ts';
import { type Report, randomInt, sleep } from './report.ts';

export class AgentFaults {
  private readonly epochs: number[];
  private readonly down: boolean[];
  private stopped = false;
  private paused = false;
  /** Called after an agent came back, with its node index (the keepers' check hooks here). */
  afterRestart: (node: number) => Promise<void> = async () => undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly report: Report,
  ) {
    this.epochs = cluster.nodes.map(() => 0);
    this.down = cluster.nodes.map(() => false);
  }

  /** A number that changes whenever node `i`'s agent is killed or comes back. */
  epoch(i: number): number {
    return this.epochs[i] ?? 0;
  }

  /** True when node `i`'s agent is down now or was killed since `epoch` was taken. */
  disturbed(i: number, epoch: number): boolean {
    return (this.down[i] ?? false) || this.epoch(i) !== epoch;
  }

  isDown(i: number): boolean {
    return this.down[i] ?? false;
  }

  /** No new kills while paused (the etcd phases want the agents up). */
  pause(paused: boolean): void {
    this.paused = paused;
  }

  stop(): void {
    this.stopped = true;
  }

  async killAndRestart(i: number): Promise<void> {
    this.down[i] = true;
    this.epochs[i] = this.epoch(i) + 1;
    try {
      await this.cluster.killAgent(i);
      this.report.count('agent SIGKILLs');
      await sleep(randomInt(0, 2000));
      await this.cluster.startAgent(i);
      await this.cluster.waitHealthy(i, 90_000);
    } finally {
      this.down[i] = false;
      this.epochs[i] = this.epoch(i) + 1;
    }
    await this.afterRestart(i);
  }

  /** Kills a random node's agent every `minMs`..`maxMs` until stop(). */
  async randomKills(minMs: number, maxMs: number): Promise<void> {
    while (!this.stopped) {
      const wait = randomInt(minMs, maxMs);
      for (let waited = 0; waited < wait && !this.stopped; waited += 250) await sleep(250);
      if (this.stopped || this.paused) continue;
      const i = randomInt(0, this.cluster.nodes.length - 1);
      await this.killAndRestart(i).catch((err: unknown) =>
        this.report.find(`node${i}'s agent did not come back after SIGKILL: ${(err as Error).message}`),
      );
    }
  }
}
