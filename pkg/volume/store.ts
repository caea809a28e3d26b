// Named volumes: directories under the agent's data dir that outlive the containers using them, Docker's
// local driver.
//   D/volumes/<name>/volume.json   Docker's `volume inspect` object (temp + fsync + rename)
//   D/volumes/<name>/_data         what containers see
//   D/volumes/<name>/users/<id>    one empty file per container using the volume (the reference count that
//                                  survives an agent restart: a create or unlink is atomic by itself)
// A volume appears and disappears whole: it is made under a temporary name and renamed into place, and
// removed by renaming it to a temporary name first; removeOrphanedTemps clears what a crash left.
import { randomBytes } from 'node:crypto';
import { existsSync, type Stats } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileExclusive, fsyncDirectory, removeOrphanedTemps, tempPathFor } from '../fsutil/atomic.ts';
import { inTurn } from '../sync/turns.ts';
import {
  isMountPoint,
  type LocalMount,
  mountLocal,
  parseLocalOptions,
  unmountLocal,
} from './local-options.ts';

/** Docker's label on the volumes it creates for `-v /path` and image VOLUMEs: `prune` removes only these. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const CONTAINER_ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** `docker volume inspect`'s object. */
export interface VolumeInfo {
  readonly CreatedAt: string;
  readonly Driver: 'local';
  readonly Labels: Record<string, string>;
  readonly Mountpoint: string;
  readonly Name: string;
  readonly Options: Record<string, string> | null;
  readonly Scope: 'local';
}

export interface VolumeCreateOptions {
  /** '' or 'local' */
  readonly driver?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** the local driver's: type, device, o */
  readonly options?: Readonly<Record<string, string>>;
}

export class VolumeNotFoundError extends Error {
  override name = 'VolumeNotFoundError';
  constructor(readonly volume: string) {
    super(`get ${volume}: no such volume`);
  }
}

export class VolumeInUseError extends Error {
  override name = 'VolumeInUseError';
  constructor(
    readonly volume: string,
    readonly users: readonly string[],
  ) {
    super(`remove ${volume}: volume is in use - [${users.join(', ')}]`);
  }
}

/** A request the store refuses as malformed: a bad name, driver, option or filter. */
export class VolumeRequestError extends Error {
  override name = 'VolumeRequestError';
}

