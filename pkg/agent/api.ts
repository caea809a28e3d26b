// The agent's gRPC API on its unix socket. Other services contribute their gRPC services (images,
// containers, networks, ...) and their part of `info` at wiring time; this one serves them all and owns the
// node's event bus.
import type * as grpc from '@grpc/grpc-js';
import type { InfoResponse } from '../api/generated/tsnet/v1/InfoResponse.ts';
import { api } from '../api/proto.ts';
import { type ApiServer, startApiServer } from '../api/server.ts';
import { systemHandlers } from '../api/system.ts';
import { EventBus } from '../events/bus.ts';
import type { Service, ServiceHealth, StartContext } from './service.ts';

export interface ApiServiceOptions {
  readonly path: string;
  readonly nodeName: string;
  readonly version: string;
  readonly dataDir: string;
  readonly runDir: string;
}

/** What a service adds to the agent's API: its gRPC services and its part of `info`. */
export interface ApiContribution {
  readonly services?: [grpc.ServiceDefinition, grpc.UntypedServiceImplementation][];
  info?(): Promise<Partial<InfoResponse>>;
}

export class ApiService implements Service {
  readonly name = 'api';
  readonly events = new EventBus();
  private readonly opts: ApiServiceOptions;
  private readonly contributions: ApiContribution[] = [];
  private server: ApiServer | undefined;

  constructor(opts: ApiServiceOptions) {
    this.opts = opts;
  }

  /** Adds a service's part of the API; only before start. */
  contribute(contribution: ApiContribution): void {
    if (this.server) throw new Error('the API is already serving: contribute before start');
    this.contributions.push(contribution);
  }

  async start(ctx: StartContext): Promise<void> {
    const { path, version, nodeName, dataDir, runDir } = this.opts;
    const info = async (): Promise<InfoResponse> => {
      const parts = await Promise.all(this.contributions.map((c) => c.info?.() ?? {}));
      return Object.assign({ name: nodeName, dataDir, runDir }, ...parts) as InfoResponse;
    };
    this.server = await startApiServer({
      path,
      logger: ctx.log.child({ service: this.name }),
      services: [
        [api().System.service, systemHandlers({ version, events: this.events, info })],
        ...this.contributions.flatMap((c) => c.services ?? []),
      ],
    });
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  health(): ServiceHealth {
    return { ready: this.server !== undefined, socket: this.opts.path };
  }
}
