// One address space for several networks: the node subnet of the cluster overlay is handed out to `tsnet` and
// to every user `-d overlay` network on the node (they share its bridge and gateway). Each network keeps its
// own host-local directory, so its DEL and GC only ever release its own records; what is shared is the lock
// (<dataDir>/.pool/lock, taken before the network's own) and the rule that an address recorded by any other
// network of the pool is taken. Directories of networks that predate the pool are read the same way.
import type { Dirent } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatIp, type IpAddress } from '../ip/address.ts';
import { type Allocation, type AllocationStore, type Attachment, DiskStore } from './store.ts';

/** Not a network name (those start with a letter or digit), so never a member's directory. */
const POOL_DIR = '.pool';

export class SharedPoolStore implements AllocationStore {
  private readonly own: DiskStore;
  private readonly pool: DiskStore;
  /** The other members' directories, while the pool lock is held. */
  private members: string[] | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly network: string,
  ) {
    this.own = new DiskStore(dataDir, network);
    this.pool = new DiskStore(dataDir, POOL_DIR);
  }

  exists(): Promise<boolean> {
    return this.own.exists();
  }

  unwritableReason(): Promise<string | undefined> {
    return this.own.unwritableReason();
  }

  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.pool.withLock(() =>
      this.own.withLock(async () => {
        // Listed once per lock hold: no member comes or goes while the pool lock is held.
        this.members = await this.otherMembers();
        try {
          return await fn();
        } finally {
          this.members = undefined;
        }
      }),
    );
  }

  async reserve(ip: IpAddress, owner: Attachment, rangeSetIndex: number): Promise<boolean> {
    const name = formatIp(ip);
    for (const dir of this.members ?? (await this.otherMembers())) {
      if (await exists(join(dir, name))) return false;
    }
    return this.own.reserve(ip, owner, rangeSetIndex);
  }

  sync(): Promise<void> {
    return this.own.sync();
  }

  lastReserved(rangeSetIndex: number): Promise<IpAddress | undefined> {
    return this.own.lastReserved(rangeSetIndex);
  }

  allocations(): Promise<Allocation[]> {
    return this.own.allocations();
  }

  release(ip: IpAddress): Promise<void> {
    return this.own.release(ip);
  }

  /** The directories of the pool's other networks; read under the pool lock, so none is being written. */
  private async otherMembers(): Promise<string[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.dataDir, { withFileTypes: true });
    } catch {
      return []; // no data dir yet: no other member
    }
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== this.network)
      .map((e) => join(this.dataDir, e.name));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
