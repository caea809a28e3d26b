// The client side of the agent's API, for tsnetctl: where the agent is (`--host unix://PATH`, TSNET_HOST,
// like docker -H and DOCKER_HOST), typed clients, and promise forms of the calls.
import { isAbsolute } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AGENT_ERROR_METADATA, EXIT_CODE_METADATA, MISSING_IMAGE_METADATA } from './errors.ts';
import type { ArchiveChunk, ArchiveChunk__Output } from './generated/tsnet/v1/ArchiveChunk.ts';
import type { AttachInput } from './generated/tsnet/v1/AttachInput.ts';
import type { AttachOutput__Output } from './generated/tsnet/v1/AttachOutput.ts';
import type { BuildChunk } from './generated/tsnet/v1/BuildChunk.ts';
import type { BuildMessage__Output } from './generated/tsnet/v1/BuildMessage.ts';
import type { ClusterClient } from './generated/tsnet/v1/Cluster.ts';
import type { ClusterContainersRequest } from './generated/tsnet/v1/ClusterContainersRequest.ts';
import type { ClusterContainersResponse__Output } from './generated/tsnet/v1/ClusterContainersResponse.ts';
import type { CommitRequest } from './generated/tsnet/v1/CommitRequest.ts';
import type { CommitResponse__Output } from './generated/tsnet/v1/CommitResponse.ts';
import type { ConnectNetworkRequest } from './generated/tsnet/v1/ConnectNetworkRequest.ts';
import type { ContainerActionResponse__Output } from './generated/tsnet/v1/ContainerActionResponse.ts';
import type { ContainerStats__Output } from './generated/tsnet/v1/ContainerStats.ts';
import type { ContainersClient } from './generated/tsnet/v1/Containers.ts';
import type { CopyToChunk } from './generated/tsnet/v1/CopyToChunk.ts';
import type { CreateContainerRequest } from './generated/tsnet/v1/CreateContainerRequest.ts';
import type { CreateContainerResponse__Output } from './generated/tsnet/v1/CreateContainerResponse.ts';
import type { CreateNetworkRequest } from './generated/tsnet/v1/CreateNetworkRequest.ts';
import type { CreateNetworkResponse__Output } from './generated/tsnet/v1/CreateNetworkResponse.ts';
import type { CreateVolumeRequest } from './generated/tsnet/v1/CreateVolumeRequest.ts';
import type { DisconnectNetworkRequest } from './generated/tsnet/v1/DisconnectNetworkRequest.ts';
import type { Event__Output } from './generated/tsnet/v1/Event.ts';
import type { EventsRequest } from './generated/tsnet/v1/EventsRequest.ts';
import type { ExecInput } from './generated/tsnet/v1/ExecInput.ts';
import type { ImageHistoryResponse__Output } from './generated/tsnet/v1/ImageHistoryResponse.ts';
import type { ImagesClient } from './generated/tsnet/v1/Images.ts';
import type { ImportChunk } from './generated/tsnet/v1/ImportChunk.ts';
import type { ImportImageResponse__Output } from './generated/tsnet/v1/ImportImageResponse.ts';
import type { InfoResponse__Output } from './generated/tsnet/v1/InfoResponse.ts';
import type { KillContainerRequest } from './generated/tsnet/v1/KillContainerRequest.ts';
import type { ListContainersRequest } from './generated/tsnet/v1/ListContainersRequest.ts';
import type { ListContainersResponse__Output } from './generated/tsnet/v1/ListContainersResponse.ts';
import type { ListImagesRequest } from './generated/tsnet/v1/ListImagesRequest.ts';
import type { ListImagesResponse__Output } from './generated/tsnet/v1/ListImagesResponse.ts';
import type { ListNetworksResponse__Output } from './generated/tsnet/v1/ListNetworksResponse.ts';
import type { ListNodesResponse__Output } from './generated/tsnet/v1/ListNodesResponse.ts';
import type { ListVolumesResponse__Output } from './generated/tsnet/v1/ListVolumesResponse.ts';
import type { LogEntry__Output } from './generated/tsnet/v1/LogEntry.ts';
import type { LoginRequest } from './generated/tsnet/v1/LoginRequest.ts';
import type { LoginResponse__Output } from './generated/tsnet/v1/LoginResponse.ts';
import type { LogsRequest } from './generated/tsnet/v1/LogsRequest.ts';
import type { NetworksClient } from './generated/tsnet/v1/Networks.ts';
import type { PortResponse__Output } from './generated/tsnet/v1/PortResponse.ts';
import type { ProgressMessage__Output } from './generated/tsnet/v1/ProgressMessage.ts';
import type { PruneContainersResponse__Output } from './generated/tsnet/v1/PruneContainersResponse.ts';
import type { PruneImagesRequest } from './generated/tsnet/v1/PruneImagesRequest.ts';
import type { PruneImagesResponse__Output } from './generated/tsnet/v1/PruneImagesResponse.ts';
import type { PruneNetworksResponse__Output } from './generated/tsnet/v1/PruneNetworksResponse.ts';
import type { PruneVolumesRequest } from './generated/tsnet/v1/PruneVolumesRequest.ts';
import type { PruneVolumesResponse__Output } from './generated/tsnet/v1/PruneVolumesResponse.ts';
import type { PullImageRequest } from './generated/tsnet/v1/PullImageRequest.ts';
import type { PushImageRequest } from './generated/tsnet/v1/PushImageRequest.ts';
import type { RemoveContainerRequest } from './generated/tsnet/v1/RemoveContainerRequest.ts';
import type { RemoveImageRequest } from './generated/tsnet/v1/RemoveImageRequest.ts';
import type { RemoveImageResponse__Output } from './generated/tsnet/v1/RemoveImageResponse.ts';
import type { SaveImagesRequest } from './generated/tsnet/v1/SaveImagesRequest.ts';
import type { StatsRequest } from './generated/tsnet/v1/StatsRequest.ts';
import type { SystemClient } from './generated/tsnet/v1/System.ts';
import type { TopResponse__Output } from './generated/tsnet/v1/TopResponse.ts';
import type { VersionResponse__Output } from './generated/tsnet/v1/VersionResponse.ts';
import type { VolumeSummary__Output } from './generated/tsnet/v1/VolumeSummary.ts';
import type { VolumesClient } from './generated/tsnet/v1/Volumes.ts';
import type { WaitContainerResponse__Output } from './generated/tsnet/v1/WaitContainerResponse.ts';
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

