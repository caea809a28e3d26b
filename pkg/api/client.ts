// The client side of the agent's API, for tsnetctl: where the agent is (`--host unix://PATH`, TSNET_HOST,
// like docker -H and DOCKER_HOST), typed clients, and promise forms of the calls.
import { isAbsolute } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AGENT_ERROR_METADATA } from './errors.ts';
import type { ArchiveChunk, ArchiveChunk__Output } from './generated/tsnet/v1/ArchiveChunk.ts';
import type { Event__Output } from './generated/tsnet/v1/Event.ts';
import type { EventsRequest } from './generated/tsnet/v1/EventsRequest.ts';
import type { ImageHistoryResponse__Output } from './generated/tsnet/v1/ImageHistoryResponse.ts';
import type { ImagesClient } from './generated/tsnet/v1/Images.ts';
import type { ImportChunk } from './generated/tsnet/v1/ImportChunk.ts';
import type { ImportImageResponse__Output } from './generated/tsnet/v1/ImportImageResponse.ts';
import type { InfoResponse__Output } from './generated/tsnet/v1/InfoResponse.ts';
import type { ListImagesRequest } from './generated/tsnet/v1/ListImagesRequest.ts';
import type { ListImagesResponse__Output } from './generated/tsnet/v1/ListImagesResponse.ts';
import type { LoginRequest } from './generated/tsnet/v1/LoginRequest.ts';
import type { LoginResponse__Output } from './generated/tsnet/v1/LoginResponse.ts';
import type { ProgressMessage__Output } from './generated/tsnet/v1/ProgressMessage.ts';
import type { PruneImagesRequest } from './generated/tsnet/v1/PruneImagesRequest.ts';
import type { PruneImagesResponse__Output } from './generated/tsnet/v1/PruneImagesResponse.ts';
import type { PullImageRequest } from './generated/tsnet/v1/PullImageRequest.ts';
import type { PushImageRequest } from './generated/tsnet/v1/PushImageRequest.ts';
import type { RemoveImageRequest } from './generated/tsnet/v1/RemoveImageRequest.ts';
import type { RemoveImageResponse__Output } from './generated/tsnet/v1/RemoveImageResponse.ts';
import type { SaveImagesRequest } from './generated/tsnet/v1/SaveImagesRequest.ts';
import type { SystemClient } from './generated/tsnet/v1/System.ts';
import type { VersionResponse__Output } from './generated/tsnet/v1/VersionResponse.ts';
import { api } from './proto.ts';
import { DEFAULT_API_SOCKET } from './server.ts';

export const HOST_ENV = 'TSNET_HOST';

/** Calls that may wait for a registry or a lock held by a pull: longer than the agent's start-up grace. */
const LONG_CALL_MS = 120_000;

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
  private readonly imagesClient: ImagesClient;

  constructor(socketPath: string) {
    this.host = `unix://${socketPath}`;
    const v1 = api();
    const credentials = grpc.credentials.createInsecure();
    const options = { 'grpc.max_receive_message_length': 64 << 20 };
    this.system = new v1.System(this.host, credentials, options);
    // Every service over the first client's channel: one connection to the agent.
    const shared = { ...options, channelOverride: this.system.getChannel() };
    this.imagesClient = new v1.Images(this.host, credentials, shared);
  }

  close(): void {
    this.imagesClient.close();
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

  // ---- Images. Streams are the call objects: iterate them (`for await`), a failure rejects the iteration and
  // the last message carries it as `error`; map a caught error with `callError(client.host, err)`.

  images(request: ListImagesRequest = {}): Promise<ListImagesResponse__Output> {
    return this.unary((o, cb) => this.imagesClient.List(request, o, cb));
  }

  /** Docker's `image inspect` object for one image (by name, ID or unique ID prefix). */
  async inspectImage(image: string): Promise<Record<string, unknown>> {
    const response = await this.unary<{ json: string }>((o, cb) =>
      this.imagesClient.Inspect({ image }, o, cb),
    );
    return JSON.parse(response.json) as Record<string, unknown>;
  }

  history(image: string): Promise<ImageHistoryResponse__Output> {
    return this.unary((o, cb) => this.imagesClient.History({ image }, o, cb));
  }

  pull(request: PullImageRequest): grpc.ClientReadableStream<ProgressMessage__Output> {
    return this.imagesClient.Pull(request);
  }

  push(request: PushImageRequest): grpc.ClientReadableStream<ProgressMessage__Output> {
    return this.imagesClient.Push(request);
  }

  async tag(source: string, target: string): Promise<void> {
    await this.unary((o, cb) => this.imagesClient.Tag({ source, target }, o, cb));
  }

  removeImage(request: RemoveImageRequest): Promise<RemoveImageResponse__Output> {
    return this.unary((o, cb) => this.imagesClient.Remove(request, o, cb), LONG_CALL_MS);
  }

  pruneImages(request: PruneImagesRequest = {}): Promise<PruneImagesResponse__Output> {
    return this.unary((o, cb) => this.imagesClient.Prune(request, o, cb), LONG_CALL_MS);
  }

  login(request: LoginRequest): Promise<LoginResponse__Output> {
    return this.unary((o, cb) => this.imagesClient.Login(request, o, cb), LONG_CALL_MS);
  }

  async logout(server: string): Promise<void> {
    await this.unary((o, cb) => this.imagesClient.Logout({ server }, o, cb));
  }

  /** Write the archive's chunks, then end(); progress messages come back as it loads. */
  load(): grpc.ClientDuplexStream<ArchiveChunk, ProgressMessage__Output> {
    return this.imagesClient.Load();
  }

  save(request: SaveImagesRequest): grpc.ClientReadableStream<ArchiveChunk__Output> {
    return this.imagesClient.Save(request);
  }

  /** Write the options chunk, then data chunks, then end(); resolves with the new image's ID. */
  import(): { stream: grpc.ClientWritableStream<ImportChunk>; done: Promise<ImportImageResponse__Output> } {
    let stream: grpc.ClientWritableStream<ImportChunk> | undefined;
    const done = new Promise<ImportImageResponse__Output>((resolve, reject) => {
      stream = this.imagesClient.Import((err, value) =>
        err ? reject(callError(this.host, err)) : resolve(value!),
      );
    });
    return { stream: stream!, done };
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
  // UNAVAILABLE from the agent itself (a registry down) is its message, not "the agent is unreachable".
  const fromAgent = e.metadata?.get(AGENT_ERROR_METADATA).length;
  if (e.code === grpc.status.UNAVAILABLE && !fromAgent)
    return new AgentUnreachableError(host, e.details || 'unavailable');
  return new ApiCallError(e.code, e.details || e.message || grpc.status[e.code] || 'call failed');
}
