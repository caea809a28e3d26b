// Turns: async functions with the same key run one after another within this process, in call order.
// Used where a kernel lock (flock) alone is not enough inside one process: waiting for a contended flock
// occupies one of libuv's few worker threads, so in-process waiters queue here and at most one waits there.

const turns = new Map<string, Promise<unknown>>();

/** Runs `fn` once every earlier call with the same key has settled; resolves or rejects as `fn` does. */
export function inTurn<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (turns.get(key) ?? Promise.resolve()).then(fn);
  const settled = run.catch(() => undefined);
  turns.set(key, settled);
  void settled.then(() => {
    if (turns.get(key) === settled) turns.delete(key);
  });
  return run;
}
