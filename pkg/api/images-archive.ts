// The Images service's archive calls: Load (the client streams a docker-archive or OCI layout tar, the agent
// answers with progress and "Loaded image: NAME" lines as docker does), Save (the agent streams a tar) and Import
// (the client streams a rootfs tar, its first chunk carrying the options). The rest of the service lives in
// images.ts, which spreads these handlers into its own.
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { LayerError } from '../archive/apply.ts';
import { DigestError } from '../content/digest.ts';
import type { EventBus } from '../events/bus.ts';
import { importRootfs } from '../image/archive-import.ts';
import { type ArchiveDeps, type ArchiveProgress, loadArchive } from '../image/archive-load.ts';
import { type ArchiveFormat, type SaveRequest, saveArchive } from '../image/archive-save.ts';
import { ArchiveError } from '../image/archive-stage.ts';
import {
  canonicalNameOf,
  type ImageCatalog,
  ImageConflictError,
  ImageNotFoundError,
  isDigestName,
} from '../image/catalog.ts';
import { ManifestError } from '../image/manifest.ts';
import { PlatformError, parsePlatform } from '../image/platform.ts';
import { familiarString, ImageReferenceError, parseImageReference } from '../image/reference.ts';
import { AGENT_ERROR_METADATA } from './errors.ts';
import type { ArchiveChunk__Output } from './generated/tsnet/v1/ArchiveChunk.ts';
import type { ImagesHandlers } from './generated/tsnet/v1/Images.ts';
import type { ImportChunk__Output } from './generated/tsnet/v1/ImportChunk.ts';
import type { ProgressMessage } from './generated/tsnet/v1/ProgressMessage.ts';

export interface ArchiveHandlerDeps {
  /** The open catalog (as ImagesDeps has it): its stores, its lock, its naming and its lookups. */
  catalog(): ImageCatalog;
  readonly events: EventBus;
  /** Where archives are staged while checked: on disk, e.g. `<data-dir>/tmp`. */
  readonly scratchDir: string;
}

/** Under the client's default 4 MiB receive limit, with room to spare. */
const MAX_CHUNK = 1 << 20;
const FORMATS: readonly ArchiveFormat[] = ['docker-archive', 'oci-archive'];

export function archiveHandlers(deps: ArchiveHandlerDeps): Pick<ImagesHandlers, 'Load' | 'Save' | 'Import'> {
  return {
    Load(call) {
      const input = requestBytes(call, (chunk: ArchiveChunk__Output) => chunk.data);
      const progress = (p: ArchiveProgress): void => {
        call.write({ id: p.id, status: p.status, current: p.current ?? 0, total: p.total ?? 0 });
      };
      const catalog = deps.catalog();
      // The upload is staged and checked outside the lock; only storing and naming share it with pulls and tags.
      loadArchive(input, storesOf(catalog, deps.scratchDir), {
        onProgress: progress,
        whileStoring: (store) => catalog.lock.withShared(store),
      }).then(
        (loaded) => {
          for (const image of loaded) {
            const names = image.names.map((n) => familiarString(parseImageReference(n)));
            for (const name of names) {
              call.write({ status: `Loaded image: ${name}` });
              deps.events.publish('image', 'load', image.id, { name });
            }
            if (names.length === 0) {
              call.write({ status: `Loaded image ID: ${image.id}` });
              deps.events.publish('image', 'load', image.id);
            }
          }
          call.end();
        },
        (err: unknown) => {
          input.destroy();
          const status = statusOf(err);
          call.write({ error: status.details } satisfies ProgressMessage);
          call.emit('error', status);
        },
      );
    },

    Save(call) {
      const { images, format } = call.request;
      const chosen = (format || 'docker-archive') as ArchiveFormat;
      if (!FORMATS.includes(chosen)) {
        call.emit(
          'error',
          statusOf(
            new ArchiveError(
              `unknown archive format ${JSON.stringify(format)}: expected ${FORMATS.join(' or ')}`,
            ),
          ),
        );
        return;
      }
      let archive: Readable | undefined;
      call.on('cancelled', () => archive?.destroy());
      (async () => {
        const catalog = deps.catalog();
        // Shared with pulls and tags; a removal waits until the archive is written.
        await catalog.lock.withShared(async () => {
          const requests = [];
          for (const image of images) requests.push(await saveRequestFor(catalog, image));
          archive = await saveArchive(requests, catalog.stores.content, chosen);
          for await (const chunk of archive) {
            const bytes = chunk as Buffer;
            for (let at = 0; at < bytes.length; at += MAX_CHUNK) {
              if (call.cancelled) return;
              if (!call.write({ data: bytes.subarray(at, at + MAX_CHUNK) })) await once(call, 'drain');
            }
          }
        });
        if (call.cancelled) return;
        for (const image of images) deps.events.publish('image', 'save', image);
        call.end();
      })().catch((err: unknown) => {
        archive?.destroy();
        if (!call.cancelled) call.emit('error', statusOf(err));
      });
    },

    Import(call, callback) {
      let started = false;
      const input = requestBytes(call, (chunk: ImportChunk__Output) => {
        if (!started) {
          started = true;
          importWith(chunk);
        }
        return chunk.data;
      });
      // The first chunk carries the options; the import starts with it and reads the rest as it comes.
      function importWith(options: ImportChunk__Output): void {
        (async () => {
          const catalog = deps.catalog();
          const result = await importRootfs(input, storesOf(catalog, deps.scratchDir), {
            whileStoring: (store) => catalog.lock.withShared(store),
            ...(options.reference !== '' && { reference: options.reference }),
            changes: options.changes,
            message: options.message,
            ...(options.platform !== '' && { platform: parsePlatform(options.platform) }),
          });
          deps.events.publish('image', 'import', result.id, result.name ? { name: result.name } : {});
          callback(null, { id: result.id });
        })().catch((err: unknown) => {
          input.destroy();
          callback(statusOf(err));
        });
      }
      call.on('end', () => {
        if (!started) callback(statusOf(new ArchiveError('import: no rootfs tar was sent')));
      });
    },
  };
}

