// The macvlan data plane: find the master, create the container's macvlan directly inside its namespace with
// its final name (no temporary name in the node namespace, nothing to move, nothing to leak there), and
// delete it again. Each function creating something has its undo beside it.

import { CniError, ErrorCode } from '../cni/errors.ts';
import { requireFreeIfname } from '../cni/netns.ts';
import type { Handle } from '../netlink/handle.ts';
import type { Link } from '../netlink/link.ts';
import { NetlinkError } from '../netlink/socket.ts';
import type { ContainerMacvlanMode } from './config.ts';

/** The interface of the default route (IPv4 first, then IPv6) in the namespace of `h`. */
export async function defaultRouteInterface(h: Handle, where: string): Promise<Link> {
  for (const family of [4, 6] as const) {
    const routes = await h.routeList({ family });
    const dflt = routes.find((r) => (r.dst === '0.0.0.0/0' || r.dst === '::/0') && r.oif !== undefined);
    if (dflt?.oif !== undefined) return h.linkGet(dflt.oif);
  }
  throw new CniError(
    ErrorCode.InvalidNetworkConfig,
    `no "master" given and no default route in the ${where} namespace to take it from`,
    'set "master" to the parent interface',
  );
}

/** The master link: `name` when given, else the default route's interface. Missing is code 7. */
export async function findMaster(h: Handle, name: string | undefined, where: string): Promise<Link> {
  if (name === undefined) return defaultRouteInterface(h, where);
  const master = await h.linkFind(name);
  if (!master) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `master interface ${name} not found in the ${where} namespace`,
    );
  }
  return master;
}

/** The MTU to create the macvlan with: the configured one, which may not exceed the master's. */
export function macvlanMtu(master: Link, mtu: number | undefined): number | undefined {
  if (mtu !== undefined && mtu > master.mtu) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `invalid MTU ${mtu}: a macvlan cannot exceed its master's MTU (${master.name}: ${master.mtu})`,
    );
  }
  return mtu;
}

export interface CreateMacvlan {
  readonly ifname: string;
  readonly mode: ContainerMacvlanMode;
  readonly mtu?: number;
  readonly mac?: string;
  /** The container's namespace when the master is in another one (the node's). */
  readonly containerNetns?: string;
}

/**
 * Creates the macvlan on `master` (which `masterNs` sees) named `ifname` inside the container namespace
 * (`container`), and returns it as the container sees it. The name must be free there (code 4).
 */
export async function createMacvlan(
  masterNs: Handle,
  container: Handle,
  master: Link,
  opts: CreateMacvlan,
): Promise<Link> {
  await requireFreeIfname(container, opts.ifname);
  try {
    await masterNs.linkAdd({
      kind: 'macvlan',
      name: opts.ifname,
      parentIndex: master.index,
      mode: opts.mode,
      mtu: opts.mtu,
      mac: opts.mac,
      netns: opts.containerNetns,
    });
  } catch (err) {
    throw new CniError(
      ErrorCode.Internal,
      `failed to create macvlan ${opts.ifname} on ${master.name} (mode ${opts.mode})`,
      explainCreateError(err, master, opts.mode),
    );
  }
  return container.linkGet(opts.ifname);
}

function explainCreateError(err: unknown, master: Link, mode: ContainerMacvlanMode): string {
  const text = (err as Error).message;
  if (!(err instanceof NetlinkError)) return text;
  if (err.code === 'EINVAL' || err.code === 'EBUSY') {
    if (mode === 'passthru')
      return `${text}; passthru mode allows one macvlan on ${master.name} and no other`;
    return `${text}; ${master.name} may already carry a passthru macvlan, which allows no other`;
  }
  if (err.code === 'EADDRINUSE' || err.code === 'EEXIST')
    return `${text}; is that MAC already used on ${master.name}?`;
  return text;
}

/** True when `link` is a macvlan of `master`, which lives in another namespace when `masterElsewhere`. */
export function isMacvlanOf(link: Link, master: Link, masterElsewhere: boolean): boolean {
  return (
    link.info.kind === 'macvlan' &&
    link.parentIndex === master.index &&
    (link.parentNetnsId !== undefined) === masterElsewhere
  );
}

/**
 * Undo of createMacvlan, and DEL: deletes `ifname` in the container when it is a macvlan of `master` (what
 * ADD made); a link of another kind or on another parent is left alone. Missing is fine. True when deleted.
 */
export async function deleteMacvlan(
  container: Handle,
  ifname: string,
  master: Link,
  masterElsewhere: boolean,
): Promise<boolean> {
  const link = await container.linkFind(ifname);
  if (!link || !isMacvlanOf(link, master, masterElsewhere)) return false;
  try {
    await container.linkDel(link.index);
  } catch (err) {
    if (!(err instanceof NetlinkError && err.code === 'ENODEV')) throw err;
  }
  return true;
}

/** CHECK: `ifname` in the container is an up macvlan on `master` in `mode` (and `mtu` when configured). */
export function verifyMacvlan(
  link: Link | undefined,
  expected: {
    ifname: string;
    master: Link;
    mode: ContainerMacvlanMode;
    mtu?: number;
    masterElsewhere: boolean;
  },
): Link {
  const fail = (msg: string): never => {
    throw new CniError(ErrorCode.Internal, `container interface ${expected.ifname}: ${msg}`);
  };
  if (!link) return fail('missing');
  if (link.info.kind !== 'macvlan') return fail(`is a ${link.info.kind}, not a macvlan`);
  if (link.info.mode !== expected.mode)
    return fail(`has mode ${link.info.mode}, configured ${expected.mode}`);
  if (!isMacvlanOf(link, expected.master, expected.masterElsewhere)) {
    return fail(`is not a macvlan of ${expected.master.name}`);
  }
  if (expected.mtu !== undefined && link.mtu !== expected.mtu) {
    return fail(`has MTU ${link.mtu}, configured ${expected.mtu}`);
  }
  if (!link.up) return fail('is down');
  return link;
}
