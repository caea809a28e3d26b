// The Images service's Build and Commit calls. Build: the client streams the context as a tar (the first
// chunk carries the options), the agent unpacks it into a directory under its scratch dir, parses the
// Dockerfile (the client's copy, or the context's), runs the builder and streams its output line by line;
// the context directory goes once the build ends, however it ends. Commit: a container's changes as an image.
// The builder itself (stores, cache, the engine for RUN) is behind ImageBuilder, plugged in by the agent.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { applyLayer, LayerError, layerPath } from '../archive/apply.ts';
import { BuildError } from '../build/builder.ts';
import { ChangeError } from '../build/config.ts';
import { BuildContext, ContextError } from '../build/context.ts';
import { CopyOptionError } from '../build/copy-options.ts';
import { DockerfileError, type ParsedDockerfile, parseDockerfile } from '../build/dockerfile.ts';
import { ExpansionError } from '../build/expand.ts';
import { ContainerNotFoundError, ContainerStateError } from '../container/handle.ts';
import type { EventBus } from '../events/bus.ts';
import { tempPathFor } from '../fsutil/atomic.ts';
import { BUILD_CONTEXT_NAME } from '../image/archive-stage.ts';
import { familiarString, ImageReferenceError, parseImageReference } from '../image/reference.ts';
import { agentErrorStatus } from './errors.ts';
import type { BuildChunk__Output } from './generated/tsnet/v1/BuildChunk.ts';
import type { BuildMessage } from './generated/tsnet/v1/BuildMessage.ts';
import type { BuildOptions__Output } from './generated/tsnet/v1/BuildOptions.ts';
import type { CommitRequest__Output } from './generated/tsnet/v1/CommitRequest.ts';
import type { ImagesHandlers } from './generated/tsnet/v1/Images.ts';
import { requestBytes, statusOf } from './images-archive.ts';

export interface ImageBuildRequest {
  readonly context: BuildContext;
  readonly dockerfile: ParsedDockerfile;
  readonly tags: readonly string[];
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly target?: string;
  readonly noCache: boolean;
  readonly pull: boolean;
  readonly progress: (line: string) => void;
}

export interface ImageCommitRequest {
  readonly container: string;
  readonly reference: string;
  readonly comment: string;
  readonly author: string;
  readonly changes: readonly string[];
  readonly pause: boolean;
}

/** What builds and commits images on this node (the agent's engine behind it). */
export interface ImageBuilder {
  build(request: ImageBuildRequest): Promise<{ id: string; names: string[] }>;
  commit(request: ImageCommitRequest): Promise<{ id: string; names: string[] }>;
}

export interface BuildHandlerDeps {
  readonly events: EventBus;
  /** Where contexts are unpacked while they are built from (on disk, under the data dir). */
  readonly scratchDir: string;
  /** The node's builder; throws when the agent runs without a container engine. */
  builder(): ImageBuilder;
}

export function buildHandlers(deps: BuildHandlerDeps): Pick<ImagesHandlers, 'Build' | 'Commit'> {
  return {
    Build(call) {
      let started = false;
      const input = requestBytes(call, (chunk: BuildChunk__Output) => {
        if (!started) {
          started = true;
          run(chunk.options);
        }
        return chunk.data;
      });
      call.on('end', () => {
        if (!started) fail(new BuildError('build: the client sent no options and no context'));
      });
      function fail(err: unknown): void {
        const status = buildStatusOf(err);
        call.write({
          error: status.details,
          ...(err instanceof BuildError && err.exitCode !== undefined && { exitCode: err.exitCode }),
        } satisfies BuildMessage);
        call.emit('error', status);
      }
      function run(options: BuildOptions__Output | null): void {
        (async () => {
          if (!options) throw new BuildError('build: the first message carries no options');
          for (const tag of options.tags) parseImageReference(tag);
          const builder = deps.builder();
          const dir = tempPathFor(join(deps.scratchDir, BUILD_CONTEXT_NAME));
          await mkdir(dir, { recursive: true, mode: 0o700 });
          try {
            await applyLayer(input, dir).catch((err: unknown) => {
              throw new ContextError(`build context: ${(err as Error).message}`);
            });
            const dockerfile = await dockerfileOf(options, dir);
            const result = await builder.build({
              context: await BuildContext.open(dir),
              dockerfile,
              tags: options.tags,
              buildArgs: options.buildArgs,
              ...(options.target !== '' && { target: options.target }),
              noCache: options.noCache,
              pull: options.pull,
              progress: (line) => {
                if (!call.cancelled) call.write({ stream: line } satisfies BuildMessage);
              },
            });
            for (const name of result.names)
              deps.events.publish('image', 'tag', result.id, {
                name: familiarString(parseImageReference(name)),
              });
            call.write({ imageId: result.id } satisfies BuildMessage);
            call.end();
          } finally {
            await rm(dir, { recursive: true, force: true });
          }
        })().catch((err: unknown) => {
          input.destroy();
          if (!call.cancelled) fail(err);
        });
      }
    },

    Commit(call, callback) {
      const req: CommitRequest__Output = call.request;
      (async () => {
        const result = await deps.builder().commit({
          container: req.container,
          reference: req.reference,
          comment: req.comment,
          author: req.author,
          changes: req.changes,
          pause: !req.noPause,
        });
        deps.events.publish('container', 'commit', req.container, {
          ...(result.names[0] !== undefined && {
            name: familiarString(parseImageReference(result.names[0])),
          }),
        });
        callback(null, { id: result.id });
      })().catch((err: unknown) => callback(buildStatusOf(err)));
    },
  };
}

/** The client's Dockerfile, or the one at `dockerfile` (default `Dockerfile`) in the unpacked context. */
async function dockerfileOf(options: BuildOptions__Output, contextDir: string): Promise<ParsedDockerfile> {
  const name = options.dockerfile || 'Dockerfile';
  if (options.dockerfileContent !== '') return parseDockerfile(options.dockerfileContent, name);
  let parts: string[];
  try {
    parts = layerPath(name);
  } catch {
    throw new ContextError(`Dockerfile ${JSON.stringify(name)}: must be a path inside the build context`);
  }
  const text = await readFile(join(contextDir, ...parts), 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ContextError(
      `Dockerfile ${name}: ${err.code === 'ENOENT' ? 'not found in the build context' : err.message}`,
    );
  });
  return parseDockerfile(text, name);
}

/** A failed build or commit: the user's mistake (the Dockerfile, the context, a RUN) or the agent's. */
function buildStatusOf(err: unknown): grpc.ServerErrorResponse {
  const userError =
    err instanceof BuildError ||
    err instanceof DockerfileError ||
    err instanceof ExpansionError ||
    err instanceof ContextError ||
    err instanceof CopyOptionError ||
    err instanceof ChangeError ||
    err instanceof LayerError ||
    err instanceof ImageReferenceError;
  if (!userError && !(err instanceof ContainerNotFoundError) && !(err instanceof ContainerStateError))
    return statusOf(err);
  const details = ((err as Error).message ?? String(err)).replace(/\s*\n\s*/g, ' ').trim();
  const code =
    err instanceof ContainerNotFoundError
      ? grpc.status.NOT_FOUND
      : err instanceof ContainerStateError
        ? grpc.status.FAILED_PRECONDITION
        : grpc.status.INVALID_ARGUMENT;
  return agentErrorStatus(code, details);
}
