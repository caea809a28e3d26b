// The Volumes service: Docker's `volume create|ls|inspect|rm|prune` over the node's volume store. A missing
// volume is NOT_FOUND, one in use FAILED_PRECONDITION, a bad name, driver, option or filter INVALID_ARGUMENT;
// messages are Docker's, one line each.
import * as grpc from '@grpc/grpc-js';
import {
  type VolumeInfo,
  VolumeInUseError,
  VolumeNotFoundError,
  VolumeRequestError,
  type VolumeStore,
} from '../volume/store.ts';
import { AGENT_ERROR_METADATA } from './errors.ts';
import type { VolumeSummary } from './generated/tsnet/v1/VolumeSummary.ts';
import type { VolumesHandlers } from './generated/tsnet/v1/Volumes.ts';

export interface VolumesDeps {
  /** The open store; throws VolumesNotReadyError until the volume service has opened it. */
  store(): VolumeStore;
}

export class VolumesNotReadyError extends Error {
  override readonly name = 'VolumesNotReadyError';
}

export function volumesHandlers(deps: VolumesDeps): VolumesHandlers {
  return {
    Create: unary(async (req) => {
      const store = deps.store();
      const { volume } = await store.create(req.name, {
        driver: req.driver,
        labels: req.labels,
        options: req.options,
      });
      return summaryOf(volume, (await store.users(volume.Name)).length);
    }),
    List: unary(async (req) => {
      const store = deps.store();
      const volumes = await store.list(req.filters);
      return {
        volumes: await Promise.all(
          volumes.map(async (v) => summaryOf(v, (await store.users(v.Name)).length)),
        ),
      };
    }),
    Inspect: unary(async (req) => ({ json: JSON.stringify(await deps.store().inspect(req.name)) })),
    Remove: unary(async (req) => {
      await deps.store().remove(req.name, { force: req.force });
      return {};
    }),
    Prune: unary(async (req) => deps.store().prune({ all: req.all, filters: req.filters })),
  };
}

function summaryOf(volume: VolumeInfo, refCount: number): VolumeSummary {
  return {
    name: volume.Name,
    driver: volume.Driver,
    mountpoint: volume.Mountpoint,
    createdUnix: Math.floor(Date.parse(volume.CreatedAt) / 1000) || 0,
    labels: { ...volume.Labels },
    scope: volume.Scope,
    refCount,
  };
}

/** The status a failure maps to, with a one-line message. */
export function volumeStatusOf(err: unknown): { code: grpc.status; details: string } {
  const details = ((err as Error)?.message ?? String(err)).replace(/\s*\n\s*/g, ' ').trim();
  if (err instanceof VolumeNotFoundError) return { code: grpc.status.NOT_FOUND, details };
  if (err instanceof VolumeInUseError) return { code: grpc.status.FAILED_PRECONDITION, details };
  if (err instanceof VolumeRequestError) return { code: grpc.status.INVALID_ARGUMENT, details };
  if (err instanceof VolumesNotReadyError) return { code: grpc.status.UNAVAILABLE, details };
  return { code: grpc.status.INTERNAL, details };
}

function unary<Req, Res>(fn: (request: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      (value) => callback(null, value),
      (err: unknown) => {
        const { code, details } = volumeStatusOf(err);
        const metadata = new grpc.Metadata();
        metadata.set(AGENT_ERROR_METADATA, '1');
        callback(Object.assign(new Error(details), { code, details, metadata }));
      },
    );
  };
}
