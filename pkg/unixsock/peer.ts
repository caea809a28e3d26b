// Who is at the other end of an accepted unix socket, as the kernel recorded it at connect(2).
import type { Socket } from 'node:net';
import { getPeerCredentials, type PeerCredentials } from '../../native/libc.ts';
import { netnsId } from '../netns/index.ts';

/** The file descriptor under a connected net.Socket (Node keeps it on the socket's handle). */
export function socketFd(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0)
    throw new Error('the socket has no file descriptor (not a connected unix socket)');
  return fd;
}

/** SO_PEERCRED of a connected unix socket. */
export function peerCredentialsOf(socket: Socket): PeerCredentials {
  return getPeerCredentials(socketFd(socket));
}

/** A process's namespaces as the kernel identifies them: the nsfs device and inode of /proc/<pid>/ns/<kind>. */
export interface NamespaceIds {
  net: string;
  mnt: string;
  pid: string;
  user: string;
}

export function namespacesOf(pid: number | 'self'): NamespaceIds {
  // netnsId is the nsfs identity (dev:ino), the same rule for the mount and PID namespaces' files.
  const id = (kind: string) => netnsId(`/proc/${pid}/ns/${kind}`);
  return { net: id('net'), mnt: id('mnt'), pid: id('pid'), user: id('user') };
}
