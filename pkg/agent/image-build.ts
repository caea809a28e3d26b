// The node's image builder: Dockerfile builds over the image catalog (the build cache under D/build-cache,
// mount points and staged layers under D/tmp, base images pulled as `tsnetctl pull` would), each RUN a
// container of the engine on the default bridge network; and commits of the engine's containers. A commit
// stores and names under the catalog's shared lock, as a pull does; a build does not hold it throughout
// (its pulls and RUN containers take it themselves, and a nested shared hold could wait behind a removal):
// a catalog lease keeps what it uses instead (see Builder).
import { join } from 'node:path';
import type { ImageBuilder, ImageBuildRequest, ImageCommitRequest } from '../api/images-build.ts';
import { Builder } from '../build/builder.ts';
import { EngineStepRunner } from './build-runner.ts';
import { commitContainer } from './container-commit.ts';
import type { ContainerService } from './containers.ts';
import type { ImageService } from './images.ts';

export interface EngineImageBuilderOptions {
  readonly dataDir: string;
  readonly images: ImageService;
  readonly engine: ContainerService;
}

export class EngineImageBuilder implements ImageBuilder {
  constructor(private readonly opts: EngineImageBuilderOptions) {}

  private get scratchDir(): string {
    return join(this.opts.dataDir, 'tmp');
  }

  async build(request: ImageBuildRequest): Promise<{ id: string; names: string[] }> {
    const { images, engine, dataDir } = this.opts;
    const catalog = images.catalog;
    const builder = new Builder(
      {
        catalog,
        cacheDir: join(dataDir, 'build-cache'),
        scratchDir: this.scratchDir,
        pull: (ref) => images.pull(ref),
        runner: new EngineStepRunner(engine, catalog.stores.snapshots),
      },
      request.noCache,
    );
    return builder.build({
      dockerfile: request.dockerfile,
      context: request.context,
      tags: request.tags,
      buildArgs: request.buildArgs,
      ...(request.target !== undefined && { target: request.target }),
      noCache: request.noCache,
      pull: request.pull,
      progress: request.progress,
    });
  }

  commit(request: ImageCommitRequest): Promise<{ id: string; names: string[] }> {
    const catalog = this.opts.images.catalog;
    return catalog.lock.withShared(() =>
      commitContainer(this.opts.engine, catalog, this.scratchDir, request),
    );
  }
}
