// The agent's images: the content store, the image store and the layer snapshotter under the data dir, the
// registry credentials beside them, and the Images gRPC service over them (contributed to the API service).
//   <data>/content     blobs by digest
//   <data>/images      names → manifests
//   <data>/snapshots   unpacked layer chains (overlayfs)
//   <data>/auth.json   registry credentials, Docker's config.json shape
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ImagesDeps, ImagesNotReadyError, imagesHandlers, pull } from '../api/images.ts';
import type { ImageBuilder } from '../api/images-build.ts';
import { api } from '../api/proto.ts';
import { LocalContentStore } from '../content/local.ts';
import type { EventBus } from '../events/bus.ts';
import { sweepScratch } from '../image/archive-stage.ts';
import { ImageCatalog } from '../image/catalog.ts';
import { LocalImageStore } from '../image/store.ts';
import { OverlaySnapshotter } from '../snapshot/overlay.ts';
import type { ApiService } from './api.ts';
import type { Service, ServiceHealth, StartContext } from './service.ts';

export interface ImageServiceOptions {
  readonly dataDir: string;
  /** Registries (`host[:port]`) reachable over plain HTTP besides loopback ones (--insecure-registry). */
  readonly insecureRegistries: readonly string[];
  /** Where the Images service is served; the API service must start after this one. */
  readonly api: ApiService;
  /** The containers using an image; none until the runtime plugs in here. */
  readonly inUse?: (imageId: string) => Promise<string[]>;
}

/** Ingests nobody touched for a day are an interrupted pull nobody resumed. */
const STALE_INGEST_MS = 24 * 3600_000;

export class ImageService implements Service {
  readonly name = 'images';
  private opened: ImageCatalog | undefined;
  private imageBuilder: ImageBuilder | undefined;
  private readonly opts: ImageServiceOptions;
  private readonly deps: ImagesDeps;

  constructor(opts: ImageServiceOptions) {
    this.opts = opts;
    const deps: ImagesDeps = {
      catalog: () => this.catalog,
      events: opts.api.events,
      insecureRegistries: opts.insecureRegistries,
      credentialsFile: this.credentialsFile,
      inUse: opts.inUse ?? (async () => []),
      scratchDir: join(opts.dataDir, 'tmp'),
      builder: () => {
        if (!this.imageBuilder)
          throw new ImagesNotReadyError('this agent has no container engine to build with');
        return this.imageBuilder;
      },
    };
    this.deps = deps;
    opts.api.contribute({
      services: [[api().Images.service, imagesHandlers(deps)]],
      info: async () => ({
        images: this.opened ? (await this.opened.all()).length : 0,
        storageDriver: 'overlay',
        insecureRegistries: [...opts.insecureRegistries],
      }),
    });
  }

  /** Plugs in what builds and commits images (the engine is made after this service). */
  useBuilder(builder: ImageBuilder): void {
    this.imageBuilder = builder;
  }

  /** Pulls `reference` as `tsnetctl pull` would (docker run's --pull=missing uses it). */
  pull(reference: string): Promise<void> {
    return pull(this.deps, reference, '', false, () => undefined);
  }

  get credentialsFile(): string {
    return join(this.opts.dataDir, 'auth.json');
  }

  get events(): EventBus {
    return this.opts.api.events;
  }

  /** The open catalog; the Images calls answer UNAVAILABLE before start. */
  get catalog(): ImageCatalog {
    if (!this.opened) throw new ImagesNotReadyError('the image stores are not open yet');
    return this.opened;
  }

  async start(ctx: StartContext): Promise<void> {
    const { dataDir } = this.opts;
    await mkdir(dataDir, { recursive: true, mode: 0o711 });
    // Made now, so a data dir the agent cannot write fails the start, not the first pull.
    for (const dir of ['content', 'images', 'tmp'])
      await mkdir(join(dataDir, dir), { recursive: true, mode: 0o755 });
    // What a load or import killed mid-upload left in the staging dir.
    const swept = sweepScratch(join(dataDir, 'tmp'));
    const content = new LocalContentStore(join(dataDir, 'content'));
    const images = new LocalImageStore(join(dataDir, 'images'));
    const snapshots = await OverlaySnapshotter.open(join(dataDir, 'snapshots'));
    const stale = await content.pruneIngests(STALE_INGEST_MS);
    this.opened = new ImageCatalog({ content, images, snapshots });
    const count = (await this.opened.all()).length;
    ctx.log.info(
      { service: this.name, dataDir, images: count, staleIngests: stale.length, staleUploads: swept.length },
      'image stores open',
    );
  }

  async stop(): Promise<void> {
    this.opened = undefined;
  }

  health(): ServiceHealth {
    return { ready: this.opened !== undefined, dataDir: this.opts.dataDir };
  }
}
