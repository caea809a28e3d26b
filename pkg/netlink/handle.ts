// A Handle is the typed kernel API bound to one network namespace: every request it sends acts on the
// namespace it was opened in, whatever namespace the calling thread is in later.
import { type AddrAddOptions, type Address, type AddrFilter, addrAdd, addrDel, addrList } from './addr.ts';
import {
  type BridgeVlanSpec,
  bridgePortSet,
  bridgeVlanAdd,
  type Link,
  type LinkChange,
  type LinkSpec,
  linkAdd,
  linkDel,
  linkFind,
  linkGet,
  linkList,
  linkSet,
} from './link.ts';
import {
  type FdbDelSpec,
  type FdbSpec,
  fdbAppend,
  fdbDel,
  fdbList,
  fdbSet,
  type Neighbour,
  type NeighFilter,
  type NeighSpec,
  neighAdd,
  neighDel,
  neighList,
  neighSet,
} from './neigh.ts';
import {
  type Route,
  type RouteFilter,
  type RouteSpec,
  routeAdd,
  routeDel,
  routeList,
  routeReplace,
} from './route.ts';
import { NetlinkSocket } from './socket.ts';

export class Handle {
  readonly netnsPath: string | undefined;
  readonly socket: NetlinkSocket;

  private constructor(socket: NetlinkSocket, netnsPath: string | undefined) {
    this.socket = socket;
    this.netnsPath = netnsPath;
  }

  /** Opens a handle on the namespace at `netnsPath` (the calling thread's namespace when omitted). */
  static open(netnsPath?: string): Handle {
    return new Handle(NetlinkSocket.open(netnsPath), netnsPath);
  }

  /** Opens a handle, runs `fn`, and closes the handle whatever happens. */
  static async with<T>(netnsPath: string | undefined, fn: (h: Handle) => Promise<T>): Promise<T> {
    const h = Handle.open(netnsPath);
    try {
      return await fn(h);
    } finally {
      h.close();
    }
  }

  close(): void {
    this.socket.close();
  }

  /**
   * Sends the change requests `queue` makes (without awaiting them) together: many messages per sendmsg, one
   * ack pass; each request still settles on its own. Returns what `queue` returned, e.g. their promises.
   */
  batch<T>(queue: () => T): T {
    return this.socket.batch(queue);
  }

  // Links
  linkAdd(spec: LinkSpec): Promise<void> {
    return linkAdd(this.socket, spec);
  }
  linkList(): Promise<Link[]> {
    return linkList(this.socket);
  }
  linkGet(nameOrIndex: string | number): Promise<Link> {
    return linkGet(this.socket, nameOrIndex);
  }
  linkFind(nameOrIndex: string | number): Promise<Link | undefined> {
    return linkFind(this.socket, nameOrIndex);
  }
  linkDel(index: number): Promise<void> {
    return linkDel(this.socket, index);
  }
  /** Deletes a link by name; false when it did not exist. */
  async linkDelByName(name: string): Promise<boolean> {
    const link = await linkFind(this.socket, name);
    if (!link) return false;
    await linkDel(this.socket, link.index, `delete link ${name}`);
    return true;
  }
  linkSet(index: number, change: LinkChange): Promise<void> {
    return linkSet(this.socket, index, change);
  }
  linkSetUp(index: number): Promise<void> {
    return linkSet(this.socket, index, { up: true });
  }
  linkSetDown(index: number): Promise<void> {
    return linkSet(this.socket, index, { up: false });
  }
  linkSetMaster(index: number, masterIndex: number): Promise<void> {
    return linkSet(this.socket, index, { masterIndex });
  }
  linkSetNoMaster(index: number): Promise<void> {
    return linkSet(this.socket, index, { masterIndex: 0 });
  }
  linkSetNetns(index: number, netnsPath: string): Promise<void> {
    return linkSet(this.socket, index, { netns: netnsPath });
  }
  bridgePortSet(index: number, port: { hairpin?: boolean; learning?: boolean }): Promise<void> {
    return bridgePortSet(this.socket, index, port);
  }
  bridgeVlanAdd(index: number, vlan: BridgeVlanSpec): Promise<void> {
    return bridgeVlanAdd(this.socket, index, vlan);
  }

  // Addresses
  addrAdd(index: number, cidr: string, opts?: AddrAddOptions): Promise<void> {
    return addrAdd(this.socket, index, cidr, opts);
  }
  addrDel(index: number, cidr: string): Promise<void> {
    return addrDel(this.socket, index, cidr);
  }
  addrList(filter?: AddrFilter): Promise<Address[]> {
    return addrList(this.socket, filter);
  }

  // Routes
  routeAdd(spec: RouteSpec): Promise<void> {
    return routeAdd(this.socket, spec);
  }
  routeReplace(spec: RouteSpec): Promise<void> {
    return routeReplace(this.socket, spec);
  }
  routeDel(spec: RouteSpec): Promise<void> {
    return routeDel(this.socket, spec);
  }
  routeList(filter?: RouteFilter): Promise<Route[]> {
    return routeList(this.socket, filter);
  }

  // Neighbours (ARP/NDP)
  neighSet(spec: NeighSpec): Promise<void> {
    return neighSet(this.socket, spec);
  }
  neighAdd(spec: NeighSpec): Promise<void> {
    return neighAdd(this.socket, spec);
  }
  neighDel(spec: { index: number; ip: string }): Promise<void> {
    return neighDel(this.socket, spec);
  }
  neighList(filter?: NeighFilter): Promise<Neighbour[]> {
    return neighList(this.socket, filter);
  }

  // Bridge FDB
  fdbSet(spec: FdbSpec): Promise<void> {
    return fdbSet(this.socket, spec);
  }
  fdbAppend(spec: FdbSpec): Promise<void> {
    return fdbAppend(this.socket, spec);
  }
  fdbDel(spec: FdbDelSpec): Promise<void> {
    return fdbDel(this.socket, spec);
  }
  fdbList(filter?: { index?: number }): Promise<Neighbour[]> {
    return fdbList(this.socket, filter);
  }
}
