// The agent's freed native memory, given back. glibc's free() returns pages to the kernel only from the top
// of a heap; what V8's compilers, gRPC and the netlink and fs bindings free below the top stays resident,
// and a burst of work (50 containers started, 1000 leases programmed) leaves megabytes of such holes in
// every malloc arena. malloc_trim(0) returns them; it costs tens of microseconds, so the agent calls it every
// second rather than guessing when a burst is over. (The launcher also caps glibc at two arenas:
// scripts/build.ts.)
import { mallocTrim } from '../../native/libc.ts';
import type { Service, ServiceHealth } from './service.ts';

const TRIM_INTERVAL_MS = 1_000;

export class MemoryTrimService implements Service {
  readonly name = 'memory';
  private timer: NodeJS.Timeout | undefined;
  private trims = 0;

  constructor(private readonly intervalMs = TRIM_INTERVAL_MS) {}

  async start(): Promise<void> {
    // unref: a pending trim never keeps the agent from exiting
    this.timer = setInterval(() => {
      if (mallocTrim()) this.trims++;
    }, this.intervalMs).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  health(): ServiceHealth {
    return { ready: this.timer !== undefined, trimsThatFreedMemory: this.trims };
  }
}
