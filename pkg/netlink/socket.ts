// A NETLINK_ROUTE socket: request/ack with sequence numbers, multipart dumps, several requests in flight,
// and kernel errors surfaced with the errno name and the request that caused them.
//
// rtnetlink handles a request synchronously inside sendmsg(), so its reply is already queued when sendto()
// returns; dumps produce their next part on each recv(). Replies are therefore drained without blocking
// (MSG_DONTWAIT) right after each send, and only an empty queue with requests still pending falls back to
// polling on a worker thread. Link creation and deletion, which the kernel performs inside sendmsg() and which
// can take milliseconds (a veth pair, an unregistering device), are sent from a worker thread; every later
// request on the socket waits for such a send, so the kernel still sees requests in the order they were made.
// The event loop never blocks.
import {
  AF_NETLINK,
  bind,
  close,
  errnoName,
  getsockname,
  MSG_DONTWAIT,
  MSG_TRUNC,
  NETLINK_EXT_ACK,
  pollReadable,
  recv,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_NETLINK,
  type SyscallError,
  sendto,
  sendtoOffThread,
  setsockoptInt,
  socket,
} from '../../native/libc.ts';
import { withNetns } from '../netns/index.ts';
import {
  attrsByType,
  decodeAttrs,
  decodeMessages,
  encodeMessage,
  type NlMessage,
  readCString,
} from './codec.ts';
import { NETLINK_ROUTE, NLMSGERR_ATTR_MSG, NlMsgType, NlmFlags, RtmType } from './constants.ts';

const RECV_BUFFER_BYTES = 1 << 20;
const POLL_SLICE_MS = 200;
/** Requests whose kernel side is slow enough to keep off the event loop. */
const OFF_THREAD_TYPES: ReadonlySet<number> = new Set([RtmType.NEWLINK, RtmType.DELLINK]);
/**
 * Messages per sendmsg of a batch. The kernel queues one ack per message on our socket during the send; at a
 * few hundred bytes of buffer accounting each, a larger batch could overflow the default receive buffer
 * (ENOBUFS: acks lost). The acks of one send are read before the next.
 */
const BATCH_MESSAGES = 64;

/** A kernel rejection of one request: errno name, the operation and what it was about. */
export class NetlinkError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly operation: string;
  readonly kernelMessage: string | undefined;
  constructor(errno: number, operation: string, kernelMessage?: string) {
    const code = errnoName(errno);
    super(`netlink ${operation}: ${code}${kernelMessage ? ` (${kernelMessage})` : ''}`);
    this.name = 'NetlinkError';
    this.code = code;
    this.errno = errno;
    this.operation = operation;
    this.kernelMessage = kernelMessage;
  }
}

export interface NetlinkRequest {
  readonly type: number;
  /** Flags besides REQUEST (and ACK, which `request` adds for non-dump requests). */
  readonly flags: number;
  readonly payload: Buffer;
  /** Describes the request in errors, e.g. `add link veth0 (veth)`. */
  readonly describe: string;
}

interface Pending {
  readonly dump: boolean;
  readonly describe: string;
  readonly replies: NlMessage[];
  readonly resolve: (replies: NlMessage[]) => void;
  readonly reject: (err: Error) => void;
}

/**
 * Where every netlink socket of the process receives (event streams too): a reply is copied out of it before anything else runs, so one
 * buffer serves them all. One per socket was a megabyte of external memory for each short-lived namespace
 * handle (two per CNI ADD), and V8 answers that much external allocation with full garbage collections.
 * Not zero-filled: only the pages replies land in are touched; only the bytes received are read.
 */
let receiveBuffer: Buffer | undefined;

export function sharedReceiveBuffer(): Buffer {
  receiveBuffer ??= Buffer.allocUnsafeSlow(RECV_BUFFER_BYTES);
  return receiveBuffer;
}

function sockaddrNl(groups = 0): Buffer {
  const addr = Buffer.alloc(12);
  addr.writeUInt16LE(AF_NETLINK, 0);
  addr.writeUInt32LE(groups >>> 0, 8);
  return addr;
}

/** Opens a raw NETLINK_ROUTE socket in the namespace at `netnsPath` (current one when omitted). */
export function openRouteSocket(netnsPath?: string, groups = 0): number {
  const open = (): number => {
    const fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    try {
      bind(fd, sockaddrNl(groups));
    } catch (err) {
      close(fd);
      throw err;
    }
    return fd;
  };
  return netnsPath ? withNetns(netnsPath, open) : open();
}

