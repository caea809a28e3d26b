// A container's mount requests as Docker reads them: `-v SRC:DST[:MODE]` (HostConfig.Binds), `--mount`
// (HostConfig.Mounts, already split into fields by the CLI) and `--tmpfs DST[:OPTS]` (HostConfig.Tmpfs),
// validated with Docker's messages before anything is created. One difference: a `-v` bind source that does
// not exist is an error here too, never a directory made silently.
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { parseByteSize } from '../cgroups/devices.ts';
import type { ContainerCreateSpec, MountSpec } from '../container/create-spec.ts';
import type { BindPropagation } from '../runtime/spec.ts';
import { validateVolumeName } from './store.ts';

export class MountSpecError extends Error {
  override name = 'MountSpecError';
}

/** One validated mount request; a volume's name is '' for an anonymous one. */
export type MountRequest =
  | {
      readonly type: 'bind';
      readonly source: string;
      readonly target: string;
      readonly readonly: boolean;
      readonly propagation: BindPropagation;
      /** `-v`'s mode string, '' from --mount */
      readonly mode: string;
    }
  | {
      readonly type: 'volume';
      readonly name: string;
      readonly target: string;
      readonly readonly: boolean;
      /** skip copying the image's content into an empty volume */
      readonly noCopy: boolean;
      readonly labels: Readonly<Record<string, string>>;
      readonly mode: string;
      /** an image VOLUME, not asked for by the user */
      readonly fromImage?: boolean;
    }
  | {
      readonly type: 'tmpfs';
      readonly target: string;
      readonly readonly: boolean;
      readonly sizeBytes?: number;
      readonly mode?: number;
      /** from --tmpfs (Docker lists only --mount's tmpfs in inspect's Mounts) */
      readonly fromTmpfsFlag: boolean;
    };

const PROPAGATIONS: ReadonlySet<string> = new Set([
  'private',
  'rprivate',
  'shared',
  'rshared',
  'slave',
  'rslave',
]);

type ModeWordKind = 'rw' | 'label' | 'propagation' | 'copy' | 'consistency';

function modeWordKind(word: string): ModeWordKind | undefined {
  if (word === 'rw' || word === 'ro') return 'rw';
  if (word === 'z' || word === 'Z') return 'label';
  if (PROPAGATIONS.has(word)) return 'propagation';
  if (word === 'nocopy') return 'copy';
  if (word === 'consistent' || word === 'cached' || word === 'delegated') return 'consistency';
  return undefined;
}

/** Docker's ValidMountMode: comma-separated words, at most one of each kind. */
function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const seen = new Set<ModeWordKind>();
  for (const word of mode.split(',')) {
    const kind = modeWordKind(word);
    if (!kind || seen.has(kind)) return false;
    seen.add(kind);
  }
  return true;
}

class MountConfigError extends MountSpecError {
  constructor(type: string, reason: string) {
    super(`invalid mount config for type ${JSON.stringify(type)}: ${reason}`);
  }
}

/** Docker's target checks: present, not "/", absolute; answers the cleaned path. */
function checkTarget(type: string, target: string): string {
  if (target === '') throw new MountConfigError(type, 'field Target must not be empty');
  const cleaned = posix.normalize(target).replace(/(.)\/+$/, '$1');
  if (cleaned === '/') throw new MountConfigError(type, "invalid specification: destination can't be '/'");
  if (!posix.isAbsolute(target))
    throw new MountConfigError(type, `invalid mount path: '${target}' mount path must be absolute`);
  return cleaned;
}

function checkBindSource(source: string): string {
  if (source === '') throw new MountConfigError('bind', 'field Source must not be empty');
  if (!posix.isAbsolute(source))
    throw new MountConfigError('bind', `invalid mount path: '${source}' mount path must be absolute`);
  if (!existsSync(source)) throw new MountConfigError('bind', `bind source path does not exist: ${source}`);
  return posix.normalize(source);
}

