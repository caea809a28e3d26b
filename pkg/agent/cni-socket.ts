// The agent serves its node's CNI plugins on a unix socket, so plugin executables forward to a warm process.
// Which plugins it serves is the wiring's choice (cmd/agent), not this service's.
import { Counter, type Registry } from 'prom-client';
import { type CniServer, startCniServer } from '../cni/server.ts';
import type { CniPlugin } from '../cni/skel.ts';
import { BUILD_ID } from '../cni/socket-protocol.ts';
import type { Service, ServiceHealth, StartContext } from './service.ts';

export interface CniSocketOptions {
  readonly path: string;
  /** The plugins served, by type. */
  readonly plugins: ReadonlyMap<string, CniPlugin>;
}

export class CniSocketService implements Service {
  readonly name = 'cni-socket';
  private readonly opts: CniSocketOptions;
  private server: CniServer | undefined;
  private requests: Counter<'plugin' | 'command' | 'result'> | undefined;

  constructor(opts: CniSocketOptions) {
    this.opts = opts;
  }

  registerMetrics(registry: Registry): void {
    this.requests = new Counter({
      name: 'tsnet_cni_requests_total',
      help: 'CNI requests served on the agent socket, by plugin, command and result (ok, error)',
      labelNames: ['plugin', 'command', 'result'] as const,
      registers: [registry],
    });
  }

  /** Served from the start: before subnet.env exists tsnet-vxlan answers "try again later" either way. */
  async start(ctx: StartContext): Promise<void> {
    const { path, plugins } = this.opts;
    this.server = await startCniServer(path, {
      plugins,
      logger: ctx.log.child({ service: this.name }),
      onServed: (plugin, command, out) =>
        this.requests?.inc({ plugin, command, result: out.exitCode === 0 ? 'ok' : 'error' }),
    });
    // The built forwarders hand calls only to an agent of their own build: the id says which one this is.
    ctx.log.info({ socket: path, plugins: [...plugins.keys()], buildId: BUILD_ID }, 'serving CNI plugins');
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }

  health(): ServiceHealth {
    return { ready: this.server !== undefined, socket: this.opts.path, buildId: BUILD_ID };
  }
}