const CHANNEL_OPTIONS = { 'grpc.max_receive_message_length': 64 << 20 };

/** The agent's API as promises and streams: one method per call, typed by the generated contract. */
export class AgentClient {
  readonly host: string;
  readonly socketPath: string;
  private readonly credentials = grpc.credentials.createInsecure();
  private readonly system: SystemClient;
  /** The other services' clients, each made on its first call (a service's codecs are built then). */
  private readonly clients: {
    images?: ImagesClient;
    containers?: ContainersClient;
    networks?: NetworksClient;
    volumes?: VolumesClient;
    cluster?: ClusterClient;
  } = {};

  constructor(socketPath: string) {
    this.socketPath = socketPath;
    this.host = `unix://${socketPath}`;
    this.system = new (api().System)(this.host, this.credentials, CHANNEL_OPTIONS);
  }

  /** A service's client over the first client's channel: one connection to the agent. */
  private make<C>(service: new (...args: ConstructorParameters<typeof grpc.Client>) => C): C {
    return new service(this.host, this.credentials, {
      ...CHANNEL_OPTIONS,
      channelOverride: this.system.getChannel(),
    });
  }

  private get imagesClient(): ImagesClient {
    this.clients.images ??= this.make(api().Images);
    return this.clients.images;
  }

  private get containersClient(): ContainersClient {
    this.clients.containers ??= this.make(api().Containers);
    return this.clients.containers;
  }

  private get networksClient(): NetworksClient {
    this.clients.networks ??= this.make(api().Networks);
    return this.clients.networks;
  }

  private get volumesClient(): VolumesClient {
    this.clients.volumes ??= this.make(api().Volumes);
    return this.clients.volumes;
  }

