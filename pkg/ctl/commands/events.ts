// tsnetctl events: the agent's event stream, one line per event as docker prints them, until interrupted.
import { Command } from 'commander';
import { callError } from '../../api/client.ts';
import type { Event__Output } from '../../api/generated/tsnet/v1/Event.ts';
import { byCodeUnits } from '../../text/order.ts';
import { FlagError } from '../errors.ts';
import { templateFormatter } from '../format/template.ts';
import { type CliContext, collect } from './context.ts';

interface EventsOptions {
  since?: string;
  filter: string[];
  format?: string;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Docker's --since (and logs' --until): Unix seconds (with fraction), an RFC 3339 time, or a Go duration back
 * from now ("10m").
 */
export function sinceUnixNano(value: string, now = Date.now(), flag = '--since'): bigint {
  if (/^\d+(\.\d{1,9})?$/.test(value)) {
    const [sec = '0', frac = ''] = value.split('.');
    return BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
  }
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)) {
    let ms = 0;
    for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
      ms += Number(n) * (DURATION_UNITS[unit as string] ?? 0);
    return BigInt(Math.round(now - ms)) * 1_000_000n;
  }
  const parsed = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(parsed)) return BigInt(parsed) * 1_000_000n;
  throw new FlagError(
    `${flag} ${JSON.stringify(value)}: expected a Unix time, an RFC 3339 time or a duration like 10m`,
  );
}

/** Docker's Go-template view of an event. */
function eventView(e: Event__Output) {
  const nano = BigInt(e.timeUnixNano);
  return {
    Type: e.type,
    Action: e.action,
    Actor: { ID: e.id, Attributes: e.attributes },
    ID: e.id,
    Status: e.action,
    Time: Number(nano / 1_000_000_000n),
    TimeNano: e.timeUnixNano,
  };
}

/** `2024-05-01T10:00:00.123456789Z image pull busybox:latest (name=busybox)` */
function eventLine(e: Event__Output): string {
  const nano = BigInt(e.timeUnixNano);
  const seconds = new Date(Number(nano / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
  const fraction = (nano % 1_000_000_000n).toString().padStart(9, '0');
  const attrs = Object.entries(e.attributes)
    .sort(([a], [b]) => byCodeUnits(a, b))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `${seconds}.${fraction}Z ${e.type} ${e.action} ${e.id}${attrs ? ` (${attrs})` : ''}\n`;
}

export function eventsCommand(ctx: CliContext, name = 'events'): Command {
  return new Command(name)
    .description('Get real time events from the agent')
    .option('--since <string>', 'Show all events created since timestamp')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option('--format <string>', "Format output using a custom template: 'json', 'TEMPLATE'")
    .action(async (options: EventsOptions) => {
      const formatter = options.format
        ? templateFormatter<ReturnType<typeof eventView>>(options.format)
        : undefined;
      const since = options.since ? sinceUnixNano(options.since) : 0n;
      const agent = ctx.agent();
      const stream = agent.events({ sinceUnixNano: since.toString(), filters: options.filter });
      try {
        for await (const e of stream as AsyncIterable<Event__Output>)
          ctx.stdout.write(formatter ? formatter.render([eventView(e)]) : eventLine(e));
      } catch (err) {
        throw callError(agent.host, err);
      }
    });
}
