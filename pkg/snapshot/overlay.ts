// An overlayfs snapshotter in containerd's shape: a snapshot is a directory; `prepare` makes a writable
// (active) one on top of a committed parent chain, `commit` freezes it under a name, `view` is a read-only
// one, `mounts` says how to mount any of them, `remove` deletes one that nothing builds on.
//
// Layout under the root:
//   metadata.json         every snapshot by key: id, kind, parent, labels (written temp + fsync + rename)
//   lock                  flock(LOCK_EX) around every change
//   snapshots/<id>/fs     the snapshot's files (an image layer's content, or a container's upper dir)
//   snapshots/<id>/work   overlayfs's work dir, for active snapshots
// Lower dirs are named relative to snapshots/ ("12/fs") and mounted from there: the kernel limits mount data
// to a page, which a chain of 120 absolute paths would exceed.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { flock, flockExclusiveAsync, LOCK_UN } from '../../native/libc.ts';
import { writeFileAtomic } from '../fsutil/atomic.ts';
import { inTurn } from '../sync/turns.ts';

export type SnapshotKind = 'active' | 'view' | 'committed';

export interface SnapshotInfo {
  key: string;
  kind: SnapshotKind;
  /** The committed snapshot this one builds on. */
  parent?: string;
  /** Directory name under snapshots/. */
  id: string;
  created: string;
  labels: Record<string, string>;
}

/** How to mount a snapshot: mount(2) arguments; relative lower dirs resolve from `cwd`. */
export interface Mount {
  type: 'overlay' | 'bind';
  source: string;
  options: string[];
  /** Directory the mount call must run in (overlay's lower dirs are relative to it). */
  cwd?: string;
}

export class SnapshotError extends Error {
  constructor(
    readonly kind: 'not-found' | 'exists' | 'in-use' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'SnapshotError';
  }
}

interface Metadata {
  version: 1;
  nextId: number;
  snapshots: SnapshotInfo[];
}

/** Snapshot keys become log lines and metadata, never paths: still, keep them printable and bounded. */
const KEY_RE = /^[\x21-\x7e]{1,512}$/;

function validateKey(key: string): void {
  if (!KEY_RE.test(key)) throw new SnapshotError('invalid', `invalid snapshot key ${JSON.stringify(key)}`);
}

export class OverlaySnapshotter {
  private readonly snapshotsDir: string;
  private readonly metadataFile: string;
  private readonly lockFile: string;

  private constructor(readonly root: string) {
    this.snapshotsDir = join(root, 'snapshots');
    this.metadataFile = join(root, 'metadata.json');
    this.lockFile = join(root, 'lock');
  }

  /** Opens (creating) the snapshotter at `root`; directories no snapshot owns (a crash mid-change) go. */
  static async open(root: string): Promise<OverlaySnapshotter> {
    const s = new OverlaySnapshotter(root);
    await mkdir(s.snapshotsDir, { recursive: true, mode: 0o700 });
    await s.locked(async (meta) => {
      const owned = new Set(meta.snapshots.map((i) => i.id));
      for (const name of await readdir(s.snapshotsDir)) {
        if (!owned.has(name)) await rm(join(s.snapshotsDir, name), { recursive: true, force: true });
      }
      return false;
    });
    return s;
  }

  /** A writable snapshot on top of `parent` (committed), or an empty one. */
  prepare(key: string, parent?: string, labels: Record<string, string> = {}): Promise<Mount[]> {
    return this.create('active', key, parent, labels);
  }

  /** A read-only snapshot of `parent`. */
  view(key: string, parent: string, labels: Record<string, string> = {}): Promise<Mount[]> {
    return this.create('view', key, parent, labels);
  }

  /** Freezes the active snapshot `key` as the committed snapshot `name`. */
  async commit(name: string, key: string, labels?: Record<string, string>): Promise<void> {
    validateKey(name);
    await this.locked(async (meta) => {
      const active = find(meta, key);
      if (active.kind !== 'active')
        throw new SnapshotError('invalid', `snapshot ${key} is ${active.kind}, not active: cannot commit`);
      if (meta.snapshots.some((i) => i.key === name))
        throw new SnapshotError('exists', `snapshot ${name} already exists`);
      active.key = name;
      active.kind = 'committed';
      if (labels) active.labels = { ...active.labels, ...labels };
      await rm(join(this.snapshotsDir, active.id, 'work'), { recursive: true, force: true });
      return true;
    });
  }

  async stat(key: string): Promise<SnapshotInfo | undefined> {
    const meta = await this.read();
    return meta.snapshots.find((i) => i.key === key);
  }

  async list(): Promise<SnapshotInfo[]> {
    return (await this.read()).snapshots;
  }

  /** How to mount the snapshot `key`. */
  async mounts(key: string): Promise<Mount[]> {
    const meta = await this.read();
    return this.mountsOf(meta, find(meta, key));
  }

