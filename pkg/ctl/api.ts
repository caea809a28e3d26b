// tsnetctl's calls to the agent's Images service, on the generated stubs: unary calls as promises, long
// operations as streams whose errors read like the agent's own (see callError).
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { callError } from '../api/client.ts';
import type { ArchiveChunk__Output } from '../api/generated/tsnet/v1/ArchiveChunk.ts';
import type { HistoryEntry__Output } from '../api/generated/tsnet/v1/HistoryEntry.ts';
import type { ImageHistoryResponse__Output } from '../api/generated/tsnet/v1/ImageHistoryResponse.ts';
import type { ImageSummary__Output } from '../api/generated/tsnet/v1/ImageSummary.ts';
import type { ImagesClient } from '../api/generated/tsnet/v1/Images.ts';
import type { ImportChunk } from '../api/generated/tsnet/v1/ImportChunk.ts';
import type { InspectImageResponse__Output } from '../api/generated/tsnet/v1/InspectImageResponse.ts';
import type { ListImagesResponse__Output } from '../api/generated/tsnet/v1/ListImagesResponse.ts';
import type { LoginResponse__Output } from '../api/generated/tsnet/v1/LoginResponse.ts';
import type { ProgressMessage__Output } from '../api/generated/tsnet/v1/ProgressMessage.ts';
import type { PruneImagesResponse__Output } from '../api/generated/tsnet/v1/PruneImagesResponse.ts';
import type { RemoveImageResponse__Output } from '../api/generated/tsnet/v1/RemoveImageResponse.ts';
import { api } from '../api/proto.ts';

export type Progress = ProgressMessage__Output;
export type ImageSummary = ImageSummary__Output;
export type HistoryEntry = HistoryEntry__Output;

/** Unary calls that touch the store can take a while (prune walks every blob); unreachable fails fast anyway. */
const UNARY_DEADLINE_MS = 10 * 60_000;
const CHUNK_BYTES = 256 << 10;

export class ImagesApi {
  readonly host: string;
  private readonly client: ImagesClient;

  constructor(socketPath: string) {
    this.host = `unix://${socketPath}`;
    this.client = new (api().Images)(this.host, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 << 20,
    });
  }

  close(): void {
    this.client.close();
  }

  async list(all: boolean, filters: string[]): Promise<ImageSummary[]> {
    return (
      await this.unary<ListImagesResponse__Output>((o, cb) => this.client.List({ all, filters }, o, cb))
    ).images;
  }

  /** Docker's inspect object for `image`, parsed from the agent's JSON. */
  async inspect(image: string): Promise<unknown> {
    const { json } = await this.unary<InspectImageResponse__Output>((o, cb) =>
      this.client.Inspect({ image }, o, cb),
    );
    return JSON.parse(json) as unknown;
  }

  async history(image: string): Promise<HistoryEntry[]> {
    return (await this.unary<ImageHistoryResponse__Output>((o, cb) => this.client.History({ image }, o, cb)))
      .entries;
  }

  tag(source: string, target: string): Promise<unknown> {
    return this.unary((o, cb) => this.client.Tag({ source, target }, o, cb));
  }

  remove(image: string, force: boolean, noPrune: boolean): Promise<RemoveImageResponse__Output> {
    return this.unary((o, cb) => this.client.Remove({ image, force, noPrune }, o, cb));
  }

  prune(all: boolean, filters: string[]): Promise<PruneImagesResponse__Output> {
    return this.unary((o, cb) => this.client.Prune({ all, filters }, o, cb));
  }

  async login(server: string, username: string, password: string): Promise<string> {
    return (
      await this.unary<LoginResponse__Output>((o, cb) =>
        this.client.Login({ server, username, password }, o, cb),
      )
    ).status;
  }

  async logout(server: string): Promise<void> {
    await this.unary((o, cb) => this.client.Logout({ server }, o, cb));
  }

  pull(reference: string, platform: string, allTags: boolean): AsyncIterable<Progress> {
    return this.messages(this.client.Pull({ reference, platform, allTags }));
  }

  push(reference: string): AsyncIterable<Progress> {
    return this.messages(this.client.Push({ reference }));
  }

  /** Streams `archive` (a docker-archive or OCI-layout tar) to the agent while yielding its progress. */
  load(archive: Readable): AsyncIterable<Progress> {
    const call = this.client.Load();
    return this.messages(
      call,
      sendChunks(archive, call, (data) => ({ data })),
    );
  }

  /** The docker-archive tar of `images`, as the agent streams it. */
  async *save(images: string[]): AsyncIterable<Buffer> {
    for await (const chunk of this.messages<ArchiveChunk__Output>(this.client.Save({ images, format: '' })))
      yield chunk.data;
  }

  /** Streams a rootfs tar; the first chunk carries the options (as the contract says). */
  async import(
    tar: Readable,
    options: { reference: string; changes: string[]; message: string; platform: string },
  ): Promise<string> {
    let call: grpc.ClientWritableStream<ImportChunk> | undefined;
    const answer = new Promise<string>((resolve, reject) => {
      call = this.client.Import({ deadline: Date.now() + UNARY_DEADLINE_MS }, (err, value) =>
        err ? reject(callError(this.host, err)) : resolve(value?.id ?? ''),
      );
    });
    const stream = call as unknown as grpc.ClientWritableStream<ImportChunk>;
    stream.write({ ...options });
    answer.catch(() => {}); // read below, after the upload, which may fail first
    try {
      await sendChunks(tar, stream, (data) => ({ data }));
    } catch (err) {
      stream.cancel();
      throw err;
    }
    return answer;
  }

  private async *messages<T>(
    call: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<unknown, T>,
    upload?: Promise<void>,
  ): AsyncIterable<T> {
    // A local read error (the archive's file) is the cause: the call is cancelled and its error is not.
    let uploadError: unknown;
    upload?.catch((err: unknown) => {
      uploadError = err;
      call.cancel();
    });
    try {
      for await (const message of call as AsyncIterable<T>) yield message;
      await upload;
    } catch (err) {
      throw uploadError ?? callError(this.host, err);
    } finally {
      call.cancel();
    }
  }

  private unary<Res>(
    invoke: (
      options: grpc.CallOptions,
      callback: (err: grpc.ServiceError | null, value?: Res) => void,
    ) => unknown,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      invoke({ deadline: Date.now() + UNARY_DEADLINE_MS }, (err, value) =>
        err ? reject(callError(this.host, err)) : resolve(value as Res),
      );
    });
  }
}

/** Copies `source` into the call in bounded chunks, waiting for it to drain (backpressure), then ends it. */
export async function sendChunks<M>(
  source: Readable,
  call: Writable,
  message: (data: Buffer) => M,
): Promise<void> {
  for await (const piece of source as AsyncIterable<Buffer>) {
    for (let at = 0; at < piece.length; at += CHUNK_BYTES) {
      if (!call.write(message(piece.subarray(at, at + CHUNK_BYTES)))) await once(call, 'drain');
    }
  }
  call.end();
}
