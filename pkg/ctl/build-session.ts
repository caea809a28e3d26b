// One image build through the agent, as `tsnetctl build` and `compose build` run it: the context (a directory,
// tarred without what .dockerignore excludes, as Docker's CLI sends it, the agent applying it again; or a tar
// from stdin) streamed after the options,
// the Dockerfile read here when the context is a directory (so `-f` may point outside it), and the agent's
// output handed over line by line. A failed build rejects with the builder's message (Docker's words for a
// failed RUN) and, for a RUN, its exit code.
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { type AgentClient, callError } from '../api/client.ts';
import type { BuildMessage__Output } from '../api/generated/tsnet/v1/BuildMessage.ts';
import { packTree } from '../archive/tree.ts';
import { BuildContext } from '../build/context.ts';
import { sendChunks } from './api.ts';

export type BuildSource =
  /** `dockerfile`: a path on this host (default CONTEXT/Dockerfile) */
  | { readonly kind: 'directory'; readonly dir: string; readonly dockerfile?: string }
  /** `dockerfile`: a path inside the tar (default Dockerfile) */
  | { readonly kind: 'tar'; readonly tar: Readable; readonly dockerfile?: string }
  /** The Dockerfile's text given (`-f -`, or `-` with a Dockerfile on stdin), the context a directory or a tar */
  | ({ readonly dockerfileText: string } & (
      | { readonly kind: 'directory'; readonly dir: string }
      | { readonly kind: 'tar'; readonly tar: Readable }
    ));

export interface BuildSettings {
  readonly tags: readonly string[];
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly target?: string;
  readonly noCache: boolean;
  readonly pull: boolean;
}

/** A build the agent ran and that failed: its message is the builder's. */
export class BuildFailedError extends Error {
  constructor(
    message: string,
    readonly exitCode?: number,
  ) {
    super(message);
    this.name = 'BuildFailedError';
  }
}

/** A context directory as the tar sent to the agent: what `.dockerignore` excludes stays here. */
export async function contextTar(dir: string): Promise<Readable> {
  const context = await BuildContext.open(dir);
  return packTree(context.root, '', { select: (name, st) => context.sends(name, st.isDirectory()) });
}

/** Runs the build; resolves with the image ID. */
export async function buildImage(
  agent: AgentClient,
  source: BuildSource,
  settings: BuildSettings,
  onLine: (line: string) => void,
): Promise<string> {
  let dockerfile = ('dockerfile' in source && source.dockerfile) || 'Dockerfile';
  let dockerfileContent = '';
  if ('dockerfileText' in source) dockerfileContent = source.dockerfileText;
  else if (source.kind === 'directory') {
    const path = source.dockerfile ?? join(source.dir, 'Dockerfile');
    dockerfileContent = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new Error(
        `cannot read the Dockerfile ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`,
      );
    });
    dockerfile = basename(path);
  }
  const call = agent.build();
  call.write({
    options: {
      dockerfile,
      dockerfileContent,
      tags: [...settings.tags],
      buildArgs: { ...settings.buildArgs },
      target: settings.target ?? '',
      noCache: settings.noCache,
      pull: settings.pull,
    },
  });
  const context = source.kind === 'directory' ? await contextTar(source.dir) : source.tar;
  // A local read error (the context) is the cause: the call is cancelled and its own error is not shown.
  let uploadError: unknown;
  const upload = sendChunks(context, call, (data) => ({ data })).catch((err: unknown) => {
    uploadError = err;
    call.cancel();
  });
  let last: BuildMessage__Output | undefined;
  try {
    for await (const message of call as AsyncIterable<BuildMessage__Output>) {
      last = message;
      if (message.stream !== '') onLine(message.stream);
    }
  } catch (err) {
    if (uploadError !== undefined) throw uploadError;
    if (last?.error) throw new BuildFailedError(last.error, last.exitCode || undefined);
    throw callError(agent.host, err);
  } finally {
    call.cancel();
  }
  await upload;
  if (uploadError !== undefined) throw uploadError;
  if (!last?.imageId) throw new BuildFailedError('the agent ended the build without an image ID');
  return last.imageId;
}
