// The client side of the agent's API, for tsnetctl: where the agent is (`--host unix://PATH`, TSNET_HOST,
// like docker -H and DOCKER_HOST), typed clients, and promise forms of the calls.
import { isAbsolute } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Event__Output } from './generated/tsnet/v1/Event.ts';
import type { EventsRequest } from './generated/tsnet/v1/EventsRequest.ts';
import type { ImagesClient } from './generated/tsnet/v1/Images.ts';
import type { InfoResponse__Output } from './generated/tsnet/v1/InfoResponse.ts';
import type { SystemClient } from './generated/tsnet/v1/System.ts';
import type { VersionResponse__Output } from './generated/tsnet/v1/VersionResponse.ts';
import { api } from './proto.ts';
import { DEFAULT_API_SOCKET } from './server.ts';

export const HOST_ENV = 'TSNET_HOST';

/** A --host value that is not a unix socket URL. */
export class HostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostError';
  }
}

/** The agent could not be reached at all. */
export class AgentUnreachableError extends Error {
  constructor(
    readonly host: string,
    reason: string,
  ) {
    super(`cannot connect to the tsnet agent at ${host}: ${reason} (is tsnet-agent running?)`);
    this.name = 'AgentUnreachableError';
  }
}

/** The socket path of a host URL: `unix:///abs/path` or `unix:/abs/path`; default from TSNET_HOST. */
export function socketPathOf(host: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const value = host ?? env[HOST_ENV] ?? `unix://${DEFAULT_API_SOCKET}`;
  const m = /^unix:(?:\/\/(\/.*)|(\/(?!\/).*))$/.exec(value);
  const path = m?.[1] ?? m?.[2];
  if (!path || !isAbsolute(path))
    throw new HostError(`invalid host ${JSON.stringify(value)}: expected unix:///path/to/socket`);
  return path;
}

/** The agent's API as promises and streams: one method per call, typed by the generated contract. */
export class AgentClient {
  readonly host: string;
  private readonly system: SystemClient;
  private readonly images: ImagesClient;

  constructor(socketPath: string) {
    this.host = `unix://${socketPath}`;
    const v1 = api();
    const credentials = grpc.credentials.createInsecure();
    const options = { 'grpc.max_receive_message_length': 64 << 20 };
    this.system = new v1.System(this.host, credentials, options);
    // Every service over the first client's channel: one connection to the agent.
    const shared = { ...options, channelOverride: this.system.getChannel() };
    this.images = new v1.Images(this.host, credentials, shared);
  }

  close(): void {
    this.images.close();
    this.system.close();
  }

  version(): Promise<VersionResponse__Output> {
    return this.unary((o, cb) => this.system.Version({}, o, cb));
  }

  info(): Promise<InfoResponse__Output> {
    return this.unary((o, cb) => this.system.Info({}, o, cb));
  }

  events(request: EventsRequest): grpc.ClientReadableStream<Event__Output> {
    return this.system.Events(request);
  }

  /** Waits for the agent up to `timeoutMs` (then: unreachable), and maps failures to one-line errors. */
  private unary<Res>(
    invoke: (
      options: grpc.CallOptions,
      callback: (err: grpc.ServiceError | null, value?: Res) => void,
    ) => unknown,
    timeoutMs = 5000,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      invoke({ deadline: Date.now() + timeoutMs }, (err, value) => {
        if (err) return reject(callError(this.host, err));
        resolve(value as Res);
      });
    });
  }
}

/** A failed call's status as an error whose message is the agent's own. */
export class ApiCallError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

/** Maps a gRPC error to what the user should read. */
export function callError(host: string, err: unknown): Error {
  const e = err as Partial<grpc.ServiceError>;
  if (typeof e.code !== 'number') return err instanceof Error ? err : new Error(String(err));
  if (e.code === grpc.status.UNAVAILABLE) return new AgentUnreachableError(host, e.details || 'unavailable');
  return new ApiCallError(e.code, e.details || e.message || grpc.status[e.code] || 'call failed');
}
