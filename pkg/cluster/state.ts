// What a cluster made, written to `<dir>/cluster.json` after every change, so that teardown can find every
// namespace, process and container even from another process (`demo --down NAME`) or after a failed start.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../fsutil/atomic.ts';

export interface ContainerRecord {
  name: string;
  node: number;
  netnsName: string;
  containerId: string;
  /** False while ADD runs: teardown still calls DEL for it. */
  added: boolean;
  ip?: string;
}

export interface ClusterState {
  name: string;
  dir: string;
  /** Every namespace created, in creation order (deleted in reverse). */
  netns: string[];
  /** Agent pid per node index, while running. */
  agents: Record<string, number>;
  /** etcd member pid per member index, while running (one member unless the cluster asked for more). */
  etcdPids?: Record<string, number>;
  /** The single etcd's pid, as states written before etcd could have several members say it. */
  etcdPid?: number;
  /** The cluster's image registry (docker-registry on the underlay), while running. */
  registryPid?: number;
  containers: ContainerRecord[];
}

const NAME_RE = /^[a-z][a-z0-9-]{0,30}$/;

export function validateName(kind: string, name: string): string {
  if (!NAME_RE.test(name)) {
    throw new Error(
      `invalid ${kind} name ${JSON.stringify(name)}: use 1-31 of a-z, 0-9 and '-', starting with a letter`,
    );
  }
  return name;
}

/** Where a cluster named `name` keeps its files. */
export function clusterDir(name: string): string {
  return join(tmpdir(), `tsnet-cluster-${validateName('cluster', name)}`);
}

/** Where a cluster's agents keep their run dirs: short, for the unix sockets under them (see Cluster.runRoot). */
export function clusterRunRoot(name: string): string {
  return `/run/tsnc-${createHash('sha256').update(validateName('cluster', name)).digest('hex').slice(0, 8)}`;
}

export function saveState(state: ClusterState): void {
  const file = join(state.dir, 'cluster.json');
  writeFileAtomicSync(file, `${JSON.stringify(state, null, 2)}\n`);
}

export function loadState(name: string): ClusterState {
  const file = join(clusterDir(name), 'cluster.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`no cluster named ${name}: cannot read ${file} (${(err as Error).message})`);
  }
  const state = JSON.parse(text) as ClusterState;
  if (state.etcdPid !== undefined) {
    state.etcdPids = { ...state.etcdPids, '0': state.etcdPid };
    delete state.etcdPid;
  }
  return state;
}
