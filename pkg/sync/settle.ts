// Work run side by side that must all end before the caller goes on, even when one part fails: the
// others are not left running behind a thrown error.

/** Awaits every promise; then throws the first failure (in the given order), if any. */
export async function settleAll(work: readonly Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}