export class NetlinkSocket {
  readonly fd: number;
  readonly portId: number;
  private seq: number;
  private readonly pending = new Map<number, Pending>();
  private polling = false;
  private closed = false;
  /** The last queued send while one runs off the event loop; later sends chain behind it, in order. */
  private sendQueue: Promise<void> | undefined;
  private sendingOffThread = false;
  private fdClosed = false;
  /** While batching: the encoded requests not sent yet, with their sequence numbers. */
  private corked: { seq: number; message: Buffer }[] | undefined;

  private constructor(fd: number) {
    this.fd = fd;
    this.portId = getsockname(fd, 12).readUInt32LE(4);
    this.seq = Math.floor(Math.random() * 0x7fffffff);
    try {
      // Extended ACKs give the kernel's own explanation ("Unknown device type", ...) in errors.
      setsockoptInt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
    } catch {
      // older kernels: errors still carry the errno
    }
  }

  /** A socket bound to the namespace at `netnsPath` for its whole life (current namespace when omitted). */
  static open(netnsPath?: string): NetlinkSocket {
    return new NetlinkSocket(openRouteSocket(netnsPath));
  }

  /** Sends one request; resolves with the replies (a dump's messages, or [] for an acked change). */
  request(req: NetlinkRequest): Promise<NlMessage[]> {
    if (this.closed) return Promise.reject(new Error(`netlink ${req.describe}: socket closed`));
    const dump = (req.flags & NlmFlags.DUMP) === NlmFlags.DUMP;
    const seq = this.nextSeq();
    const flags = NlmFlags.REQUEST | req.flags | (dump ? 0 : NlmFlags.ACK);
    const promise = new Promise<NlMessage[]>((resolve, reject) => {
      this.pending.set(seq, { dump, describe: req.describe, replies: [], resolve, reject });
    });
    const message = encodeMessage({ type: req.type, flags, seq, pid: 0, payload: req.payload });
    if (this.corked && !dump) {
      this.corked.push({ seq, message });
      return promise;
    }
    const offThread = OFF_THREAD_TYPES.has(req.type);
    if (!offThread && this.sendQueue === undefined) {
      this.sendNow([{ seq, message }]);
      return promise;
    }
    this.enqueue(async () => {
      if (this.closed || !this.pending.has(seq)) return; // closed meanwhile: already rejected
      if (!offThread) return this.sendNow([{ seq, message }]);
      this.sendingOffThread = true;
      let sent: number;
      try {
        sent = await sendtoOffThread(this.fd, message, 0, sockaddrNl());
      } finally {
        this.sendingOffThread = false;
        this.closeFdIfIdle();
      }
      if (this.closed) return;
      if (sent >= 0) this.drain();
      else this.sendNow([{ seq, message }]); // it failed: again on this thread, for its errno
    }, [seq]);
    return promise;
  }

  /** Runs `send` after the sends queued before it; an unexpected failure rejects the requests `seqs`. */
  private enqueue(send: () => Promise<void>, seqs: readonly number[]): void {
    // Never rejects, so the requests queued behind it still go.
    const queued = (this.sendQueue ?? Promise.resolve()).then(send).catch((err: unknown) => {
      for (const seq of seqs) this.reject(seq, err);
    });
    this.sendQueue = queued;
    void queued.then(() => {
      if (this.sendQueue === queued) this.sendQueue = undefined;
    });
  }

  /**
   * Runs `queue`, which makes requests without awaiting them, and sends its change requests together: many
   * messages per sendmsg, their acks read in one pass after each. The kernel handles the messages of one send
   * in order, each on its own (one refused does not stop the next), so every request still settles with its
   * own ack or error. Dumps are sent at once, as outside a batch.
   */
  batch<T>(queue: () => T): T {
    if (this.corked) return queue(); // nested: the outer batch sends
    this.corked = [];
    try {
      return queue();
    } finally {
      const queued = this.corked;
      this.corked = undefined;
      const sendAll = () => {
        for (let i = 0; i < queued.length && !this.closed; i += BATCH_MESSAGES) {
          // the acks of a send are queued by the time sendmsg returns: between sends, read them without
          // waiting on a poll for the requests of the sends still to come
          const last = i + BATCH_MESSAGES >= queued.length;
          this.sendNow(queued.slice(i, i + BATCH_MESSAGES), last);
        }
      };
      if (this.sendQueue === undefined) sendAll();
      else
        this.enqueue(
          async () => sendAll(),
          queued.map((q) => q.seq),
        );
    }
  }

