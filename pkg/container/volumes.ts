// What the engine needs from the volumes side when it creates and removes a container: the create spec's
// Binds, Mounts and Tmpfs (and the image's VOLUMEs) as validated mounts for the OCI spec, Docker's inspect
// `Mounts` entries, and the anonymous volumes made for the container. pkg/volume implements it.
import type { MountOption } from '../runtime/spec.ts';
import type { ContainerCreateSpec } from './create-spec.ts';

/** One entry of Docker's `inspect` `Mounts`. */
export interface DockerMount {
  readonly Type: 'bind' | 'volume' | 'tmpfs';
  /** the volume's name (volumes only) */
  readonly Name?: string;
  /** the host path ('' for tmpfs) */
  readonly Source: string;
  readonly Destination: string;
  /** "local" (volumes only) */
  readonly Driver?: string;
  /** the mode string of `-v` ("ro", "z", ...), '' otherwise */
  readonly Mode: string;
  readonly RW: boolean;
  /** "rprivate" etc. for binds, '' otherwise */
  readonly Propagation: string;
}

export interface ResolvedMounts {
  readonly mounts: MountOption[];
  readonly inspect: DockerMount[];
  /** names of the anonymous volumes made for this container (`-v /data`, image VOLUMEs) */
  readonly anonymous: string[];
}

export interface ContainerVolumes {
  /**
   * Binds + Mounts + Tmpfs of a create spec → validated mounts (named volumes created/populated as needed).
   * `imageRootfs` is a read-only view of the image; `context.containerId` becomes a user of every volume
   * mounted (released by `release`), `context.imageVolumes` are the image config's `Volumes` keys. Nothing
   * is left behind when it throws.
   */
  resolveMounts(
    spec: ContainerCreateSpec,
    imageRootfs: string,
    context: { readonly containerId: string; readonly imageVolumes?: readonly string[] },
  ): Promise<ResolvedMounts>;
  /** The container no longer uses its volumes; its anonymous ones are removed too when asked (`rm -v`, `--rm`). */
  release(containerId: string, anonymousVolumes: string[], removeAnonymous: boolean): Promise<void>;
}
