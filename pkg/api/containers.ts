// The Containers service's lifecycle calls (create, start, stop, restart, kill, pause, unpause, remove,
// rename, list, inspect, wait, prune, port) over the engine. The streaming and filesystem calls (attach, exec,
// logs, stats, top, cp, export) are other modules' handlers, merged in through `extra`.
import * as grpc from '@grpc/grpc-js';
import type { ContainerService, WaitCondition } from '../agent/containers.ts';
import { CgroupError } from '../cgroups/index.ts';
import { EtcFilesError } from '../container/etc-files.ts';
import { ContainerNotFoundError, ContainerStateError } from '../container/handle.ts';
import { publishedPorts } from '../container/inspect.ts';
import { InvalidNameError } from '../container/names.ts';
import { NetworkNotFoundError } from '../container/networking.ts';
import { CreateSpecError } from '../container/parse.ts';
import type { ContainerRecord } from '../container/record.ts';
import { AmbiguousContainerError, NameConflictError, RecordError } from '../container/store.ts';
import { FilterError } from '../container/summary.ts';
import { ImageNotFoundError } from '../image/catalog.ts';
import { CapabilityError } from '../runtime/capabilities.ts';
import { ContainerStartError } from '../runtime/conmon.ts';
import { UlimitError } from '../runtime/rlimits.ts';
import { SignalError } from '../runtime/runc.ts';
import { SpecError } from '../runtime/spec.ts';
import { UserSpecError } from '../runtime/user.ts';
import { MountSpecError } from '../volume/mount-spec.ts';
import { VolumeNotFoundError, VolumeRequestError } from '../volume/store.ts';
import { agentErrorStatus, EXIT_CODE_METADATA, MISSING_IMAGE_METADATA, unaryHandler } from './errors.ts';
import type { ContainerSummary } from './generated/tsnet/v1/ContainerSummary.ts';
import type { ContainersHandlers } from './generated/tsnet/v1/Containers.ts';
import type { PortBinding } from './generated/tsnet/v1/PortBinding.ts';
import { statusOf as imageStatusOf } from './images.ts';

/** Trailing metadata with Docker's exit code for a container that could not start (125, 126, 127). */
export { EXIT_CODE_METADATA };

const WAIT_CONDITIONS = new Set<WaitCondition>(['not-running', 'next-exit', 'removed']);

export function containersHandlers(
  engine: ContainerService,
  extra: Partial<ContainersHandlers> = {},
): ContainersHandlers {
  const action = (fn: () => Promise<{ id: string }>) => async () => ({ id: (await fn()).id, warnings: [] });
  const handlers: Partial<ContainersHandlers> = {
    Create: unary((req) =>
      engine.create({ specJson: req.specJson, name: req.name, pullMissing: req.pullMissing }),
    ),
    Start: unary((req) => action(() => engine.startContainer(req.container))()),
    Stop: unary((req) => action(() => engine.stopContainer(req.container, req.timeoutSeconds))()),
    Restart: unary((req) => action(() => engine.restartContainer(req.container, req.timeoutSeconds))()),
    Kill: unary((req) => action(() => engine.killContainer(req.container, req.signal))()),
    Pause: unary((req) => action(() => engine.pauseContainer(req.container))()),
    Unpause: unary((req) => action(() => engine.unpauseContainer(req.container))()),
    Remove: unary((req) => action(() => engine.removeContainer(req.container, req.force, req.volumes))()),
    Rename: unary((req) => action(() => engine.renameContainer(req.container, req.newName))()),
    List: unary(async (req) => ({
      containers: engine.list(req.all, req.filters, req.last).map(
        ({ record, status }): ContainerSummary => ({
          id: record.id,
          names: [`/${record.name}`],
          image: record.image.ref,
          imageId: record.image.id,
          command: [...(record.config.entrypoint ?? []), ...(record.config.cmd ?? [])].join(' '),
          createdUnix: Math.floor(Date.parse(record.created) / 1000),
          state: record.state.status,
          status,
          ports: portBindingsOf(record),
          labels: record.config.labels,
          networks: record.networkNames,
          exitCode: record.state.exitCode,
        }),
      ),
    })),
    Inspect: unary(async (req) => ({ json: JSON.stringify(engine.inspect(req.container)) })),
    // the ports the running container's attachments published, host ports picked for -P included
    Port: unary(async (req) => ({ ports: portBindingsOf(engine.find(req.container)) })),
    Wait: unary(async (req) => {
      const condition = (req.condition || 'not-running') as WaitCondition;
      if (!WAIT_CONDITIONS.has(condition))
        throw new CreateSpecError(
          `invalid wait condition ${JSON.stringify(req.condition)}: use not-running, next-exit or removed`,
        );
      return engine.wait(req.container, condition);
    }),
    Prune: unary((req) => engine.prune(req.filters)),
    ...extra,
  };
  // grpc-js answers UNIMPLEMENTED for the calls no module serves
  return handlers as ContainersHandlers;
}

function portBindingsOf(record: ContainerRecord): PortBinding[] {
  return publishedPorts(record).map((p) => ({
    hostIp: p.hostIp,
    hostPort: p.hostPort,
    containerPort: p.containerPort,
    protocol: p.protocol,
  }));
}

/** The status a failure maps to; image and registry failures as the Images service maps them. */
export function containerStatusOf(err: unknown): { code: grpc.status; details: string } {
  const details = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').trim();
  if (
    err instanceof ContainerNotFoundError ||
    err instanceof ImageNotFoundError ||
    err instanceof NetworkNotFoundError
  )
    return { code: grpc.status.NOT_FOUND, details };
  if (err instanceof VolumeNotFoundError) return { code: grpc.status.NOT_FOUND, details };
  if (err instanceof NameConflictError) return { code: grpc.status.ALREADY_EXISTS, details };
  if (err instanceof ContainerStateError || err instanceof ContainerStartError)
    return { code: grpc.status.FAILED_PRECONDITION, details };
  if (
    err instanceof CreateSpecError ||
    err instanceof InvalidNameError ||
    err instanceof CgroupError ||
    err instanceof SpecError ||
    err instanceof MountSpecError ||
    err instanceof VolumeRequestError ||
    err instanceof SignalError ||
    err instanceof FilterError ||
    err instanceof UlimitError ||
    err instanceof CapabilityError ||
    err instanceof UserSpecError ||
    err instanceof AmbiguousContainerError ||
    err instanceof RecordError ||
    err instanceof EtcFilesError
  )
    return { code: grpc.status.INVALID_ARGUMENT, details };
  return imageStatusOf(err);
}

function errorStatus(err: unknown): grpc.ServerErrorResponse {
  const { code, details } = containerStatusOf(err);
  return agentErrorStatus(code, details, {
    ...(err instanceof ContainerStartError && { [EXIT_CODE_METADATA]: String(err.exitCode) }),
    ...(err instanceof ImageNotFoundError && { [MISSING_IMAGE_METADATA]: err.image }),
  });
}

function unary<Req, Res>(fn: (request: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return unaryHandler(fn, errorStatus);
}
