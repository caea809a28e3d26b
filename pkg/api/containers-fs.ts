// The Containers service's measuring and filesystem calls: Stats (a stream, one report per second, or one with
// no_stream), Top, CopyFrom and Export (tar streams out), CopyTo (a tar streamed in, its first chunk carrying
// the options). They need only a ContainerLookup: the engine spreads these handlers into its own.
// Port is the engine's: the ports a container got (a host port picked for HostPort "") live in its network
// attachments, which a ContainerHandle does not carry.
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { LayerError } from '../archive/apply.ts';
import {
  ContainerPathNotFoundError,
  CopyError,
  copyFromContainer,
  copyToContainer,
  exportContainer,
} from '../container/copy.ts';
import { type ContainerLookup, ContainerNotFoundError, ContainerStateError } from '../container/handle.ts';
import { type ContainerStatsReport, statsOnce, streamStats } from '../runtime/stats.ts';
import { TopArgumentError, topContainer } from '../runtime/top.ts';
import { AGENT_ERROR_METADATA } from './errors.ts';
import type { ContainerStats } from './generated/tsnet/v1/ContainerStats.ts';
import type { ContainersHandlers } from './generated/tsnet/v1/Containers.ts';
import type { CopyToChunk__Output } from './generated/tsnet/v1/CopyToChunk.ts';
import { requestBytes } from './images-archive.ts';

export interface ContainersFsDeps {
  readonly lookup: ContainerLookup;
  /** where CopyTo keeps an upload while it is checked: on disk, e.g. `<data-dir>/tmp` */
  readonly scratchDir?: string;
  /** between two stats reports (tests shorten it) */
  readonly statsIntervalMs?: number;
}

export type ContainersFsHandlers = Pick<
  ContainersHandlers,
  'Stats' | 'Top' | 'CopyFrom' | 'CopyTo' | 'Export'
>;

/** Under the client's default 4 MiB receive limit, with room to spare. */
const MAX_CHUNK = 1 << 20;

export function containersFsHandlers(deps: ContainersFsDeps): ContainersFsHandlers {
  const intervalMs = deps.statsIntervalMs ?? 1000;
  return {
    Stats(call) {
      const { container, noStream } = call.request;
      const controller = new AbortController();
      call.on('cancelled', () => controller.abort());
      (async () => {
        const handle = await deps.lookup.get(container);
        if (noStream) {
          call.write(statsMessage(await statsOnce(handle, { intervalMs })));
        } else {
          for await (const report of streamStats(handle, { intervalMs, signal: controller.signal })) {
            if (!call.write(statsMessage(report))) await once(call, 'drain');
          }
        }
        if (!call.cancelled) call.end();
      })().catch((err: unknown) => {
        if (!call.cancelled) call.emit('error', statusOf(err));
      });
    },

    Top(call, callback) {
      deps.lookup
        .get(call.request.container)
        .then((handle) => topContainer(handle, call.request.psArgs))
        .then(
          (top) =>
            callback(null, { titles: top.titles, processes: top.processes.map((fields) => ({ fields })) }),
          (err: unknown) => callback(statusOf(err)),
        );
    },

    CopyFrom(call) {
      const { container, path } = call.request;
      sendArchive(call, async () => copyFromContainer(await deps.lookup.get(container), path));
    },

    Export(call) {
      sendArchive(call, async () => exportContainer(await deps.lookup.get(call.request.container)));
    },

    CopyTo(call, callback) {
      let started = false;
      const input = requestBytes(call, (chunk: CopyToChunk__Output) => {
        if (!started && chunk.options) {
          started = true;
          const { container, path } = chunk.options;
          deps.lookup
            .get(container)
            .then((handle) =>
              copyToContainer(handle, path, input, deps.scratchDir ? { scratchDir: deps.scratchDir } : {}),
            )
            .then(
              () => callback(null, {}),
              (err: unknown) => {
                input.destroy();
                callback(statusOf(err));
              },
            );
        }
        return chunk.data ?? Buffer.alloc(0);
      });
      call.on('end', () => {
        if (!started) callback(statusOf(new CopyError('copy: the first chunk must carry the options')));
      });
    },
  };
}

function statsMessage(r: ContainerStatsReport): ContainerStats {
  return {
    id: r.id,
    name: r.name,
    timeUnixNano: r.timeUnixNano.toString(),
    cpuPercent: r.cpuPercent,
    cpuUsageNs: r.cpuUsageNs,
    memoryUsage: r.memoryUsage,
    memoryLimit: r.memoryLimit,
    netRxBytes: r.netRxBytes,
    netTxBytes: r.netTxBytes,
    blockReadBytes: r.blockReadBytes,
    blockWriteBytes: r.blockWriteBytes,
    pids: r.pids,
    onlineCpus: r.onlineCpus,
  };
}

/** Streams a tar in chunks with backpressure; a client that goes away stops the archive. */
function sendArchive(
  call: grpc.ServerWritableStream<unknown, { data: Buffer }>,
  open: () => Promise<Readable>,
) {
  let archive: Readable | undefined;
  call.on('cancelled', () => archive?.destroy());
  (async () => {
    archive = await open();
    for await (const chunk of archive) {
      const bytes = chunk as Buffer;
      for (let at = 0; at < bytes.length; at += MAX_CHUNK) {
        if (call.cancelled) return;
        if (!call.write({ data: bytes.subarray(at, at + MAX_CHUNK) })) await once(call, 'drain');
      }
    }
    if (!call.cancelled) call.end();
  })().catch((err: unknown) => {
    archive?.destroy();
    if (!call.cancelled) call.emit('error', statusOf(err));
  });
}

/** A gRPC status marked as the agent's answer: NOT_FOUND, FAILED_PRECONDITION, INVALID_ARGUMENT or INTERNAL. */
export function statusOf(err: unknown): grpc.ServerErrorResponse & { code: grpc.status; details: string } {
  const details = ((err as Error)?.message ?? String(err)).replace(/\s*\n\s*/g, ' ').trim();
  const code =
    err instanceof ContainerNotFoundError || err instanceof ContainerPathNotFoundError
      ? grpc.status.NOT_FOUND
      : err instanceof ContainerStateError
        ? grpc.status.FAILED_PRECONDITION
        : err instanceof CopyError || err instanceof LayerError || err instanceof TopArgumentError
          ? grpc.status.INVALID_ARGUMENT
          : grpc.status.INTERNAL;
  const metadata = new grpc.Metadata();
  metadata.set(AGENT_ERROR_METADATA, '1');
  return Object.assign(new Error(details), { code, details, metadata });
}
