// The engine's extension point for volumes (the volumes slice implements it): Binds, Mounts and Tmpfs of a
// create spec become validated mounts, named volumes created and populated as needed.
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { MountOption } from '../runtime/spec.ts';
import type { ContainerCreateSpec } from './create-spec.ts';

/** One entry of Docker's inspect `Mounts`. */
export interface DockerMount {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export interface ResolvedMounts {
  mounts: MountOption[];
  inspect: DockerMount[];
  /** anonymous volumes made for this container (removed by `rm -v`) */
  anonymous: string[];
}

export interface ContainerVolumes {
  /** Binds + Mounts + Tmpfs of a create spec → validated mounts (named volumes created/populated as needed) */
  resolveMounts(
    spec: ContainerCreateSpec,
    imageRootfs: string /* read-only view of the image */,
  ): Promise<ResolvedMounts>;
  release(containerId: string, anonymousVolumes: string[], removeAnonymous: boolean): Promise<void>;
}

export class MountConfigError extends Error {
  override name = 'MountConfigError';
}

const PROPAGATIONS = new Set(['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave']);

/** `--tmpfs` options as Docker takes them: size=64m,mode=1777,ro. */
function tmpfsOption(target: string, options: string): MountOption {
  let sizeBytes: number | undefined;
  let mode: number | undefined;
  let readonly = false;
  for (const opt of options.split(',').filter(Boolean)) {
    const [key, value = ''] = opt.split('=');
    if (key === 'size') {
      const m = /^(\d+)([kmg]?)$/i.exec(value);
      if (!m) throw new MountConfigError(`invalid tmpfs size ${JSON.stringify(value)} for ${target}`);
      sizeBytes =
        Number(m[1]) *
        ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[
          (m[2] ?? '').toLowerCase()
        ]!;
    } else if (key === 'mode' && /^[0-7]{3,4}$/.test(value)) mode = Number.parseInt(value, 8);
    else if (key === 'ro') readonly = true;
    else if (key !== 'rw' && key !== 'nosuid' && key !== 'nodev' && key !== 'noexec')
      throw new MountConfigError(`invalid tmpfs option ${JSON.stringify(opt)} for ${target}`);
  }
  return {
    type: 'tmpfs',
    target,
    ...(sizeBytes !== undefined && { sizeBytes }),
    ...(mode !== undefined && { mode }),
    readonly,
  };
}

function bindSource(source: string): string {
  if (!isAbsolute(source))
    throw new MountConfigError(
      `invalid mount config: ${JSON.stringify(source)} is a volume name, and this agent runs without named volumes`,
    );
  if (!existsSync(source))
    throw new MountConfigError(
      `invalid mount config for type "bind": bind source path does not exist: ${source}`,
    );
  return source;
}

/**
 * Volumes without a volumes service: absolute bind sources that exist, and tmpfs. A named or anonymous
 * volume is refused.
 */
export const bindsAndTmpfsOnly: ContainerVolumes = {
  async resolveMounts(spec) {
    const hc = spec.HostConfig ?? {};
    const out: ResolvedMounts = { mounts: [], inspect: [], anonymous: [] };
    const bind = (source: string, target: string, readonly: boolean, propagation = 'rprivate') => {
      if (!PROPAGATIONS.has(propagation))
        throw new MountConfigError(`invalid mount config: bind propagation ${JSON.stringify(propagation)}`);
      out.mounts.push({
        type: 'bind',
        source: bindSource(source),
        target,
        readonly,
        propagation: propagation as 'rprivate',
      });
      out.inspect.push({
        Type: 'bind',
        Source: source,
        Destination: target,
        Mode: readonly ? 'ro' : '',
        RW: !readonly,
        Propagation: propagation,
      });
    };
    for (const b of hc.Binds ?? []) {
      const [source = '', target = '', opts = ''] = b.split(':');
      if (!target) throw new MountConfigError(`invalid volume specification: ${JSON.stringify(b)}`);
      const flags = opts.split(',').filter(Boolean);
      const propagation = flags.find((f) => PROPAGATIONS.has(f));
      bind(source, target, flags.includes('ro'), propagation);
    }
    for (const m of hc.Mounts ?? []) {
      if (m.Type === 'bind') bind(m.Source ?? '', m.Target, m.ReadOnly ?? false, m.BindOptions?.Propagation);
      else if (m.Type === 'tmpfs') {
        out.mounts.push({
          type: 'tmpfs',
          target: m.Target,
          ...(m.TmpfsOptions?.SizeBytes !== undefined && { sizeBytes: m.TmpfsOptions.SizeBytes }),
          ...(m.TmpfsOptions?.Mode !== undefined && { mode: m.TmpfsOptions.Mode }),
          readonly: m.ReadOnly ?? false,
        });
        out.inspect.push({
          Type: 'tmpfs',
          Source: '',
          Destination: m.Target,
          Mode: '',
          RW: !m.ReadOnly,
          Propagation: '',
        });
      } else throw new MountConfigError('invalid mount config: this agent runs without named volumes');
    }
    for (const [target, options] of Object.entries(hc.Tmpfs ?? {})) {
      out.mounts.push(tmpfsOption(target, options));
    }
    return out;
  },
  async release() {},
};
