// A push-to-pull bridge: producers push watch events, one consumer iterates them. Ending is explicit.
import type { StoreWatch, WatchEvent } from './index.ts';

export class EventQueue implements StoreWatch {
  private readonly buffered: WatchEvent[] = [];
  private waiter: ((r: IteratorResult<WatchEvent>) => void) | undefined;
  private ended = false;
  private readonly onClose: () => void;

  constructor(onClose: () => void) {
    this.onClose = onClose;
  }

  get closed(): boolean {
    return this.ended;
  }

  push(event: WatchEvent): void {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: event, done: false });
    } else {
      this.buffered.push(event);
    }
  }

  /** Delivers a final resync event, then ends the iteration. */
  resync(reason: string): void {
    if (this.ended) return;
    this.push({ type: 'resync', reason });
    this.finish();
  }

  close(): void {
    if (this.ended) return;
    this.finish();
  }

  private finish(): void {
    this.ended = true;
    this.onClose();
    if (this.waiter && this.buffered.length === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => {
        const next = this.buffered.shift();
        if (next) return Promise.resolve({ value: next, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiter = resolve;
        });
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
