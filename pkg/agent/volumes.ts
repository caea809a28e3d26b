// The agent's volumes: the volume store under the data dir (D/volumes), the Volumes gRPC service over it
// (contributed to the API service) and the ContainerVolumes the container engine resolves mounts with.
import { join } from 'node:path';
import { api } from '../api/proto.ts';
import { VolumesNotReadyError, volumesHandlers } from '../api/volumes.ts';
import type { ContainerVolumes } from '../container/volumes.ts';
import { LocalContainerVolumes } from '../volume/mounts.ts';
import { VolumeStore } from '../volume/store.ts';
import type { ApiService } from './api.ts';
import type { Service, ServiceHealth, StartContext } from './service.ts';

export interface VolumeServiceOptions {
  readonly dataDir: string;
  /** Where the Volumes service is served; the API service must start after this one. */
  readonly api: ApiService;
}

export class VolumeService implements Service {
  readonly name = 'volumes';
  private opened: { store: VolumeStore; mounts: LocalContainerVolumes } | undefined;
  /** For the engine, which is wired before anything starts: its calls need this service started. */
  readonly containerVolumes: ContainerVolumes = {
    resolveMounts: async (spec, imageRootfs, context) =>
      this.ready().mounts.resolveMounts(spec, imageRootfs, context),
    release: async (containerId, anonymous, removeAnonymous) =>
      this.ready().mounts.release(containerId, anonymous, removeAnonymous),
  };

  constructor(private readonly opts: VolumeServiceOptions) {
    opts.api.contribute({
      services: [[api().Volumes.service, volumesHandlers({ store: () => this.store })]],
    });
  }

  get root(): string {
    return join(this.opts.dataDir, 'volumes');
  }

  /** The open store; calls answer UNAVAILABLE before start. */
  get store(): VolumeStore {
    return this.ready().store;
  }

  private ready(): { store: VolumeStore; mounts: LocalContainerVolumes } {
    if (!this.opened) throw new VolumesNotReadyError('the volume store is not open yet');
    return this.opened;
  }

  async start(ctx: StartContext): Promise<void> {
    const events = this.opts.api.events;
    const store = await VolumeStore.open(this.root, {
      onEvent: (action, name, driver) => events.publish('volume', action, name, { driver }),
    });
    this.opened = { store, mounts: new LocalContainerVolumes(store) };
    ctx.log.info(
      { service: this.name, root: this.root, volumes: (await store.all()).length },
      'volume store open',
    );
  }

  async stop(): Promise<void> {
    this.opened = undefined;
  }

  health(): ServiceHealth {
    return { ready: this.opened !== undefined, root: this.root };
  }
}
