// The logs of a compose project's containers interleaved, each line prefixed with its container's name
// (`proj-web-1  | text`), as `docker compose logs` and an attached `up` print them.
import type { AgentClient } from '../../api/client.ts';
import { callError } from '../../api/client.ts';
import type { LogEntry__Output } from '../../api/generated/tsnet/v1/LogEntry.ts';
import type { CliContext } from './context.ts';

export interface PrefixedLogsOptions {
  readonly follow: boolean;
  /** only what was written from then on (an attached `up` of containers kept running) */
  readonly sinceUnixNano?: bigint;
  /** stops every stream (Ctrl-C) */
  readonly signal?: AbortSignal;
}

/** Streams every container's log until each stream ends (with follow: until its container stops). */
export async function printPrefixedLogs(
  ctx: CliContext,
  agent: AgentClient,
  containers: readonly { readonly id: string; readonly name: string }[],
  o: PrefixedLogsOptions,
): Promise<void> {
  const width = Math.max(0, ...containers.map((c) => c.name.length));
  await Promise.all(
    containers.map(async (c) => {
      const stream = agent.logs({
        container: c.id,
        follow: o.follow,
        tail: -1,
        sinceUnixNano: (o.sinceUnixNano ?? 0n).toString(),
        untilUnixNano: '0',
        stdout: true,
        stderr: true,
      });
      const cancel = () => stream.cancel();
      o.signal?.addEventListener('abort', cancel, { once: true });
      const prefix = Buffer.from(`${c.name.padEnd(width)}  | `);
      try {
        for await (const entry of stream as AsyncIterable<LogEntry__Output>) {
          const out = entry.stream === 'stderr' ? ctx.stderr : ctx.stdout;
          const line =
            entry.data.at(-1) === 0x0a ? entry.data : Buffer.concat([entry.data, Buffer.from('\n')]);
          if (!out.write(Buffer.concat([prefix, line])))
            await new Promise((resolve) => out.once('drain', resolve));
        }
      } catch (err) {
        if (!o.signal?.aborted) throw callError(agent.host, err);
      } finally {
        o.signal?.removeEventListener('abort', cancel);
        stream.cancel();
      }
    }),
  );
}
