// Who may use the agent's API socket: root, and members of the `tsnet` group when it exists (Docker's
// `docker` group). The kernel's word on the peer (SO_PEERCRED) decides, never the client's.
import { readFileSync } from 'node:fs';

export const API_GROUP = 'tsnet';

/** The gid of a group in /etc/group, if the group exists. */
export function groupId(name: string, groupFile = '/etc/group'): number | undefined {
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

/** The groups of a live process: its primary gid and its supplementary groups (/proc/PID/status). */
export function processGroups(pid: number): number[] {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const gids = /^Gid:\s+(\d+)/m.exec(status)?.[1];
  const groups = /^Groups:\s*([\d ]*)$/m.exec(status)?.[1] ?? '';
  return [...(gids ? [Number(gids)] : []), ...groups.split(/\s+/).filter(Boolean).map(Number)];
}

export interface Peer {
  pid: number;
  uid: number;
  gid: number;
}

/** Why a peer may not use the API, or undefined when it may. */
export function refusalOf(peer: Peer, groupGid: number | undefined): string | undefined {
  if (peer.uid === 0) return undefined;
  if (groupGid === undefined) return `uid ${peer.uid} is not root (and no ${API_GROUP} group exists)`;
  if (peer.gid === groupGid) return undefined;
  try {
    if (peer.pid > 0 && processGroups(peer.pid).includes(groupGid)) return undefined;
  } catch {
    // the peer is gone, or not visible from here: not a member then
  }
  return `uid ${peer.uid} is neither root nor in the ${API_GROUP} group`;
}