  /** The directory holding the snapshot's own files (an active snapshot's upper dir). */
  async directory(key: string): Promise<string> {
    const info = find(await this.read(), key);
    return join(this.snapshotsDir, info.id, 'fs');
  }

  /** Removes a snapshot no other snapshot builds on. Unmounting it first is the caller's job. */
  async remove(key: string): Promise<void> {
    let id = '';
    await this.locked(async (meta) => {
      const info = find(meta, key);
      const child = meta.snapshots.find((i) => i.parent === key);
      if (child)
        throw new SnapshotError('in-use', `snapshot ${key} has a child (${child.key}): remove it first`);
      meta.snapshots = meta.snapshots.filter((i) => i !== info);
      id = info.id;
      return true;
    });
    // After the metadata: a crash here leaves a directory that the next open removes.
    await rm(join(this.snapshotsDir, id), { recursive: true, force: true });
  }

  private async create(
    kind: SnapshotKind,
    key: string,
    parent: string | undefined,
    labels: Record<string, string>,
  ): Promise<Mount[]> {
    validateKey(key);
    let mounts: Mount[] = [];
    await this.locked(async (meta) => {
      if (meta.snapshots.some((i) => i.key === key))
        throw new SnapshotError('exists', `snapshot ${key} already exists`);
      if (parent !== undefined) {
        const p = find(meta, parent);
        if (p.kind !== 'committed')
          throw new SnapshotError(
            'invalid',
            `parent ${parent} is ${p.kind}: only a committed snapshot can be a parent`,
          );
      } else if (kind === 'view') throw new SnapshotError('invalid', 'a view needs a parent');
      const id = String(meta.nextId++);
      const dir = join(this.snapshotsDir, id);
      await mkdir(join(dir, 'fs'), { recursive: true, mode: 0o755 });
      if (kind === 'active') await mkdir(join(dir, 'work'), { mode: 0o700 });
      const info: SnapshotInfo = {
        key,
        kind,
        ...(parent !== undefined ? { parent } : {}),
        id,
        created: new Date().toISOString(),
        labels,
      };
      meta.snapshots.push(info);
      mounts = this.mountsOf(meta, info);
      return true;
    });
    return mounts;
  }

  private mountsOf(meta: Metadata, info: SnapshotInfo): Mount[] {
    const lowers: string[] = [];
    for (let p = info.parent; p !== undefined; p = find(meta, p).parent)
      lowers.push(`${find(meta, p).id}/fs`);
    const own = `${info.id}/fs`;
    if (info.kind === 'active') {
      if (lowers.length === 0)
        return [{ type: 'bind', source: join(this.snapshotsDir, own), options: ['rbind', 'rw'] }];
      return [
        {
          type: 'overlay',
          source: 'overlay',
          cwd: this.snapshotsDir,
          options: [`lowerdir=${lowers.join(':')}`, `upperdir=${own}`, `workdir=${info.id}/work`],
        },
      ];
    }
    if (info.kind === 'committed') lowers.unshift(own);
    if (lowers.length === 1)
      return [
        { type: 'bind', source: join(this.snapshotsDir, lowers[0] as string), options: ['rbind', 'ro'] },
      ];
    return [
      {
        type: 'overlay',
        source: 'overlay',
        cwd: this.snapshotsDir,
        options: [`lowerdir=${lowers.join(':')}`],
      },
    ];
  }

  private async read(): Promise<Metadata> {
    try {
      const parsed = JSON.parse(await readFile(this.metadataFile, 'utf8')) as Metadata;
      if (parsed.version !== 1 || !Array.isArray(parsed.snapshots)) throw new Error('unknown format');
      return parsed;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, nextId: 1, snapshots: [] };
      throw new Error(`snapshot metadata ${this.metadataFile}: ${(err as Error).message}`);
    }
  }

  /** Runs `change` under the lock on fresh metadata; writes the metadata back when it returns true. */
  private locked<T extends boolean>(change: (meta: Metadata) => Promise<T>): Promise<void> {
    return inTurn(this.lockFile, async () => {
      const fd = openSync(this.lockFile, 'a', 0o600);
      try {
        await flockExclusiveAsync(fd);
        const meta = await this.read();
        if (await change(meta))
          await writeFileAtomic(this.metadataFile, `${JSON.stringify(meta)}\n`, { mode: 0o600 });
      } finally {
        flock(fd, LOCK_UN);
        closeSync(fd);
      }
    });
  }
}

function find(meta: Metadata, key: string): SnapshotInfo {
  const info = meta.snapshots.find((i) => i.key === key);
  if (!info) throw new SnapshotError('not-found', `snapshot ${key} does not exist`);
  return info;
}

/** A key no other caller picks: for snapshots that live only while a layer is being unpacked. */
export function temporaryKey(purpose: string): string {
  return `${purpose}-${randomBytes(6).toString('hex')}`;
}
