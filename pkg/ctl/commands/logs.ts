// tsnetctl logs: a container's log as the agent streams it, its stdout to stdout and its stderr to stderr,
// optionally following it (-f) until interrupted.
import { Command } from 'commander';
import { callError } from '../../api/client.ts';
import type { LogEntry__Output } from '../../api/generated/tsnet/v1/LogEntry.ts';
import { FlagError } from '../errors.ts';
import type { CliContext } from './context.ts';
import { sinceUnixNano } from './events.ts';

interface LogsOptions {
  follow: boolean;
  tail: string;
  since?: string;
  until?: string;
  timestamps: boolean;
}

/** docker's --tail: a line count or "all". */
export function tailLines(value: string): number {
  if (value === 'all') return -1;
  if (!/^\d+$/.test(value))
    throw new FlagError(
      `invalid argument ${JSON.stringify(value)} for "-n, --tail" flag: expected a number or "all"`,
    );
  return Number(value);
}

/** docker's timestamp prefix: RFC 3339 with nine fraction digits, `2024-05-01T10:00:00.123456789Z`. */
export function logTimestamp(unixNano: number): string {
  const nano = BigInt(Math.round(unixNano));
  const seconds = nano / 1_000_000_000n;
  const fraction = (nano % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

export function logsCommand(ctx: CliContext, name = 'logs'): Command {
  return new Command(name)
    .description('Fetch the logs of a container')
    .argument('<CONTAINER>')
    .option('-f, --follow', 'Follow log output', false)
    .option('-n, --tail <string>', 'Number of lines to show from the end of the logs', 'all')
    .option(
      '--since <string>',
      'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)',
    )
    .option(
      '--until <string>',
      'Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)',
    )
    .option('-t, --timestamps', 'Show timestamps', false)
    .action(async (container: string, o: LogsOptions) => {
      const now = Date.now();
      const agent = ctx.agent();
      const stream = agent.logs({
        container,
        follow: o.follow,
        tail: tailLines(o.tail),
        sinceUnixNano: o.since ? sinceUnixNano(o.since, now).toString() : '0',
        untilUnixNano: o.until ? sinceUnixNano(o.until, now, '--until').toString() : '0',
        stdout: true,
        stderr: true,
      });
      try {
        for await (const entry of stream as AsyncIterable<LogEntry__Output>) {
          const out = entry.stream === 'stderr' ? ctx.stderr : ctx.stdout;
          const written = out.write(
            o.timestamps
              ? Buffer.concat([Buffer.from(`${logTimestamp(entry.timeUnixNano)} `), entry.data])
              : entry.data,
          );
          if (!written) await new Promise((resolve) => out.once('drain', resolve));
        }
      } catch (err) {
        throw callError(agent.host, err);
      } finally {
        stream.cancel();
      }
    });
}