  /**
   * One sendmsg of `messages` on the event loop, then their replies; a failed send rejects each of them.
   * `waitForReplies` false: only the replies already queued are read (more messages of a batch follow).
   */
  private sendNow(messages: readonly { seq: number; message: Buffer }[], waitForReplies = true): void {
    try {
      sendto(
        this.fd,
        messages.length === 1
          ? (messages[0]?.message ?? Buffer.alloc(0))
          : Buffer.concat(messages.map((m) => m.message)),
        0,
        sockaddrNl(),
      );
    } catch (err) {
      for (const { seq } of messages) this.reject(seq, err);
      return;
    }
    this.drain(waitForReplies);
  }

  private reject(seq: number, err: unknown): void {
    const p = this.pending.get(seq);
    if (!p) return;
    this.pending.delete(seq);
    const e = err as SyscallError;
    p.reject(new NetlinkError(e.errno ?? 0, p.describe, e.message));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new Error(`netlink ${p.describe}: socket closed`));
    this.pending.clear();
    this.closeFdIfIdle();
  }

  /** After close(): a poll or a send on a worker thread may still use the fd; the last one to finish closes it. */
  private closeFdIfIdle(): void {
    if (this.closed && !this.polling && !this.sendingOffThread && !this.fdClosed) {
      this.fdClosed = true;
      close(this.fd);
    }
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0 || 1;
    return this.seq;
  }

  /** Reads the replies that are there; with requests still pending, waits for more unless told not to. */
  private drain(waitForMore = true): void {
    const buf = sharedReceiveBuffer();
    while (this.pending.size > 0 && !this.closed) {
      let n: number;
      try {
        n = recv(this.fd, buf, MSG_DONTWAIT | MSG_TRUNC);
      } catch (err) {
        this.failAll(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (n < 0) {
        if (waitForMore) this.waitReadable();
        return;
      }
      if (n > buf.length) {
        this.failAll(new Error(`netlink reply of ${n} bytes exceeds the ${buf.length}-byte receive buffer`));
        return;
      }
      // Copy: replies outlive the receive buffer, which the next recv overwrites.
      for (const msg of decodeMessages(Buffer.from(buf.subarray(0, n)))) this.dispatch(msg);
    }
  }

  private waitReadable(): void {
    if (this.polling) return;
    this.polling = true;
    pollReadable(this.fd, POLL_SLICE_MS).then(
      () => {
        this.polling = false;
        if (this.closed) this.closeFdIfIdle();
        else this.drain();
      },
      (err: unknown) => {
        this.polling = false;
        this.closeFdIfIdle();
        this.failAll(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(new Error(`netlink ${p.describe}: ${err.message}`));
    this.pending.clear();
  }

  private dispatch(msg: NlMessage): void {
    const p = this.pending.get(msg.seq);
    if (!p || msg.pid !== this.portId) return; // not ours (a late reply of a failed request)
    if (msg.type === NlMsgType.ERROR) {
      const errno = -msg.payload.readInt32LE(0);
      this.pending.delete(msg.seq);
      if (errno === 0) p.resolve(p.replies);
      else p.reject(new NetlinkError(errno, p.describe, extAckMessage(msg)));
      return;
    }
    if (msg.type === NlMsgType.DONE) {
      this.pending.delete(msg.seq);
      const errno = msg.payload.length >= 4 ? -msg.payload.readInt32LE(0) : 0;
      if (errno > 0) p.reject(new NetlinkError(errno, p.describe, extAckMessage(msg)));
      else if (
        (msg.flags & NlmFlags.DUMP_INTR) !== 0 ||
        p.replies.some((r) => (r.flags & NlmFlags.DUMP_INTR) !== 0)
      ) {
        p.reject(new NetlinkError(4 /* EINTR */, p.describe, 'dump interrupted by a concurrent change'));
      } else p.resolve(p.replies);
      return;
    }
    p.replies.push(msg);
  }
}

function extAckMessage(msg: NlMessage): string | undefined {
  if ((msg.flags & NlmFlags.ACK_TLVS) === 0) return undefined;
  // NLMSG_DONE: the TLVs follow the error code. NLMSG_ERROR (struct nlmsgerr): error (4) + the offending
  // request's header (16), or the whole request unless CAPPED.
  const skip =
    msg.type === NlMsgType.DONE
      ? 4
      : 4 + ((msg.flags & NlmFlags.CAPPED) !== 0 ? 16 : msg.payload.readUInt32LE(4));
  const tlvs = attrsByType(decodeAttrs(msg.payload.subarray(skip)));
  const text = tlvs.get(NLMSGERR_ATTR_MSG);
  return text ? readCString(text.data) : undefined;
}