/** Docker's check of a local volume's name; `action` starts the message as Docker's does ("create x: ..."). */
export function validateVolumeName(name: string, action = 'create'): void {
  if (!isVolumeName(name)) {
    throw new VolumeRequestError(
      `${action} ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

/** A name that can be a volume's directory: a file name, within the limit of one. */
function isVolumeName(name: string): boolean {
  return NAME_RE.test(name) && name.length <= 255;
}

function validateContainerId(id: string): void {
  if (!CONTAINER_ID_RE.test(id)) throw new VolumeRequestError(`invalid container ID ${JSON.stringify(id)}`);
}

/** A new anonymous volume's name: 64 hex digits, as Docker's. */
export function anonymousVolumeName(): string {
  return randomBytes(32).toString('hex');
}

export function isAnonymous(volume: VolumeInfo): boolean {
  return ANONYMOUS_LABEL in volume.Labels;
}

const LIST_FILTERS = new Set(['name', 'label', 'dangling', 'driver']);
const PRUNE_FILTERS = new Set(['label', 'label!']);

/** "key=value" filter arguments by key; unknown keys refused as Docker does. */
function parseFilters(args: readonly string[], known: ReadonlySet<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const key = eq > 0 ? arg.slice(0, eq) : arg;
    if (!known.has(key) || eq < 0) throw new VolumeRequestError(`invalid filter '${arg}'`);
    out.set(key, [...(out.get(key) ?? []), arg.slice(eq + 1)]);
  }
  return out;
}

/** Docker's label filter: `key` (present) or `key=value`. */
function labelMatches(labels: Readonly<Record<string, string>>, wanted: string): boolean {
  const eq = wanted.indexOf('=');
  return eq < 0 ? wanted in labels : labels[wanted.slice(0, eq)] === wanted.slice(eq + 1);
}

/** Docker matches a name filter as a regular expression (so a plain word matches as a substring). */
function nameMatches(name: string, pattern: string): boolean {
  try {
    return new RegExp(pattern).test(name);
  } catch {
    return name.includes(pattern);
  }
}

function booleanFilter(key: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new VolumeRequestError(`invalid filter '${key}=${value}': expected true or false`);
}

async function diskUsage(path: string): Promise<number> {
  let total = 0;
  let st: Stats;
  try {
    st = await lstat(path);
  } catch {
    return 0;
  }
  if (st.isDirectory()) {
    for (const entry of await readdir(path)) total += await diskUsage(join(path, entry));
  } else total += st.size;
  return total;
}

/** Told after a volume appeared ("create") or went ("destroy"): Docker's volume events. */
export type VolumeEventListener = (action: 'create' | 'destroy', name: string, driver: string) => void;

export class VolumeStore {
  private constructor(
    readonly root: string,
    private readonly onEvent: VolumeEventListener,
  ) {}

  /** Opens (creates) the store at `root`, clearing what a crash mid-create or mid-remove left. */
  static async open(root: string, options: { onEvent?: VolumeEventListener } = {}): Promise<VolumeStore> {
    await mkdir(root, { recursive: true, mode: 0o701 });
    removeOrphanedTemps(root);
    return new VolumeStore(root, options.onEvent ?? (() => undefined));
  }

  /** The volume's directory; a malformed name (`../x`, too long) never becomes a path. */
  private dirOf(name: string): string {
    if (!isVolumeName(name)) throw new VolumeRequestError(`invalid volume name ${JSON.stringify(name)}`);
    return join(this.root, name);
  }

  mountpointOf(name: string): string {
    return join(this.dirOf(name), '_data');
  }

  /**
   * One volume's mutations (create, acquire, release, remove, and a caller's filling of it) run one after
   * another within the agent. Not reentrant: `fn` must not call the store's mutations of the same volume.
   */
  exclusively<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return inTurn(`volume:${this.root}:${name}`, fn);
  }

  /**
   * Creates a volume, or answers the existing one of that name (Docker's create is idempotent). An empty
   * name makes an anonymous volume.
   */
  async create(
    name: string,
    options: VolumeCreateOptions = {},
  ): Promise<{ volume: VolumeInfo; created: boolean }> {
    const anonymous = name === '';
    const volumeName = anonymous ? anonymousVolumeName() : name;
    validateVolumeName(volumeName);
    const driver = options.driver || 'local';
    if (driver !== 'local')
      throw new VolumeRequestError(
        `create ${volumeName}: error looking up volume plugin ${driver}: plugin "${driver}" not found`,
      );
    const driverOptions = { ...options.options };
    try {
      parseLocalOptions(driverOptions);
    } catch (err) {
      throw new VolumeRequestError(`create ${volumeName}: ${(err as Error).message}`);
    }
    return this.exclusively(volumeName, async () => {
      const existing = await this.find(volumeName);
      if (existing) return { volume: existing, created: false };
      const info: VolumeInfo = {
        CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        Driver: 'local',
        Labels: { ...options.labels, ...(anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) },
        Mountpoint: this.mountpointOf(volumeName),
        Name: volumeName,
        Options: Object.keys(driverOptions).length > 0 || !anonymous ? driverOptions : null,
        Scope: 'local',
      };
      const staging = tempPathFor(this.dirOf(volumeName));
      try {
        await mkdir(join(staging, '_data'), { recursive: true, mode: 0o755 });
        await mkdir(join(staging, 'users'), { mode: 0o700 });
        await createFileExclusive(join(staging, 'volume.json'), `${JSON.stringify(info, null, 2)}\n`);
        await rename(staging, this.dirOf(volumeName));
      } catch (err) {
        await rm(staging, { recursive: true, force: true });
        throw err;
      }
      await fsyncDirectory(this.root);
      this.onEvent('create', volumeName, info.Driver);
      return { volume: info, created: true };
    });
  }

  /** The volume, or undefined when there is none of that name (a malformed name is none too). */
  async find(name: string): Promise<VolumeInfo | undefined> {
    if (!isVolumeName(name)) return undefined;
    let text: string;
    try {
      text = await readFile(join(this.dirOf(name), 'volume.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const stored = JSON.parse(text) as VolumeInfo;
    // where the data dir is now, not where it was when the volume was made
    return { ...stored, Labels: stored.Labels ?? {}, Mountpoint: this.mountpointOf(name) };
  }

  async inspect(name: string): Promise<VolumeInfo> {
    const volume = await this.find(name);
    if (!volume) throw new VolumeNotFoundError(name);
    return volume;
  }

  async all(): Promise<VolumeInfo[]> {
    const names = (await readdir(this.root)).filter(isVolumeName).sort();
    const found = await Promise.all(names.map((n) => this.find(n)));
    return found.filter((v): v is VolumeInfo => v !== undefined);
  }

  /** The containers using the volume (IDs, sorted). */
  async users(name: string): Promise<string[]> {
    try {
      return (await readdir(join(this.dirOf(name), 'users'))).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** `volume ls --filter`: name (a regular expression), label, dangling, driver; every given key must hold. */
  async list(filterArgs: readonly string[] = []): Promise<VolumeInfo[]> {
    const filters = parseFilters(filterArgs, LIST_FILTERS);
    const dangling = filters.get('dangling')?.map((v) => booleanFilter('dangling', v));
    const out: VolumeInfo[] = [];
    for (const volume of await this.all()) {
      const names = filters.get('name');
      if (names && !names.some((n) => nameMatches(volume.Name, n))) continue;
      const drivers = filters.get('driver');
      if (drivers && !drivers.includes(volume.Driver)) continue;
      if (!(filters.get('label') ?? []).every((l) => labelMatches(volume.Labels, l))) continue;
      if (dangling && !dangling.includes((await this.users(volume.Name)).length === 0)) continue;
      out.push(volume);
    }
    return out;
  }

  /** Records that `containerId` uses the volume; mounts the volume's filesystem for its first user. */
  async acquire(name: string, containerId: string): Promise<VolumeInfo> {
    validateContainerId(containerId);
    return this.exclusively(name, async () => {
      const volume = await this.inspect(name);
      const mountSpec = parseLocalOptions(volume.Options ?? {});
      if (mountSpec && !isMountPoint(volume.Mountpoint)) this.mountFilesystem(volume, mountSpec);
      const usersDir = join(this.dirOf(name), 'users');
      await writeFile(join(usersDir, containerId), '', { flag: 'a' });
      await fsyncDirectory(usersDir);
      return volume;
    });
  }

  private mountFilesystem(volume: VolumeInfo, spec: LocalMount): void {
    try {
      mountLocal(spec, volume.Mountpoint);
    } catch (err) {
      throw new VolumeRequestError(
        `error while mounting volume '${volume.Mountpoint}': ${(err as Error).message}`,
      );
    }
  }

  /** `containerId` no longer uses the volume; its filesystem is unmounted with the last user. */
  async release(name: string, containerId: string): Promise<void> {
    validateContainerId(containerId);
    await this.exclusively(name, async () => {
      const usersDir = join(this.dirOf(name), 'users');
      try {
        await unlink(join(usersDir, containerId));
        await fsyncDirectory(usersDir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      const volume = await this.find(name);
      if (!volume || !parseLocalOptions(volume.Options ?? {})) return;
      if ((await this.users(name)).length === 0 && isMountPoint(volume.Mountpoint))
        unmountLocal(volume.Mountpoint);
    });
  }

  /** The volumes `containerId` uses. */
  async usedBy(containerId: string): Promise<string[]> {
    const names = (await readdir(this.root)).filter(isVolumeName);
    return names.filter((n) => existsSync(join(this.dirOf(n), 'users', containerId))).sort();
  }

  /**
   * Removes a volume no container uses. `force` only makes a missing volume no error (as Docker's
   * `volume rm -f`): a volume in use is never removed from under its containers.
   */
  async remove(name: string, options: { force?: boolean } = {}): Promise<void> {
    await this.exclusively(name, async () => {
      if (!(await this.find(name))) {
        if (options.force) return;
        throw new VolumeNotFoundError(name);
      }
      const users = await this.users(name);
      if (users.length > 0) throw new VolumeInUseError(name, users);
      await this.removeUnused(name);
    });
  }

  /** Takes the volume out of sight in one rename, then deletes its files. */
  private async removeUnused(name: string): Promise<void> {
    const mountpoint = this.mountpointOf(name);
    if (isMountPoint(mountpoint)) unmountLocal(mountpoint);
    const doomed = tempPathFor(this.dirOf(name));
    await rename(this.dirOf(name), doomed);
    await fsyncDirectory(this.root);
    await rm(doomed, { recursive: true, force: true });
    this.onEvent('destroy', name, 'local');
  }

  /**
   * Removes the volumes no container uses: anonymous ones only unless `all` (Docker 23's `volume prune`
   * and `-a`). Filters: label, label!.
   */
  async prune(options: { all?: boolean; filters?: readonly string[] } = {}): Promise<{
    deleted: string[];
    spaceReclaimed: number;
  }> {
    const filters = parseFilters(options.filters ?? [], PRUNE_FILTERS);
    const deleted: string[] = [];
    let spaceReclaimed = 0;
    for (const candidate of await this.all()) {
      if (!options.all && !isAnonymous(candidate)) continue;
      if (!(filters.get('label') ?? []).every((l) => labelMatches(candidate.Labels, l))) continue;
      if ((filters.get('label!') ?? []).some((l) => labelMatches(candidate.Labels, l))) continue;
      await this.exclusively(candidate.Name, async () => {
        if ((await this.users(candidate.Name)).length > 0 || !(await this.find(candidate.Name))) return;
        const size = await diskUsage(this.mountpointOf(candidate.Name));
        await this.removeUnused(candidate.Name);
        deleted.push(candidate.Name);
        spaceReclaimed += size;
      });
    }
    return { deleted, spaceReclaimed };
  }
}
