// The image store: names (canonical references such as `docker.io/library/busybox:latest`) to the manifest
// they point at, in one JSON file under the root. Every change is a read-modify-write under an flock, written
// temp + fsync + rename, so concurrent pulls (in this process or others) never lose each other's names and a
// SIGKILL leaves the old index or the new one.
import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { flock, flockExclusiveAsync, LOCK_EX, LOCK_NB } from '../../native/libc.ts';
import { parseDigest } from '../content/digest.ts';
import { writeFileAtomic } from '../fsutil/atomic.ts';
import { inTurn } from '../sync/turns.ts';
import { byCodeUnits } from '../text/order.ts';
import { type Descriptor, parseDescriptor } from './manifest.ts';
import type { Platform } from './platform.ts';
import { formatImageReference, parseImageReference } from './reference.ts';

export interface ImageRecord {
  /** The canonical reference: `docker.io/library/busybox:latest` or `host/repo@sha256:…`. */
  readonly name: string;
  /** What the name resolves to at the registry: an index or a manifest. */
  readonly target: Descriptor;
  /** The image manifest for `platform` (the target itself when it is not an index). */
  readonly manifest: Descriptor;
  readonly platform: Platform;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ImageStore {
  get(name: string): Promise<ImageRecord | undefined>;
  list(): Promise<ImageRecord[]>;
  /** Creates or moves a name; returns the stored record. */
  put(record: Omit<ImageRecord, 'createdAt' | 'updatedAt'>): Promise<ImageRecord>;
  /** True when the name existed. */
  delete(name: string): Promise<boolean>;
}

export class ImageStoreError extends Error {
  override readonly name = 'ImageStoreError';
}

interface IndexFile {
  version: 1;
  images: Record<string, ImageRecord>;
}

const INDEX_FILE = 'images.json';
const LOCK_FILE = 'images.lock';

export class LocalImageStore implements ImageStore {
  constructor(readonly root: string) {}

  async get(name: string): Promise<ImageRecord | undefined> {
    return (await this.read()).images[canonicalName(name)];
  }

  async list(): Promise<ImageRecord[]> {
    return Object.values((await this.read()).images).sort((a, b) => byCodeUnits(a.name, b.name));
  }

  async put(record: Omit<ImageRecord, 'createdAt' | 'updatedAt'>): Promise<ImageRecord> {
    const name = canonicalName(record.name);
    parseDescriptor(record.target, `target of ${name}`);
    parseDescriptor(record.manifest, `manifest of ${name}`);
    return this.update((index) => {
      const now = new Date().toISOString();
      const stored: ImageRecord = {
        name,
        target: pickDescriptor(record.target),
        manifest: pickDescriptor(record.manifest),
        platform: record.platform,
        createdAt: index.images[name]?.createdAt ?? now,
        updatedAt: now,
      };
      index.images[name] = stored;
      return stored;
    });
  }

  async delete(name: string): Promise<boolean> {
    const key = canonicalName(name);
    return this.update((index) => {
      if (!(key in index.images)) return false;
      delete index.images[key];
      return true;
    });
  }

  private async read(): Promise<IndexFile> {
    let text: string;
    try {
      text = await readFile(join(this.root, INDEX_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, images: {} };
      throw new ImageStoreError(`cannot read ${join(this.root, INDEX_FILE)}: ${(err as Error).message}`);
    }
    try {
      const parsed = JSON.parse(text) as IndexFile;
      if (parsed.version !== 1 || typeof parsed.images !== 'object') throw new Error('unknown format');
      return parsed;
    } catch (err) {
      throw new ImageStoreError(`${join(this.root, INDEX_FILE)} is corrupt: ${(err as Error).message}`);
    }
  }

  private update<T>(change: (index: IndexFile) => T): Promise<T> {
    return inTurn(resolve(this.root, LOCK_FILE), async () => {
      mkdirSync(this.root, { recursive: true, mode: 0o755 });
      const fd = openSync(join(this.root, LOCK_FILE), constants.O_RDWR | constants.O_CREAT, 0o600);
      try {
        if (!flock(fd, LOCK_EX | LOCK_NB)) await flockExclusiveAsync(fd);
        const index = await this.read();
        const result = change(index);
        await writeFileAtomic(join(this.root, INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
        return result;
      } finally {
        closeSync(fd); // releases the flock
      }
    });
  }
}

function canonicalName(name: string): string {
  return formatImageReference(parseImageReference(name));
}

function pickDescriptor(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: parseDigest(d.digest), size: d.size };
}
