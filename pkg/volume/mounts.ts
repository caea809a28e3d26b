// ContainerVolumes over the volume store: a create spec's mount requests become the OCI spec's mounts and
// Docker's inspect `Mounts`; named volumes are created when missing, become used by the container and get
// the image's content when empty; `-v /path`, `--mount type=volume` without a source and image VOLUMEs get
// anonymous volumes. A failure undoes what the call did (uses taken, volumes made).
import type { ContainerCreateSpec } from '../container/create-spec.ts';
import type { ContainerVolumes, DockerMount, ResolvedMounts } from '../container/volumes.ts';
import type { MountOption } from '../runtime/spec.ts';
import { type MountRequest, parseContainerMounts } from './mount-spec.ts';
import { populateVolume } from './populate.ts';
import { VolumeInUseError, VolumeNotFoundError, type VolumeStore } from './store.ts';

function bindOrTmpfs(request: Exclude<MountRequest, { type: 'volume' }>): {
  mount: MountOption;
  inspect?: DockerMount;
} {
  if (request.type === 'bind') {
    const { source, target, readonly, propagation, mode } = request;
    return {
      mount: { type: 'bind', source, target, readonly, propagation },
      inspect: {
        Type: 'bind',
        Source: source,
        Destination: target,
        Mode: mode,
        RW: !readonly,
        Propagation: propagation,
      },
    };
  }
  const { target, readonly, sizeBytes, mode } = request;
  const mount: MountOption = {
    type: 'tmpfs',
    target,
    readonly,
    ...(sizeBytes !== undefined ? { sizeBytes } : {}),
    ...(mode !== undefined ? { mode } : {}),
  };
  if (request.fromTmpfsFlag) return { mount };
  return {
    mount,
    inspect: { Type: 'tmpfs', Source: '', Destination: target, Mode: '', RW: !readonly, Propagation: '' },
  };
}

export class LocalContainerVolumes implements ContainerVolumes {
  constructor(private readonly store: VolumeStore) {}

  async resolveMounts(
    spec: ContainerCreateSpec,
    imageRootfs: string,
    context: { readonly containerId: string; readonly imageVolumes?: readonly string[] },
  ): Promise<ResolvedMounts> {
    const requests = parseContainerMounts(spec, context.imageVolumes);
    const mounts: MountOption[] = [];
    const inspect: DockerMount[] = [];
    const anonymous: string[] = [];
    const acquired: string[] = [];
    const created: string[] = [];
    try {
      for (const request of requests) {
        if (request.type !== 'volume') {
          const made = bindOrTmpfs(request);
          mounts.push(made.mount);
          if (made.inspect) inspect.push(made.inspect);
          continue;
        }
        const { volume, created: isNew } = await this.store.create(request.name, { labels: request.labels });
        if (isNew) created.push(volume.Name);
        if (request.name === '') anonymous.push(volume.Name);
        await this.store.acquire(volume.Name, context.containerId);
        acquired.push(volume.Name);
        // under the volume's lock: two containers made at once must not both fill the empty volume
        if (!request.noCopy)
          await this.store.exclusively(volume.Name, () =>
            populateVolume(imageRootfs, request.target, volume.Mountpoint),
          );
        mounts.push({
          type: 'volume',
          source: volume.Mountpoint,
          target: request.target,
          readonly: request.readonly,
        });
        inspect.push({
          Type: 'volume',
          Name: volume.Name,
          Source: volume.Mountpoint,
          Destination: request.target,
          Driver: volume.Driver,
          Mode: request.mode,
          RW: !request.readonly,
          Propagation: '',
        });
      }
    } catch (err) {
      await this.undo(context.containerId, acquired, created);
      throw err;
    }
    return { mounts, inspect, anonymous };
  }

  private async undo(
    containerId: string,
    acquired: readonly string[],
    created: readonly string[],
  ): Promise<void> {
    for (const name of acquired) await this.store.release(name, containerId).catch(() => undefined);
    for (const name of created) await this.store.remove(name, { force: true }).catch(() => undefined);
  }

  async release(containerId: string, anonymousVolumes: string[], removeAnonymous: boolean): Promise<void> {
    for (const name of await this.store.usedBy(containerId)) await this.store.release(name, containerId);
    if (!removeAnonymous) return;
    for (const name of anonymousVolumes) {
      try {
        await this.store.remove(name);
      } catch (err) {
        // gone already, or another container mounts it by its name now: Docker keeps it then
        if (!(err instanceof VolumeNotFoundError) && !(err instanceof VolumeInUseError)) throw err;
      }
    }
  }
}
