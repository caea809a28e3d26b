// A shared/exclusive lock within this process: many holders share it (pulls, pushes, tags), one holds it alone
// (a removal that garbage-collects what the others might be about to name). A waiting exclusive holder goes
// first: new shared holders queue behind it, so a removal is not starved by a stream of pulls.

export class SharedLock {
  private shared = 0;
  private exclusive = false;
  private readonly queue: { exclusive: boolean; grant: () => void }[] = [];

  /** Runs `fn` while sharing the lock. */
  async withShared<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(false);
    try {
      return await fn();
    } finally {
      this.shared--;
      this.wake();
    }
  }

  /** Runs `fn` while holding the lock alone. */
  async withExclusive<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(true);
    try {
      return await fn();
    } finally {
      this.exclusive = false;
      this.wake();
    }
  }

  private acquire(exclusive: boolean): Promise<void> {
    if (this.queue.length === 0 && this.grantable(exclusive)) {
      this.take(exclusive);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push({ exclusive, grant: resolve }));
  }

  private grantable(exclusive: boolean): boolean {
    return exclusive ? !this.exclusive && this.shared === 0 : !this.exclusive;
  }

  private take(exclusive: boolean): void {
    if (exclusive) this.exclusive = true;
    else this.shared++;
  }

  private wake(): void {
    while (this.queue.length > 0 && this.grantable(this.queue[0]!.exclusive)) {
      const next = this.queue.shift()!;
      this.take(next.exclusive);
      next.grant();
      if (next.exclusive) return;
    }
  }
}
