// Which nodes' kernels tsnetctl can read from where it runs: those the operator maps with
// `--node-netns NODE=PATH` (every node of the test/demo cluster is a namespace on one machine), and the node it
// runs on (the namespace holding that node's public IP). A container's namespace is read through its entry's
// sandbox path, only when its node is reachable (the path is on that node).
import { UsageError } from '../../cli/command-line.ts';
import type { ContainerEntry } from '../../discovery/entry.ts';
import { Handle } from '../../netlink/handle.ts';
import { isNetns } from '../../netns/index.ts';
import type { NetnsRef } from './path.ts';
import type { NodeView } from './snapshot.ts';

/** `NODE=PATH` values of --node-netns, validated. */
export function parseNodeNetns(values: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const node = v.slice(0, eq);
    const path = v.slice(eq + 1);
    if (eq <= 0 || path === '') throw new UsageError(`--node-netns ${v}: expected NODE=PATH`);
    if (!isNetns(path)) throw new UsageError(`--node-netns ${v}: ${path} is not a network namespace`);
    if (map.has(node)) throw new UsageError(`--node-netns: ${node} given twice`);
    map.set(node, path);
  }
  return map;
}

export interface NodeReach {
  nodeNetns(node: string): NetnsRef | undefined;
  sandboxNetns(entry: ContainerEntry): NetnsRef | { unreachable: string };
}

/** The reach of this process: the mapped nodes, plus the node whose public IP is on this namespace. */
export async function nodeReach(
  nodes: readonly NodeView[],
  mapped: ReadonlyMap<string, string>,
  localNetns?: string,
): Promise<NodeReach> {
  const local = await Handle.with(localNetns, async (h) =>
    (await h.addrList({ family: 4 })).map((a) => a.address),
  );
  const here = nodes.find(
    (n) => n.name !== undefined && n.publicIp !== undefined && local.includes(n.publicIp),
  );
  const nodeNetns = (node: string): NetnsRef | undefined => {
    const path = mapped.get(node);
    if (path !== undefined) return { path };
    return here?.name === node ? { path: localNetns } : undefined;
  };
  return {
    nodeNetns,
    sandboxNetns: (entry) => {
      if (!nodeNetns(entry.node))
        return { unreachable: `not checked from here (run diagnose on ${entry.node}, or pass --node-netns)` };
      if (entry.sandbox === undefined)
        return { unreachable: `its entry names no sandbox (its node's engine does not publish one)` };
      if (!isNetns(entry.sandbox))
        return {
          unreachable: `its sandbox ${entry.sandbox} is no network namespace here (container stopped?)`,
        };
      return { path: entry.sandbox };
    },
  };
}