  private get clusterClient(): ClusterClient {
    this.clients.cluster ??= this.make(api().Cluster);
    return this.clients.cluster;
  }

  close(): void {
    for (const client of Object.values(this.clients)) client.close();
    this.system.close();
  }

  /** Connects without a call; false when the agent did not answer within `timeoutMs`. */
  connected(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => this.system.waitForReady(Date.now() + timeoutMs, (err) => resolve(!err)));
  }

  version(): Promise<VersionResponse__Output> {
    return this.unary((o, cb) => this.system.Version({}, o, cb));
  }

  info(): Promise<InfoResponse__Output> {
    return this.unary((o, cb) => this.system.Info({}, o, cb));
  }

  /** Every node's lease as this agent sees it. */
  clusterNodes(): Promise<ListNodesResponse__Output> {
    return this.unary((o, cb) => this.clusterClient.Nodes({}, o, cb));
  }

  /** Every container published in the cluster (the agent's discovery view). */
  clusterContainers(request: ClusterContainersRequest = {}): Promise<ClusterContainersResponse__Output> {
    return this.unary((o, cb) => this.clusterClient.Containers(request, o, cb));
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

  /**
   * Write a chunk with the options first, then the context tar's chunks, then end(); the build's output comes
   * back line by line, the image ID on the last message (or the error, and the call fails).
   */
  build(): grpc.ClientDuplexStream<BuildChunk, BuildMessage__Output> {
    return this.imagesClient.Build();
  }

  /** A container's changes as a new image; a running one is paused meanwhile unless noPause. */
  commit(request: CommitRequest): Promise<CommitResponse__Output> {
    return this.unary((o, cb) => this.imagesClient.Commit(request, o, cb), LONG_CALL_MS);
  }

  // ---- Containers. A container is named by its name, ID or a unique ID prefix. Streams are the call objects,
  // as for images; a duplex call (attach, exec) takes its start message first.

  /** May pull the image (pullMissing): as long as a pull. */
  createContainer(request: CreateContainerRequest): Promise<CreateContainerResponse__Output> {
    return this.unary((o, cb) => this.containersClient.Create(request, o, cb), LONG_CALL_MS);
  }

  startContainer(container: string): Promise<ContainerActionResponse__Output> {
    return this.unary((o, cb) => this.containersClient.Start({ container }, o, cb), LONG_CALL_MS);
  }

  /** Waits up to the stop timeout (-1: the container's own) plus the kill; no deadline of ours shorter. */
  stopContainer(container: string, timeoutSeconds = -1): Promise<ContainerActionResponse__Output> {
    return this.unary(
      (o, cb) => this.containersClient.Stop({ container, timeoutSeconds }, o, cb),
      stopDeadlineMs(timeoutSeconds),
    );
  }

  restartContainer(container: string, timeoutSeconds = -1): Promise<ContainerActionResponse__Output> {
    return this.unary(
      (o, cb) => this.containersClient.Restart({ container, timeoutSeconds }, o, cb),
      timeoutSeconds >= 0 ? stopDeadlineMs(timeoutSeconds) + LONG_CALL_MS : 0,
    );
  }

  killContainer(request: KillContainerRequest): Promise<ContainerActionResponse__Output> {
    return this.unary((o, cb) => this.containersClient.Kill(request, o, cb));
  }

  pauseContainer(container: string): Promise<ContainerActionResponse__Output> {
    return this.unary((o, cb) => this.containersClient.Pause({ container }, o, cb));
  }

  unpauseContainer(container: string): Promise<ContainerActionResponse__Output> {
    return this.unary((o, cb) => this.containersClient.Unpause({ container }, o, cb));
  }

  removeContainer(request: RemoveContainerRequest): Promise<ContainerActionResponse__Output> {
    return this.unary((o, cb) => this.containersClient.Remove(request, o, cb), LONG_CALL_MS);
  }

  async renameContainer(container: string, newName: string): Promise<void> {
    await this.unary((o, cb) => this.containersClient.Rename({ container, newName }, o, cb));
  }

  containers(request: ListContainersRequest = {}): Promise<ListContainersResponse__Output> {
    return this.unary((o, cb) => this.containersClient.List(request, o, cb));
  }

  /** Docker's `container inspect` object for one container. */
  async inspectContainer(container: string): Promise<Record<string, unknown>> {
    const response = await this.unary<{ json: string }>((o, cb) =>
      this.containersClient.Inspect({ container }, o, cb),
    );
    return JSON.parse(response.json) as Record<string, unknown>;
  }

  /** Resolves when the condition holds, however long that takes (docker wait has no timeout). */
  waitContainer(container: string, condition = ''): Promise<WaitContainerResponse__Output> {
    return this.unary((o, cb) => this.containersClient.Wait({ container, condition }, o, cb), 0);
  }

  /** Write an AttachStart first, then stdin, resizes and closeStdin; frames end with the exit code. */
  attach(): grpc.ClientDuplexStream<AttachInput, AttachOutput__Output> {
    return this.containersClient.Attach();
  }

  /** Write an ExecStart first, then stdin, resizes and closeStdin; the last frame has the exit code. */
  exec(): grpc.ClientDuplexStream<ExecInput, AttachOutput__Output> {
    return this.containersClient.Exec();
  }

  logs(request: LogsRequest): grpc.ClientReadableStream<LogEntry__Output> {
    return this.containersClient.Logs(request);
  }

  stats(request: StatsRequest): grpc.ClientReadableStream<ContainerStats__Output> {
    return this.containersClient.Stats(request);
  }

  top(container: string, psArgs: string[] = []): Promise<TopResponse__Output> {
    return this.unary((o, cb) => this.containersClient.Top({ container, psArgs }, o, cb));
  }

  port(container: string): Promise<PortResponse__Output> {
    return this.unary((o, cb) => this.containersClient.Port({ container }, o, cb));
  }

  /** A tar of `path` in the container. */
  copyFrom(container: string, path: string): grpc.ClientReadableStream<ArchiveChunk__Output> {
    return this.containersClient.CopyFrom({ container, path });
  }

  /** Write the options chunk, then tar data chunks, then end(); resolves when the agent has extracted it. */
  copyTo(): { stream: grpc.ClientWritableStream<CopyToChunk>; done: Promise<void> } {
    let stream: grpc.ClientWritableStream<CopyToChunk> | undefined;
    const done = new Promise<void>((resolve, reject) => {
      stream = this.containersClient.CopyTo((err) => (err ? reject(callError(this.host, err)) : resolve()));
    });
    return { stream: stream!, done };
  }

  /** The container's filesystem as a tar. */
  export(container: string): grpc.ClientReadableStream<ArchiveChunk__Output> {
    return this.containersClient.Export({ container });
  }

  pruneContainers(filters: string[] = []): Promise<PruneContainersResponse__Output> {
    return this.unary((o, cb) => this.containersClient.Prune({ filters }, o, cb), LONG_CALL_MS);
  }

  // ---- Networks (by name, ID or unique ID prefix).

  createNetwork(request: CreateNetworkRequest): Promise<CreateNetworkResponse__Output> {
    return this.unary((o, cb) => this.networksClient.Create(request, o, cb), LONG_CALL_MS);
  }

  networks(filters: string[] = []): Promise<ListNetworksResponse__Output> {
    return this.unary((o, cb) => this.networksClient.List({ filters }, o, cb));
  }

  /** Docker's `network inspect` object for one network. */
  async inspectNetwork(network: string): Promise<Record<string, unknown>> {
    const response = await this.unary<{ json: string }>((o, cb) =>
      this.networksClient.Inspect({ network }, o, cb),
    );
    return JSON.parse(response.json) as Record<string, unknown>;
  }

  async removeNetwork(network: string): Promise<string> {
    return (
      await this.unary<{ id: string }>(
        (o, cb) => this.networksClient.Remove({ network }, o, cb),
        LONG_CALL_MS,
      )
    ).id;
  }

  async connectNetwork(request: ConnectNetworkRequest): Promise<void> {
    await this.unary((o, cb) => this.networksClient.Connect(request, o, cb), LONG_CALL_MS);
  }

  async disconnectNetwork(request: DisconnectNetworkRequest): Promise<void> {
    await this.unary((o, cb) => this.networksClient.Disconnect(request, o, cb), LONG_CALL_MS);
  }

  pruneNetworks(filters: string[] = []): Promise<PruneNetworksResponse__Output> {
    return this.unary((o, cb) => this.networksClient.Prune({ filters }, o, cb), LONG_CALL_MS);
  }

  // ---- Volumes (by name).

  createVolume(request: CreateVolumeRequest): Promise<VolumeSummary__Output> {
    return this.unary((o, cb) => this.volumesClient.Create(request, o, cb));
  }

  volumes(filters: string[] = []): Promise<ListVolumesResponse__Output> {
    return this.unary((o, cb) => this.volumesClient.List({ filters }, o, cb));
  }

  /** Docker's `volume inspect` object for one volume. */
  async inspectVolume(name: string): Promise<Record<string, unknown>> {
    const response = await this.unary<{ json: string }>((o, cb) =>
      this.volumesClient.Inspect({ name }, o, cb),
    );
    return JSON.parse(response.json) as Record<string, unknown>;
  }

  async removeVolume(name: string, force = false): Promise<void> {
    await this.unary((o, cb) => this.volumesClient.Remove({ name, force }, o, cb), LONG_CALL_MS);
  }

  pruneVolumes(request: PruneVolumesRequest = {}): Promise<PruneVolumesResponse__Output> {
    return this.unary((o, cb) => this.volumesClient.Prune(request, o, cb), LONG_CALL_MS);
  }

  /** Waits for the agent up to `timeoutMs` (then: unreachable; 0: no deadline), and maps failures to one-line errors. */
  private unary<Res>(
    invoke: (
      options: grpc.CallOptions,
      callback: (err: grpc.ServiceError | null, value?: Res) => void,
    ) => unknown,
    timeoutMs = 5000,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      const options: grpc.CallOptions = timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {};
      invoke(options, (err, value) => {
        if (err) return reject(callError(this.host, err));
        resolve(value as Res);
      });
    });
  }
}

