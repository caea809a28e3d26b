// compose build, and the builds `up` runs: each service with a `build` section built by the agent from its
// context (its Dockerfile relative to the context, as the Compose Specification says), tagged as the service's
// image (`image:`, else PROJECT-SERVICE). `up` builds only the images that are missing, `up --build` and
// `compose build` all of them.
import { isAbsolute, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ApiCallError } from '../../api/client.ts';
import type { ComposeProject, ServiceConfig } from '../../compose/model.ts';
import { dependencyOrder } from '../../compose/plan.ts';
import { serviceImage } from '../../compose/to-create.ts';
import { buildImage } from '../build-session.ts';
import type { CliContext } from './context.ts';

export interface ComposeBuildOptions {
  /** none: every service */
  readonly services: readonly string[];
  /** build only the services whose image is not on the node (what `up` does without --build) */
  readonly onlyMissing: boolean;
  readonly noCache: boolean;
  readonly pull: boolean;
  /** the build output is left out (progress lines stay) */
  readonly quiet: boolean;
}

/** Builds the services; answers service → the ID of the image just built. */
export async function buildServices(
  ctx: CliContext,
  project: ComposeProject,
  options: ComposeBuildOptions,
): Promise<Map<string, string>> {
  const built = new Map<string, string>();
  for (const s of options.services) if (!(s in project.services)) throw new Error(`no such service: ${s}`);
  const agent = ctx.agent();
  for (const name of dependencyOrder(project.services)) {
    const service = project.services[name] as ServiceConfig;
    if (!service.build || (options.services.length > 0 && !options.services.includes(name))) continue;
    const image = serviceImage(project, service);
    if (options.onlyMissing && (await imagePresent(ctx, image))) continue;
    const { context, dockerfile, args, target } = service.build;
    ctx.stderr.write(` Service ${name}  Building\n`);
    const id = await buildImage(
      agent,
      {
        kind: 'directory',
        dir: context,
        dockerfile: isAbsolute(dockerfile) ? dockerfile : join(context, dockerfile),
      },
      {
        tags: [image],
        // an arg declared without a value and unset in the environment is left to the Dockerfile's default
        buildArgs: Object.fromEntries(
          Object.entries(args).filter((kv): kv is [string, string] => kv[1] !== null),
        ),
        ...(target !== undefined && { target }),
        noCache: options.noCache,
        pull: options.pull,
      },
      (line) => {
        if (!options.quiet) ctx.stdout.write(`${line}\n`);
      },
    );
    ctx.stderr.write(` Service ${name}  Built\n`);
    built.set(name, id);
  }
  return built;
}

async function imagePresent(ctx: CliContext, image: string): Promise<boolean> {
  try {
    await ctx.agent().inspectImage(image);
    return true;
  } catch (err) {
    if (err instanceof ApiCallError && err.code === grpc.status.NOT_FOUND) return false;
    throw err;
  }
}
