// CNI_NETNS checks shared by the plugins: ADD and CHECK need a real network namespace; DEL goes on without one.
import { NativeModuleError, requireNativeModule } from '../../native/libc.ts';
import type { Handle } from '../netlink/handle.ts';
import { isNetns, sameNetns } from '../netns/index.ts';
import { CniError, ErrorCode } from './errors.ts';

/**
 * Code 999 naming the missing native module: without it isNetns could not look and every namespace would seem
 * missing (ADD would blame CNI_NETNS, DEL would "succeed" without cleaning up).
 */
function requireNamespaceSupport(): void {
  try {
    requireNativeModule();
  } catch (err) {
    if (!(err instanceof NativeModuleError)) throw err;
    throw new CniError(
      ErrorCode.Internal,
      err.message,
      'install the plugin together with the tsnet-native directory beside it (npm run install-cni -- DIR)',
      { cause: err },
    );
  }
}

/** Throws code 4 (the variable is wrong) unless CNI_NETNS names a network namespace. */
export function requireNetns(path: string): void {
  requireNamespaceSupport();
  if (!isNetns(path)) {
    throw new CniError(
      ErrorCode.InvalidEnvironment,
      `CNI_NETNS ${path} is not a network namespace (missing or not nsfs)`,
    );
  }
}

/** The namespace a plugin runs in is the node's (the agent serving plugins in-process runs there too). */
export const NODE_NETNS = '/proc/self/ns/net';

/**
 * Throws code 4 unless CNI_NETNS names a network namespace other than the node's: a plugin that creates the
 * container's interface must never create it among the node's own links.
 */
export function requireContainerNetns(path: string, plugin: string): void {
  requireNetns(path);
  if (sameNetns(path, NODE_NETNS)) {
    throw new CniError(
      ErrorCode.InvalidEnvironment,
      `CNI_NETNS ${path} is the node's own network namespace`,
      `${plugin} attaches containers in their own namespace`,
    );
  }
}

/** DEL's question: may it delete links in CNI_NETNS? Not when it is gone, empty, or the node's own. */
export function isContainerNetnsToClean(path: string): boolean {
  return netnsStillExists(path) && !sameNetns(path, NODE_NETNS);
}

/** DEL's question: is there still a namespace to clean up in? (An empty or stale CNI_NETNS is no error.) */
export function netnsStillExists(path: string): boolean {
  if (path === '') return false;
  requireNamespaceSupport();
  return isNetns(path);
}

/** CNI_IFNAME must name a new interface in the container (code 4): ADD never adopts an existing one. */
export async function requireFreeIfname(container: Handle, ifname: string): Promise<void> {
  if (await container.linkFind(ifname)) {
    throw new CniError(
      ErrorCode.InvalidEnvironment,
      `container interface ${ifname} already exists in ${container.netnsPath ?? 'the container namespace'}`,
      'CNI_IFNAME must name a new interface',
    );
  }
}
