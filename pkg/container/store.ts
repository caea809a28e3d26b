// The container records on disk (D/containers/<id>/config.json, written temp + fsync + rename) and in
// memory: the name index (a name is taken by one container at most, checked and written under one lock),
// and finding a container by ID, name or unique ID prefix as Docker does.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { removeOrphanedTemps, writeFileAtomic } from '../fsutil/atomic.ts';
import { inTurn } from '../sync/turns.ts';
import { ContainerNotFoundError } from './handle.ts';
import { generateName, validateContainerName } from './names.ts';
import type { ContainerRecord } from './record.ts';

const ID_RE = /^[0-9a-f]{64}$/;

export class NameConflictError extends Error {
  override name = 'NameConflictError';
  constructor(
    readonly containerName: string,
    readonly holder: string,
  ) {
    super(
      `Conflict. The container name "/${containerName}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
  }
}

export class AmbiguousContainerError extends Error {
  override name = 'AmbiguousContainerError';
  constructor(readonly ref: string) {
    super(`Multiple IDs found with provided prefix: ${ref}`);
  }
}

export class RecordError extends Error {
  override name = 'RecordError';
}

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

export class ContainerStore {
  private readonly records = new Map<string, ContainerRecord>();
  private readonly names = new Map<string, string>();
  private readonly lockKey: string;

  constructor(readonly root: string) {
    this.lockKey = `container-store:${root}`;
  }

  /** Reads every record; a directory without a readable record (a create cut short) is reported, not loaded. */
  async open(): Promise<{ loaded: number; broken: string[] }> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const broken: string[] = [];
    for (const id of await readdir(this.root)) {
      if (!ID_RE.test(id)) continue;
      const dir = join(this.root, id);
      removeOrphanedTemps(dir);
      try {
        const record = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as ContainerRecord;
        if (record.version !== 1 || record.id !== id) throw new Error('not a container record');
        this.records.set(id, record);
        this.names.set(record.name, id);
      } catch {
        broken.push(id);
      }
    }
    return { loaded: this.records.size, broken };
  }

  dirOf(id: string): string {
    if (!ID_RE.test(id)) throw new RecordError(`invalid container ID ${JSON.stringify(id)}`);
    return join(this.root, id);
  }

  all(): ContainerRecord[] {
    return [...this.records.values()];
  }

  byId(id: string): ContainerRecord | undefined {
    return this.records.get(id);
  }

  /** By full ID, then exact name, then unique ID prefix (Docker's order). */
  find(ref: string): ContainerRecord {
    const exact = this.records.get(ref);
    if (exact) return exact;
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    const named = this.names.get(name);
    if (named) return this.records.get(named)!;
    if (/^[0-9a-f]+$/.test(ref)) {
      const matches = [...this.records.keys()].filter((id) => id.startsWith(ref));
      if (matches.length === 1) return this.records.get(matches[0]!)!;
      if (matches.length > 1) throw new AmbiguousContainerError(ref);
    }
    throw new ContainerNotFoundError(ref);
  }

  /**
   * Stores a new record under its name (or a generated one when `name` is empty), creating its directory.
   * Throws NameConflictError when the name is taken.
   */
  create(record: Omit<ContainerRecord, 'name'>, name: string): Promise<ContainerRecord> {
    return inTurn(this.lockKey, async () => {
      let chosen = name ? validateContainerName(name) : generateName();
      for (let retry = 1; !name && this.names.has(chosen); retry++) chosen = generateName(retry);
      const holder = this.names.get(chosen);
      if (holder) throw new NameConflictError(chosen, holder);
      const full: ContainerRecord = { ...record, name: chosen };
      await mkdir(this.dirOf(full.id), { recursive: true, mode: 0o700 });
      await this.write(full);
      this.records.set(full.id, full);
      this.names.set(chosen, full.id);
      return full;
    });
  }

  /** Persists a changed record (the same object the store holds, or a replacement). */
  async save(record: ContainerRecord): Promise<void> {
    if (this.records.get(record.id) === undefined) throw new ContainerNotFoundError(record.id);
    await this.write(record);
    this.records.set(record.id, record);
  }

  rename(id: string, newName: string): Promise<{ old: string; name: string }> {
    return inTurn(this.lockKey, async () => {
      const record = this.records.get(id);
      if (!record) throw new ContainerNotFoundError(id);
      const name = validateContainerName(newName);
      const holder = this.names.get(name);
      if (holder === id) throw new RecordError(`Renaming a container with the same name as its current name`);
      if (holder) throw new NameConflictError(name, holder);
      const old = record.name;
      const renamed = { ...record, name };
      await this.write(renamed);
      this.records.set(id, renamed);
      this.names.delete(old);
      this.names.set(name, id);
      return { old, name };
    });
  }

  /** Forgets the record and removes its directory (logs, etc files, exit dir with it). */
  delete(id: string): Promise<void> {
    return inTurn(this.lockKey, async () => {
      const record = this.records.get(id);
      await rm(this.dirOf(id), { recursive: true, force: true });
      this.records.delete(id);
      if (record && this.names.get(record.name) === id) this.names.delete(record.name);
    });
  }

  private async write(record: ContainerRecord): Promise<void> {
    await writeFileAtomic(
      join(this.dirOf(record.id), 'config.json'),
      `${JSON.stringify(record, null, 1)}\n`,
      {
        mode: 0o600,
      },
    );
  }
}
