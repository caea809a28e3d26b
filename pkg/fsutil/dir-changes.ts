// Which names of a directory changed since the last look, as the kernel reports them (inotify), without a
// trip to disk: a long-running process that keeps what it read of a directory (the agent's IPAM records)
// learns from this what it must read again. One inotify descriptor per process serves every watched
// directory; its queue is drained on demand, synchronously (a non-blocking read answers at once), so a
// change made before the look is always seen by it: the kernel queues an event as part of the change.

import {
  IN_ATTRIB,
  IN_CLOSE_WRITE,
  IN_CREATE,
  IN_DELETE,
  IN_DELETE_SELF,
  IN_EXCL_UNLINK,
  IN_IGNORED,
  IN_MODIFY,
  IN_MOVE_SELF,
  IN_MOVED_FROM,
  IN_MOVED_TO,
  IN_ONLYDIR,
  IN_Q_OVERFLOW,
  IN_UNMOUNT,
  inotifyAddWatch,
  inotifyInit,
  inotifyRemoveWatch,
  readInotifyEvents,
} from '../../native/libc.ts';

/**
 * What became of a name: gone (deleted, renamed away) or there with content that may differ. The last event
 * decides: a name two renames swapped (RENAME_EXCHANGE) would read as gone; no writer here does that.
 */
export type NameChange = 'gone' | 'changed';

export interface DirectoryChangeSet {
  /**
   * The kernel could not say what changed (its queue overflowed, the directory was deleted, renamed or
   * unmounted): nothing known of the directory holds any more, and this watch reports nothing further.
   */
  readonly lost: boolean;
  /** Each changed name with the last thing that happened to it. */
  readonly names: ReadonlyMap<string, NameChange>;
}

const NAME_GONE = IN_DELETE | IN_MOVED_FROM;
const NAME_CHANGED = IN_CREATE | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB;
const WATCH_LOST = IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED;
/** What a vital name must not undergo: another file under the name, or none. */
const NAME_REPLACED = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO;
/** Changes a directory may queue before its watcher gives up keeping them apart and reports it lost. */
const MAX_PENDING_NAMES = 4096;

/** One watched directory; `take()` hands over what changed since the previous take. */
export class WatchedDirectory {
  private pending = new Map<string, NameChange>();
  private lost = false;
  /** Called once, when the watch is lost (from inside a take, a drain by another watch, or close). */
  onLost: (() => void) | undefined;

  constructor(
    readonly path: string,
    private readonly wd: number,
    private readonly watcher: Watcher,
    private readonly vital: ReadonlySet<string>,
  ) {}

  /** The changes since the watch began or since the last take, the kernel's queue drained first. */
  take(): DirectoryChangeSet {
    this.watcher.drain();
    const changes = { lost: this.lost, names: this.pending };
    this.pending = new Map();
    return changes;
  }

  /** Stops watching (the directory's state is no longer kept). */
  close(): void {
    this.watcher.forget(this.wd, this);
  }

  /** @internal the watcher hands each event of this watch over, in order */
  record(mask: number, name: string): void {
    if ((mask & WATCH_LOST) !== 0 || ((mask & NAME_REPLACED) !== 0 && this.vital.has(name))) this.lose();
    if (this.lost || name === '') return;
    if ((mask & NAME_GONE) !== 0) this.pending.set(name, 'gone');
    else if ((mask & NAME_CHANGED) !== 0) this.pending.set(name, 'changed');
    if (this.pending.size > MAX_PENDING_NAMES) this.lose();
  }

  /** @internal */
  lose(): void {
    this.pending.clear();
    if (this.lost) return;
    this.lost = true;
    this.onLost?.();
  }
}

class Watcher {
  private readonly fd = inotifyInit();
  private readonly buffer = Buffer.allocUnsafe(64 * 1024);
  private readonly watches = new Map<number, WatchedDirectory>();

  watch(path: string, vital: ReadonlySet<string>): WatchedDirectory {
    const mask = NAME_GONE | NAME_CHANGED | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK;
    const wd = inotifyAddWatch(this.fd, path, mask);
    // A directory watched already (through another path) gets the same descriptor: the older watch is lost
    // to its owner, and its close must not remove the kernel's watch, now the new one's.
    const older = this.watches.get(wd);
    const dir = new WatchedDirectory(path, wd, this, vital);
    this.watches.set(wd, dir);
    older?.lose();
    return dir;
  }

  drain(): void {
    let events: ReturnType<typeof readInotifyEvents>;
    try {
      events = readInotifyEvents(this.fd, this.buffer);
    } catch {
      // Events read before the failure are gone with it: no watch can say what changed any more.
      for (const dir of this.watches.values()) dir.lose();
      return;
    }
    for (const event of events) {
      if ((event.mask & IN_Q_OVERFLOW) !== 0) {
        for (const dir of this.watches.values()) dir.lose();
        continue;
      }
      const dir = this.watches.get(event.wd);
      dir?.record(event.mask, event.name);
      if ((event.mask & IN_IGNORED) !== 0 && dir) this.watches.delete(event.wd); // the kernel dropped it
    }
  }

  forget(wd: number, dir: WatchedDirectory): void {
    if (this.watches.get(wd) !== dir) return;
    this.watches.delete(wd);
    inotifyRemoveWatch(this.fd, wd);
  }
}

let watcher: Watcher | undefined;

/**
 * Starts reporting the changes of the names in directory `path` (which must exist). Only what happens after
 * this call is reported: read the directory after it, not before. Any change of a `vital` name loses the
 * watch (e.g. a lock file: a new one means the directory's state is not what was known).
 */
export function watchDirectory(path: string, vital: readonly string[] = []): WatchedDirectory {
  watcher ??= new Watcher();
  return watcher.watch(path, new Set(vital));
}
