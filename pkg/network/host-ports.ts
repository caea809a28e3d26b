// Host ports for -p/-P, checked in the node's namespace before anything is attached: a port a node process
// holds (a bind test, as docker-proxy's own bind would find out) or another container publishes is refused
// with Docker's message; port 0 gets a free one from the kernel.
import {
  bind,
  close,
  getsockname,
  SOCK_CLOEXEC,
  SOL_SOCKET,
  SyscallError,
  setsockoptInt,
  socket,
} from '../../native/libc.ts';
import type { PublishedPort } from '../container/networking.ts';
import { parseIp } from '../ip/address.ts';
import { withNetns } from '../netns/index.ts';
import { listPortMappings } from '../nft/index.ts';

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SO_REUSEADDR = 2;

/** A host port that cannot be published; nothing was attached. */
export class HostPortError extends Error {
  override readonly name = 'HostPortError';
}

function sockaddrIn(ip: string, port: number): Buffer {
  const addr = Buffer.alloc(16);
  addr.writeUInt16LE(AF_INET, 0);
  addr.writeUInt16BE(port, 2);
  Buffer.from(ip.split('.').map(Number)).copy(addr, 4);
  return addr;
}

function bindAddress(p: PublishedPort): string {
  if (p.hostIp === '' || p.hostIp === '0.0.0.0') return '0.0.0.0';
  const ip = parseIp(p.hostIp);
  if (!ip) throw new HostPortError(`invalid host IP ${JSON.stringify(p.hostIp)} for port ${p.hostPort}`);
  if (ip.family !== 4) {
    throw new HostPortError(`host IP ${p.hostIp}: publishing on IPv6 host addresses is not supported`);
  }
  return p.hostIp;
}

const shown = (p: PublishedPort) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}`;

/**
 * Binds (and releases) hostIp:hostPort in the node's namespace; 0 asks the kernel for a free port, which is
 * returned. SCTP is not bind-tested (the kernel module may be absent): the firewall check still applies.
 */
function bindTest(nodeNetns: string, p: PublishedPort): number {
  if (p.protocol === 'sctp') return p.hostPort;
  const address = bindAddress(p);
  return withNetns(nodeNetns, () => {
    const fd = socket(AF_INET, (p.protocol === 'udp' ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    try {
      setsockoptInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
      bind(fd, sockaddrIn(address, p.hostPort));
      return getsockname(fd, 16).readUInt16BE(2);
    } catch (err) {
      if (err instanceof SyscallError && err.code === 'EADDRINUSE') {
        throw new HostPortError(`Bind for ${shown(p)} failed: port is already allocated`);
      }
      if (err instanceof SyscallError && err.code === 'EADDRNOTAVAIL') {
        throw new HostPortError(`Bind for ${shown(p)} failed: ${p.hostIp} is not an address of this node`);
      }
      throw err;
    } finally {
      close(fd);
    }
  });
}

/**
 * The ports with every hostPort 0 replaced by a free one, each checked free on the node and unpublished by
 * other containers (Docker's "port is already allocated" otherwise).
 */
export async function reserveHostPorts(
  nodeNetns: string,
  containerId: string,
  ports: readonly PublishedPort[],
): Promise<PublishedPort[]> {
  // nothing to publish, nothing to check: no firewall listing (an nft run) on a plain run's path
  if (ports.length === 0) return [];
  const published = (await listPortMappings(nodeNetns)).filter((m) => m.containerId !== containerId);
  const heldByContainer = (p: PublishedPort) =>
    published.some(
      (m) =>
        m.protocol === p.protocol &&
        m.hostPort === p.hostPort &&
        (m.hostIP === undefined || p.hostIp === '' || p.hostIp === '0.0.0.0' || m.hostIP === p.hostIp),
    );
  const out: PublishedPort[] = [];
  for (const p of ports) {
    if (p.hostPort !== 0) {
      if (heldByContainer(p) || out.some((o) => o.protocol === p.protocol && o.hostPort === p.hostPort)) {
        throw new HostPortError(`Bind for ${shown(p)} failed: port is already allocated`);
      }
      bindTest(nodeNetns, p);
      out.push({ ...p });
      continue;
    }
    let picked: PublishedPort | undefined;
    for (let attempt = 0; attempt < 32 && !picked; attempt++) {
      const candidate = {
        ...p,
        hostPort: bindTest(nodeNetns, { ...p, protocol: p.protocol === 'sctp' ? 'tcp' : p.protocol }),
      };
      const clash =
        heldByContainer(candidate) ||
        out.some((o) => o.protocol === p.protocol && o.hostPort === candidate.hostPort);
      if (!clash) picked = candidate;
    }
    if (!picked)
      throw new HostPortError(`no free host port for container port ${p.containerPort}/${p.protocol}`);
    out.push(picked);
  }
  return out;
}