function checkPropagation(value: string): BindPropagation {
  if (!PROPAGATIONS.has(value))
    throw new MountConfigError('bind', `invalid propagation mode: ${JSON.stringify(value)}`);
  return value as BindPropagation;
}

function checkVolumeName(name: string): void {
  try {
    validateVolumeName(name);
  } catch (err) {
    throw new MountSpecError((err as Error).message);
  }
}

/** `-v SRC:DST[:MODE]` or `-v DST` (an anonymous volume), as Docker's ParseMountRaw reads it. */
export function parseBind(raw: string): MountRequest {
  const invalid = `invalid volume specification: '${raw}'`;
  const parts = raw.split(':');
  if (parts[0] === '' || parts.length > 3) throw new MountSpecError(invalid);
  let source = '';
  let target: string;
  let mode = '';
  if (parts.length === 1) target = parts[0]!;
  else {
    // "/foo:rw" has a mode but no destination
    if (parts.length === 2 && validMountMode(parts[1]!)) throw new MountSpecError(invalid);
    [source, target, mode = ''] = parts as [string, string, string?];
  }
  if (!validMountMode(mode)) throw new MountSpecError(`${invalid}: invalid mode: ${mode}`);
  const words = mode === '' ? [] : mode.split(',');
  const readonly = words.includes('ro');
  const propagation = words.find((w) => PROPAGATIONS.has(w));
  let volumeTarget: string;
  try {
    if (posix.isAbsolute(source)) {
      return {
        type: 'bind',
        target: checkTarget('bind', target),
        source: checkBindSource(source),
        readonly,
        propagation: (propagation ?? 'rprivate') as BindPropagation,
        mode,
      };
    }
    volumeTarget = checkTarget('volume', target);
    if (propagation) throw new MountConfigError('volume', 'field BindOptions must not be specified');
    if (source === '' && readonly)
      throw new MountConfigError('volume', 'must not set ReadOnly mode when using anonymous volumes');
  } catch (err) {
    throw new MountSpecError(`${invalid}: ${(err as Error).message}`);
  }
  if (source !== '') checkVolumeName(source);
  return {
    type: 'volume',
    name: source,
    target: volumeTarget,
    readonly,
    noCopy: words.includes('nocopy'),
    labels: {},
    mode: mode === '' ? 'z' : mode,
  };
}

/** One `--mount` entry (Docker's HostConfig.Mounts item). */
export function parseMountSpec(m: MountSpec): MountRequest {
  const type = String(m.Type);
  const source = m.Source ?? '';
  const readonly = m.ReadOnly === true;
  if (type === 'bind') {
    const target = checkTarget(type, m.Target ?? '');
    if (m.VolumeOptions) throw new MountConfigError(type, 'field VolumeOptions must not be specified');
    if (m.TmpfsOptions) throw new MountConfigError(type, 'field TmpfsOptions must not be specified');
    const propagation = checkPropagation(m.BindOptions?.Propagation || 'rprivate');
    return { type: 'bind', source: checkBindSource(source), target, readonly, propagation, mode: '' };
  }
  if (type === 'volume') {
    const target = checkTarget(type, m.Target ?? '');
    if (m.BindOptions) throw new MountConfigError(type, 'field BindOptions must not be specified');
    if (m.TmpfsOptions) throw new MountConfigError(type, 'field TmpfsOptions must not be specified');
    if (source === '' && readonly)
      throw new MountConfigError(type, 'must not set ReadOnly mode when using anonymous volumes');
    if (source !== '') checkVolumeName(source);
    return {
      type: 'volume',
      name: source,
      target,
      readonly,
      noCopy: m.VolumeOptions?.NoCopy === true,
      labels: { ...m.VolumeOptions?.Labels },
      mode: 'z',
    };
  }
  if (type === 'tmpfs') {
    const target = checkTarget(type, m.Target ?? '');
    if (m.BindOptions) throw new MountConfigError(type, 'field BindOptions must not be specified');
    if (m.VolumeOptions) throw new MountConfigError(type, 'field VolumeOptions must not be specified');
    if (source !== '') throw new MountConfigError(type, 'field Source must not be specified');
    const size = m.TmpfsOptions?.SizeBytes;
    const mode = m.TmpfsOptions?.Mode;
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0))
      throw new MountConfigError(type, `invalid tmpfs size: ${size}`);
    if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777))
      throw new MountConfigError(type, `invalid tmpfs mode: ${mode}`);
    return {
      type: 'tmpfs',
      target,
      readonly,
      ...(size ? { sizeBytes: size } : {}),
      ...(mode !== undefined ? { mode } : {}),
      fromTmpfsFlag: false,
    };
  }
  throw new MountConfigError(type, 'mount type unknown');
}

