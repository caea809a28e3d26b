// Kernel change notifications (links, addresses, routes, neighbours) as an async stream. When the kernel
// drops notifications because the socket's receive buffer overflowed (ENOBUFS), or the consumer falls too far
// behind, the stream yields an explicit `resync` event: the consumer must list again. It never crashes.
import {
  close,
  MSG_DONTWAIT,
  MSG_TRUNC,
  pollReadable,
  recv,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOL_SOCKET,
  SyscallError,
  setsockoptInt,
} from '../../native/libc.ts';
import { type Address, decodeAddress } from './addr.ts';
import { decodeMessages, type NlMessage } from './codec.ts';
import { RtmType, RtnlGroup } from './constants.ts';
import { decodeLink, type Link } from './link.ts';
import { decodeNeighbour, type Neighbour } from './neigh.ts';
import { decodeRoute, type Route } from './route.ts';
import { openRouteSocket, sharedReceiveBuffer } from './socket.ts';

export type EventTopic = 'link' | 'address' | 'route' | 'neighbour';

export type NetlinkEvent =
  | { readonly type: 'link'; readonly action: 'new' | 'del'; readonly link: Link }
  | { readonly type: 'address'; readonly action: 'new' | 'del'; readonly address: Address }
  | { readonly type: 'route'; readonly action: 'new' | 'del'; readonly route: Route }
  | { readonly type: 'neighbour'; readonly action: 'new' | 'del'; readonly neighbour: Neighbour }
  | { readonly type: 'resync'; readonly reason: string };

export interface EventStreamOptions {
  /** Receive buffer in bytes (default 4 MiB; the kernel may clamp it). */
  readonly receiveBufferBytes?: number;
  /** Events held for a slow consumer before they are dropped for one resync (default 65536). */
  readonly maxQueued?: number;
  /** How often the reader wakes to notice close() (default 200 ms). */
  readonly pollSliceMs?: number;
}

const TOPIC_GROUPS: Record<EventTopic, readonly number[]> = {
  link: [RtnlGroup.LINK],
  address: [RtnlGroup.IPV4_IFADDR, RtnlGroup.IPV6_IFADDR],
  route: [RtnlGroup.IPV4_ROUTE, RtnlGroup.IPV6_ROUTE],
  neighbour: [RtnlGroup.NEIGH],
};

/** The typed event of a notification; undefined for message types and address families not modelled here. */
function toEvent(msg: NlMessage): NetlinkEvent | undefined {
  try {
    return decodeEvent(msg);
  } catch {
    return undefined; // e.g. an MPLS route: nothing a tsnet consumer asked for
  }
}

function decodeEvent(msg: NlMessage): NetlinkEvent | undefined {
  switch (msg.type) {
    case RtmType.NEWLINK:
    case RtmType.DELLINK:
      return { type: 'link', action: msg.type === RtmType.NEWLINK ? 'new' : 'del', link: decodeLink(msg) };
    case RtmType.NEWADDR:
    case RtmType.DELADDR:
      return {
        type: 'address',
        action: msg.type === RtmType.NEWADDR ? 'new' : 'del',
        address: decodeAddress(msg),
      };
    case RtmType.NEWROUTE:
    case RtmType.DELROUTE:
      return {
        type: 'route',
        action: msg.type === RtmType.NEWROUTE ? 'new' : 'del',
        route: decodeRoute(msg),
      };
    case RtmType.NEWNEIGH:
    case RtmType.DELNEIGH:
      return {
        type: 'neighbour',
        action: msg.type === RtmType.NEWNEIGH ? 'new' : 'del',
        neighbour: decodeNeighbour(msg),
      };
    default:
      return undefined;
  }
}

export class EventStream implements AsyncIterable<NetlinkEvent> {
  private readonly fd: number;
  private readonly queue: NetlinkEvent[] = [];
  private waiter: (() => void) | undefined;
  private readonly maxQueued: number;
  private readonly pollSliceMs: number;
  private reading = false;
  private closed = false;
  private failure: Error | undefined;

  private constructor(fd: number, options: EventStreamOptions) {
    this.fd = fd;
    this.maxQueued = options.maxQueued ?? 65536;
    this.pollSliceMs = options.pollSliceMs ?? 200;
  }

  /**
   * Subscribes to `topics` in the namespace at `netnsPath`. Reading starts with the first iteration, so a
   * caller can subscribe, list the current state, then consume changes without a gap.
   */
  static open(
    netnsPath: string | undefined,
    topics: readonly EventTopic[],
    options: EventStreamOptions = {},
  ) {
    let groups = 0;
    for (const t of topics) for (const g of TOPIC_GROUPS[t]) groups |= 1 << (g - 1);
    const fd = openRouteSocket(netnsPath, groups);
    const bytes = options.receiveBufferBytes ?? 4 << 20;
    try {
      setsockoptInt(fd, SOL_SOCKET, SO_RCVBUFFORCE, bytes);
    } catch {
      setsockoptInt(fd, SOL_SOCKET, SO_RCVBUF, bytes);
    }
    return new EventStream(fd, options);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.reading) close(this.fd);
    this.wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<NetlinkEvent> {
    if (!this.reading && !this.closed) void this.readLoop();
    try {
      while (true) {
        const next = this.queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (this.failure) throw this.failure;
        if (this.closed) return;
        await new Promise<void>((resolve) => {
          this.waiter = resolve;
        });
      }
    } finally {
      this.close();
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private push(event: NetlinkEvent): void {
    if (this.queue.length >= this.maxQueued) {
      this.queue.length = 0;
      this.queue.push({ type: 'resync', reason: `consumer fell ${this.maxQueued} events behind` });
      return;
    }
    this.queue.push(event);
  }

  private async readLoop(): Promise<void> {
    this.reading = true;
    try {
      while (!this.closed) {
        this.drain();
        if (this.closed) break;
        await pollReadable(this.fd, this.pollSliceMs);
      }
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
    } finally {
      this.reading = false;
      this.closed = true;
      close(this.fd);
      this.wake();
    }
  }

  private drain(): void {
    const buf = sharedReceiveBuffer(); // each notification is copied out before anything else runs
    let got = false;
    while (!this.closed) {
      let n: number;
      try {
        n = recv(this.fd, buf, MSG_DONTWAIT | MSG_TRUNC);
      } catch (err) {
        if (err instanceof SyscallError && err.code === 'ENOBUFS') {
          this.push({
            type: 'resync',
            reason: 'kernel dropped notifications (receive buffer overflow, ENOBUFS)',
          });
          got = true;
          continue;
        }
        throw err;
      }
      if (n < 0) break;
      if (n > buf.length) {
        this.push({ type: 'resync', reason: `notification of ${n} bytes truncated` });
        got = true;
        continue;
      }
      for (const msg of decodeMessages(Buffer.from(buf.subarray(0, n)))) {
        const event = toEvent(msg);
        if (event) {
          this.push(event);
          got = true;
        }
      }
    }
    if (got) this.wake();
  }
}
