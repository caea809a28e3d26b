// Container cycles through each node's agent API, as `tsnetctl run -d` + `stop` + `rm` make them, on the `tsnet`
// overlay and the default bridge in turn, while the agents are SIGKILLed at random moments. One long-running
// "keeper" per node must keep its PID through every agent restart. A failure while the node's agent was being
// killed is expected (the operation is cleaned up afterwards); any other failure is a finding.
import { AgentClient } from '../../pkg/api/client.ts';
import type { Cluster } from '../../pkg/cluster/index.ts';
import type { AgentFaults } from './faults.ts';
import { type Report, randomInt, sleep } from './report.ts';

export const SOAK_IMAGE = 'soak/busybox:1';

export interface ContainerChurnOptions {
  cluster: Cluster;
  report: Report;
  faults: AgentFaults;
  cycles: number;
}

interface Keeper {
  node: number;
  name: string;
  id: string;
  pid: number;
}

export class ContainerChurn {
  private stopped = false;
  private started = 0;
  /** Names whose removal may not have happened: removed again (rm -f) once their agent answers. */
  private readonly unsure = new Set<string>();
  readonly keepers: Keeper[] = [];

  constructor(private readonly o: ContainerChurnOptions) {}

  stop(): void {
    this.stopped = true;
  }

  private client(node: number): AgentClient {
    return new AgentClient(this.o.cluster.nodes[node]!.apiSocket);
  }

  /** One keeper per node on the overlay, running for the whole soak. */
  async startKeepers(): Promise<void> {
    for (const node of this.o.cluster.nodes) {
      const name = `soak-keep-${node.index}`;
      const client = this.client(node.index);
      try {
        const { id } = await client.createContainer({ name, specJson: spec('tsnet', ['sleep', '86400']) });
        await client.startContainer(id);
        this.keepers.push({ node: node.index, name, id, pid: await pidOf(client, id) });
      } finally {
        client.close();
      }
    }
  }

  /** After node `i`'s agent restarted: its keeper runs with the PID it had. */
  async checkKeeper(i: number): Promise<void> {
    const keeper = this.keepers.find((k) => k.node === i);
    if (!keeper) return;
    const client = this.client(i);
    try {
      const pid = await pidOf(client, keeper.id);
      this.o.report.count('keeper checks after an agent restart');
      if (pid !== keeper.pid)
        this.o.report.find(`${keeper.name}: PID ${keeper.pid} before node${i}'s agent restart, ${pid} after`);
    } catch (err) {
      this.o.report.find(`${keeper.name} after node${i}'s agent restart: ${(err as Error).message}`);
    } finally {
      client.close();
    }
  }

  async run(): Promise<void> {
    await Promise.all(this.o.cluster.nodes.map((n) => this.worker(n.index)));
  }

  private async worker(node: number): Promise<void> {
    while (!this.stopped && this.started < this.o.cycles) {
      if (this.o.faults.isDown(node)) {
        await sleep(200);
        continue;
      }
      const n = this.started++;
      await this.cycle(node, n);
    }
  }

  private async cycle(node: number, n: number): Promise<void> {
    const { report, faults } = this.o;
    const name = `soak-c${node}-${n}`;
    const network = n % 2 === 0 ? 'tsnet' : 'bridge';
    const epoch = faults.epoch(node);
    const client = this.client(node);
    this.unsure.add(name);
    let step = 'create';
    try {
      const { id } = await client.createContainer({ name, specJson: spec(network, ['sleep', '60']) });
      step = 'start';
      await client.startContainer(id);
      step = 'stop';
      await client.stopContainer(id, randomInt(0, 1));
      step = 'rm';
      await client.removeContainer({ container: id, force: true });
      this.unsure.delete(name);
      report.count(`container cycles ok (${network})`);
    } catch (err) {
      if (faults.disturbed(node, epoch)) report.count('container steps cut by an agent SIGKILL (expected)');
      else report.find(`${name} on node${node}: ${step}: ${(err as Error).message}`);
    } finally {
      client.close();
    }
  }

  /** rm -f of every container whose removal was cut short (an absent one is fine). */
  async cleanUp(): Promise<void> {
    for (const name of this.unsure) {
      const node = Number(/^soak-c(\d+)-/.exec(name)?.[1]);
      const client = this.client(node);
      try {
        await client.removeContainer({ container: name, force: true });
        this.o.report.count('containers removed after a cut cycle');
      } catch (err) {
        if (!/No such container/i.test((err as Error).message))
          this.o.report.find(`rm -f ${name} on node${node}: ${(err as Error).message}`);
      } finally {
        client.close();
      }
    }
    this.unsure.clear();
  }

  /** Every agent lists exactly its keeper, running with the PID runc reports. */
  async verify(runcPid: (node: number, id: string) => Promise<number | undefined>): Promise<void> {
    for (const node of this.o.cluster.nodes) {
      const client = this.client(node.index);
      try {
        const { containers } = await client.containers({ all: true });
        const extra = containers.filter((c) => !this.keepers.some((k) => k.id === c.id));
        for (const c of extra)
          this.o.report.find(`node${node.index} still lists ${c.names.join(',')} (${c.state})`);
        const keeper = this.keepers.find((k) => k.node === node.index);
        if (!keeper) continue;
        const pid = await pidOf(client, keeper.id);
        const fromRunc = await runcPid(node.index, keeper.id);
        if (pid !== keeper.pid || fromRunc !== pid)
          this.o.report.find(
            `${keeper.name}: record PID ${pid}, runc PID ${fromRunc}, started as ${keeper.pid}`,
          );
      } finally {
        client.close();
      }
    }
  }
}

function spec(network: string, cmd: string[]): string {
  return JSON.stringify({ Image: SOAK_IMAGE, Cmd: cmd, HostConfig: { NetworkMode: network } });
}

async function pidOf(client: AgentClient, id: string): Promise<number> {
  const inspect = (await client.inspectContainer(id)) as { State?: { Running?: boolean; Pid?: number } };
  if (!inspect.State?.Running) throw new Error(`${id.slice(0, 12)} is not running`);
  return inspect.State.Pid ?? 0;
}