/** tmpfs flags the spec already sets (nosuid, noexec, nodev) or that change nothing. */
const TMPFS_NOOP_WORDS = new Set(['rw', 'nosuid', 'noexec', 'nodev', 'defaults']);

/** `--tmpfs DST[:OPTS]` as HostConfig.Tmpfs holds it: DST → "size=64m,mode=1777,ro". */
export function parseTmpfs(target: string, options: string): MountRequest {
  const checked = checkTarget('tmpfs', target);
  let sizeBytes: number | undefined;
  let mode: number | undefined;
  let readonly = false;
  for (const word of options.split(',').filter(Boolean)) {
    const [key, value = ''] = word.split('=', 2) as [string, string?];
    if (key === 'size') {
      try {
        sizeBytes = parseByteSize(value);
      } catch {
        throw new MountConfigError('tmpfs', `invalid tmpfs size ${JSON.stringify(value)} for ${checked}`);
      }
    } else if (key === 'mode') {
      if (!/^[0-7]{1,4}$/.test(value))
        throw new MountConfigError('tmpfs', `invalid tmpfs mode ${JSON.stringify(value)} for ${checked}`);
      mode = Number.parseInt(value, 8);
    } else if (word === 'ro') readonly = true;
    else if (!TMPFS_NOOP_WORDS.has(word))
      throw new MountConfigError(
        'tmpfs',
        `tmpfs option ${JSON.stringify(word)} is not supported (${checked})`,
      );
  }
  return {
    type: 'tmpfs',
    target: checked,
    readonly,
    ...(sizeBytes ? { sizeBytes } : {}),
    ...(mode !== undefined ? { mode } : {}),
    fromTmpfsFlag: true,
  };
}

/**
 * Every mount a create spec asks for, then the image's VOLUMEs no request covers (as anonymous volumes),
 * refusing two at one place with Docker's message.
 */
export function parseContainerMounts(
  spec: ContainerCreateSpec,
  imageVolumes: readonly string[] = [],
): MountRequest[] {
  const host = spec.HostConfig ?? {};
  const requests = [
    ...(host.Binds ?? []).map(parseBind),
    ...(host.Mounts ?? []).map(parseMountSpec),
    ...Object.entries(host.Tmpfs ?? {}).map(([target, options]) => parseTmpfs(target, options)),
  ];
  const taken = new Set<string>();
  for (const r of requests) {
    if (taken.has(r.target)) throw new MountSpecError(`Duplicate mount point: ${r.target}`);
    taken.add(r.target);
  }
  for (const path of imageVolumes) {
    if (!posix.isAbsolute(path)) continue; // an image made by hand may hold anything; Docker skips these too
    const target = posix.normalize(path).replace(/(.)\/+$/, '$1');
    if (target === '/' || taken.has(target)) continue;
    taken.add(target);
    requests.push({
      type: 'volume',
      name: '',
      target,
      readonly: false,
      noCopy: false,
      labels: {},
      mode: '',
      fromImage: true,
    });
  }
  return requests;
}