/** The loader's view of the catalog: its content store, and names given through the catalog. */
function storesOf(catalog: ImageCatalog, scratchDir: string): ArchiveDeps {
  return { content: catalog.stores.content, images: catalog.namingStore, scratchDir };
}

/** What to save for a name or ID: the image's manifest, and the tag when it was asked for by one. */
async function saveRequestFor(catalog: ImageCatalog, request: string): Promise<SaveRequest> {
  const image = await catalog.find(request);
  const name = canonicalNameOf(request);
  const named = image.records.find((r) => r.name === name && !isDigestName(r));
  return { manifest: (named ?? image.records[0]!).manifest, names: named ? [named.name] : [] };
}

/**
 * The bytes a client stream carries, as a Readable with backpressure: the call is paused while the consumer
 * lags, and a client that goes away fails the stream instead of leaving it open.
 */
export function requestBytes<T>(
  call: NodeJS.EventEmitter & { pause(): unknown; resume(): unknown },
  dataOf: (chunk: T) => Buffer,
): PassThrough {
  const input = new PassThrough();
  call.on('data', (chunk: T) => {
    const data = dataOf(chunk);
    if (input.destroyed) return; // the operation already failed: the rest is dropped
    if (data.length > 0 && !input.write(data)) {
      call.pause();
      input.once('drain', () => call.resume());
    }
  });
  call.on('end', () => input.end());
  call.on('cancelled', () => input.destroy(new Error('the client cancelled the call')));
  call.on('error', (err: Error) => input.destroy(err));
  return input;
}

/**
 * A gRPC status for an error: the client's fault (a bad archive, an unknown image) or the agent's; marked as
 * the agent's answer (AGENT_ERROR_METADATA) as every Images error is.
 */
export function statusOf(err: unknown): grpc.ServerErrorResponse & { code: grpc.status; details: string } {
  const details = ((err as Error)?.message ?? String(err)).replace(/\s*\n\s*/g, ' ').trim();
  const code =
    err instanceof ImageNotFoundError
      ? grpc.status.NOT_FOUND
      : err instanceof ImageConflictError
        ? grpc.status.FAILED_PRECONDITION
        : err instanceof ArchiveError ||
            err instanceof LayerError ||
            err instanceof ManifestError ||
            err instanceof ImageReferenceError ||
            err instanceof PlatformError ||
            err instanceof DigestError
          ? grpc.status.INVALID_ARGUMENT
          : grpc.status.INTERNAL;
  const metadata = new grpc.Metadata();
  metadata.set(AGENT_ERROR_METADATA, '1');
  return Object.assign(new Error(details), { code, details, metadata });
}
