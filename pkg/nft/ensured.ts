// What this process has already made sure of in its own network namespace's tsnet table, so a warm agent
// does not list the table (an `nft -j list` exec) for every ADD of a network whose masquerade is in place.
// Only the process's own namespace is remembered: it lives as long as the process, whereas another
// namespace's identity (its nsfs inode) can be reused by a new namespace once it is gone. The cache trusts
// that only tsnet edits its table: whatever tsnet removes (an element, the whole table) is forgotten here.
import { sameNetns } from '../netns/index.ts';

const OWN_NETNS = '/proc/self/ns/net';
const ensured = new Map<string, string>();

function isOwnNetns(nsPath: string): boolean {
  try {
    return nsPath === OWN_NETNS || sameNetns(nsPath, OWN_NETNS);
  } catch {
    return false; // a namespace path that does not resolve is not ours
  }
}

/** True when `key` was last ensured in `nsPath` with exactly `state` (and nothing removed it since). */
export function alreadyEnsured(nsPath: string, key: string, state: string): boolean {
  return isOwnNetns(nsPath) && ensured.get(key) === state;
}

/** True when `key` was ensured in `nsPath` in some state (and nothing removed it since). */
export function isEnsured(nsPath: string, key: string): boolean {
  return ensured.has(key) && isOwnNetns(nsPath);
}

/** Records that `key` is now in `state` in `nsPath` (a no-op for another namespace). */
export function rememberEnsured(nsPath: string, key: string, state: string): void {
  if (isOwnNetns(nsPath)) ensured.set(key, state);
}

/** Forgets `key` (or, without one, everything) after a removal in `nsPath`, or a failure that may have left it half-done. */
export function forgetEnsured(nsPath: string, key?: string): void {
  if (!isOwnNetns(nsPath)) return;
  if (key === undefined) ensured.clear();
  else ensured.delete(key);
}
