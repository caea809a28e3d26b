// tsnetctl stats: containers' CPU, memory (page cache excluded), network and block I/O and PIDs, as docker
// shows them: a table redrawn every second until interrupted, or one sample each (--no-stream).
import { Command } from 'commander';
import { callError } from '../../api/client.ts';
import type { ContainerStats__Output } from '../../api/generated/tsnet/v1/ContainerStats.ts';
import { listFormatter } from '../format/output.ts';
import { humanSize, shortId } from '../format/units.ts';
import type { CliContext } from './context.ts';

interface StatsOptions {
  all: boolean;
  stream: boolean;
  trunc: boolean;
  format?: string;
}

export interface StatsRow {
  Container: string;
  ID: string;
  Name: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
}

const HEADERS = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** go-units BytesSize: binary units, four significant digits ("1.944GiB"), as docker shows memory. */
export function binarySize(bytes: number): string {
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < BINARY_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number(v.toPrecision(4))}${BINARY_UNITS[u]}`;
}

export function statsRow(asked: string, s: ContainerStats__Output, noTrunc: boolean): StatsRow {
  const memPerc = s.memoryLimit > 0 ? (s.memoryUsage / s.memoryLimit) * 100 : 0;
  return {
    Container: asked,
    ID: shortId(s.id, noTrunc),
    Name: s.name.replace(/^\//, ''),
    CPUPerc: `${s.cpuPercent.toFixed(2)}%`,
    MemUsage: `${binarySize(s.memoryUsage)} / ${binarySize(s.memoryLimit)}`,
    MemPerc: `${memPerc.toFixed(2)}%`,
    NetIO: `${humanSize(s.netRxBytes)} / ${humanSize(s.netTxBytes)}`,
    BlockIO: `${humanSize(s.blockReadBytes)} / ${humanSize(s.blockWriteBytes)}`,
    PIDs: String(s.pids),
  };
}

const REFRESH_MS = 1000;

export function statsCommand(ctx: CliContext, name = 'stats'): Command {
  return new Command(name)
    .description('Display a live stream of container(s) resource usage statistics')
    .argument('[CONTAINER...]')
    .option('-a, --all', 'Show all containers (default shows just running)', false)
    .option(
      '--format <string>',
      "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'",
    )
    .option('--no-stream', 'Disable streaming stats and only pull the first result')
    .option('--no-trunc', "Don't truncate output")
    .action(async (asked: string[], o: StatsOptions) => {
      const agent = ctx.agent();
      const names = asked.length
        ? asked
        : (await agent.containers({ all: o.all })).containers.map((c) => c.id);
      const formatter = listFormatter<StatsRow>(
        o.format,
        'table {{.ID}}\\t{{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}\\t{{.MemPerc}}\\t{{.NetIO}}\\t{{.BlockIO}}\\t{{.PIDs}}',
        HEADERS,
      );
      const latest = new Map<string, StatsRow>();
      const render = () =>
        formatter.render(names.flatMap((n) => (latest.has(n) ? [latest.get(n) as StatsRow] : [])));
      const errors: Error[] = [];
      const streams = names.map(async (n) => {
        const call = agent.stats({ container: n, noStream: !o.stream });
        try {
          for await (const sample of call as AsyncIterable<ContainerStats__Output>) {
            latest.set(n, statsRow(n, sample, !o.trunc));
            if (!o.stream) break;
          }
        } catch (err) {
          errors.push(callError(agent.host, err));
        } finally {
          call.cancel();
        }
      });
      if (!o.stream) {
        await Promise.all(streams);
        // docker: a container it cannot read is the error, not a short table.
        if (errors[0]) throw errors[0];
        ctx.stdout.write(render());
        return;
      }
      const draw = () => ctx.stdout.write(`${ctx.stdout.isTTY ? '\x1b[2J\x1b[H' : ''}${render()}`);
      const timer = setInterval(draw, REFRESH_MS);
      try {
        await Promise.all(streams);
        draw();
        if (errors[0] && latest.size === 0) throw errors[0];
      } finally {
        clearInterval(timer);
      }
    });
}
