// What every tsnetctl verb is given: the agent's clients (made on first use, from --host / TSNET_HOST) and
// the process's streams, so a verb is flags → one API call → output.
import { AgentClient, socketPathOf } from '../../api/client.ts';
import { ImagesApi } from '../api.ts';

export interface CliContext {
  images(): ImagesApi;
  agent(): AgentClient;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly stdin: NodeJS.ReadStream;
  close(): void;
}

export function cliContext(host: () => string | undefined): CliContext {
  let images: ImagesApi | undefined;
  let agent: AgentClient | undefined;
  return {
    images: () => (images ??= new ImagesApi(socketPathOf(host()))),
    agent: () => (agent ??= new AgentClient(socketPathOf(host()))),
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    close() {
      images?.close();
      agent?.close();
    },
  };
}

/** Commander's collector for a repeatable flag (`--filter a=1 --filter b=2`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