/** A stop's deadline: the grace period and the kill after it; none when the container's own (unknown here). */
function stopDeadlineMs(timeoutSeconds: number): number {
  return timeoutSeconds >= 0 ? timeoutSeconds * 1000 + LONG_CALL_MS : 0;
}

/** A failed call's status as an error whose message is the agent's own. */
export class ApiCallError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
    /** the exit code docker gives this failure, when the agent says (126, 127) */
    readonly exitCode?: number,
    /** the image the call found missing, when the agent says so */
    readonly missingImage?: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

/** Maps a gRPC error to what the user should read. */
/** grpc-js's "No connection established. Last error: Error: connect ENOENT /x. Resolution note: ..." made short. */
function connectFailure(details: string): string {
  const cause = /Last error: (?:Error: )?(.*?)\.?(?: Resolution note:.*)?$/s.exec(details)?.[1];
  return (cause ?? details).replace(/\s*\n\s*/g, ' ').trim();
}

export function callError(host: string, err: unknown): Error {
  const e = err as Partial<grpc.ServiceError>;
  if (typeof e.code !== 'number') return err instanceof Error ? err : new Error(String(err));
  // UNAVAILABLE from the agent itself (a registry down) is its message, not "the agent is unreachable".
  const fromAgent = e.metadata?.get(AGENT_ERROR_METADATA).length;
  if (e.code === grpc.status.UNAVAILABLE && !fromAgent)
    return new AgentUnreachableError(host, connectFailure(e.details || 'unavailable'));
  const exitCode = Number(e.metadata?.get(EXIT_CODE_METADATA)[0]);
  const missingImage = e.metadata?.get(MISSING_IMAGE_METADATA)[0];
  return new ApiCallError(
    e.code,
    e.details || e.message || grpc.status[e.code] || 'call failed',
    Number.isInteger(exitCode) && exitCode > 0 ? exitCode : undefined,
    typeof missingImage === 'string' && missingImage !== '' ? missingImage : undefined,
  );
}
