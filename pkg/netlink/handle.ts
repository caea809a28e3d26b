// A Handle is the typed kernel API bound to one network namespace: every request it sends acts on the
// namespace it was opened in, whatever namespace the calling thread is in later.
import {
  bridgePortSet,
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
}
