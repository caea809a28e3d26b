// CNI_NETNS checks shared by the plugins: ADD and CHECK need a real network namespace; DEL goes on without one.
import { isNetns } from '../netns/index.ts';
import { CniError, ErrorCode } from './errors.ts';

/** Throws code 4 (the variable is wrong) unless CNI_NETNS names a network namespace. */
export function requireNetns(path: string): void {
  if (!isNetns(path)) {
    throw new CniError(
      ErrorCode.InvalidEnvironment,
      `CNI_NETNS ${path} is not a network namespace (missing or not nsfs)`,
    );
  }
}

/** DEL's question: is there still a namespace to clean up in? (An empty or stale CNI_NETNS is no error.) */
export function netnsStillExists(path: string): boolean {
  return path !== '' && isNetns(path);
}
