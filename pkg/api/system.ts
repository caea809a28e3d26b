// The System service: version, info and the event stream, over what the agent's services report.
import { release } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { type EventBus, FilterError, parseEventFilters } from '../events/bus.ts';
import type { InfoResponse } from './generated/tsnet/v1/InfoResponse.ts';
import type { SystemHandlers } from './generated/tsnet/v1/System.ts';
import type { VersionResponse } from './generated/tsnet/v1/VersionResponse.ts';
import { API_VERSION } from './proto.ts';

/** Docker's names for Node's architectures. */
export function dockerArch(arch: string = process.arch): string {
  return (
    (
      { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<
        string,
        string
      >
    )[arch] ?? arch
  );
}

export interface SystemSources {
  version: string;
  gitCommit?: string;
  events: EventBus;
  /** What the agent holds right now; fields the services fill in. */
  info: () => Promise<InfoResponse>;
}

export function systemHandlers(sources: SystemSources): SystemHandlers {
  const version: VersionResponse = {
    version: sources.version,
    apiVersion: API_VERSION,
    gitCommit: sources.gitCommit ?? '',
    nodeVersion: process.version,
    os: process.platform,
    arch: dockerArch(),
    kernelVersion: release(),
  };
  return {
    Version(_call, callback) {
      callback(null, version);
    },
    Info(_call, callback) {
      sources.info().then(
        (info) => callback(null, info),
        (err: unknown) => callback({ code: grpc.status.INTERNAL, details: (err as Error).message }),
      );
    },
    Events(call) {
      let filter: ReturnType<typeof parseEventFilters>;
      try {
        filter = parseEventFilters(call.request.filters);
      } catch (err) {
        call.emit('error', {
          code: err instanceof FilterError ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL,
          details: (err as Error).message,
        });
        return;
      }
      const unsubscribe = sources.events.subscribe(filter, BigInt(call.request.sinceUnixNano), (e) =>
        call.write({ ...e, timeUnixNano: e.timeUnixNano.toString() }),
      );
      call.on('cancelled', unsubscribe);
      call.on('close', unsubscribe);
    },
  };
}
