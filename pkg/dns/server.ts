// The node's DNS server for its containers (weaveDNS's and Docker's embedded DNS's role, cluster-wide):
// UDP and TCP on each address it is told to listen on (the gateways of the node's networks), answering the
// cluster's names from ClusterNames (authoritative, a short TTL so a removed container stops resolving at
// once), NXDOMAIN for an unknown name in the cluster domain, and everything else through the Forwarder.
// Packets are decoded and encoded by dns-packet; a malformed query gets FORMERR, never a crash.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type Question } from 'dns-packet';
import { type Logger, silentLogger } from '../log/index.ts';
import { ForwardError, type Forwarder } from './forwarder.ts';
import type { ClusterNames } from './names.ts';

export interface DnsServerOptions {
  readonly names: ClusterNames;
  readonly forwarder: Forwarder;
  /** TTL of the cluster's answers, seconds; default 1 (containers come and go). */
  readonly ttlSeconds?: number;
  readonly log?: Logger;
}

export interface DnsServerStats {
  readonly queries: number;
  readonly clusterAnswers: number;
  readonly nxdomain: number;
  readonly forwarded: number;
  readonly servfail: number;
  readonly formerr: number;
  readonly listening: string[];
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;
/** answers larger than this over UDP are cut and flagged TC (no EDNS0 buffer negotiation) */
const UDP_LIMIT = 512;
const TCP_IDLE_MS = 10_000;

interface Listener {
  readonly udp: dgram.Socket;
  readonly tcp: net.Server;
  readonly connections: Set<net.Socket>;
}

export class DnsServer {
  private readonly opts: DnsServerOptions;
  private readonly log: Logger;
  private readonly listeners = new Map<string, Listener>();
  /** listens in progress, by `address:port` */
  private readonly binding = new Map<string, Promise<void>>();
  private counters = { queries: 0, clusterAnswers: 0, nxdomain: 0, forwarded: 0, servfail: 0, formerr: 0 };

  constructor(opts: DnsServerOptions) {
    this.opts = opts;
    this.log = (opts.log ?? silentLogger).child({ component: 'dns' });
  }

  stats(): DnsServerStats {
    return { ...this.counters, listening: [...this.listeners.keys()] };
  }

  /**
   * Serves UDP and TCP on `address:port`; idempotent, also while a listen of the same address is under way
   * (an agent's start asks for every running container's gateway at once). Throws (EADDRINUSE,
   * EADDRNOTAVAIL) with the address.
   */
  listen(address: string, port = 53): Promise<void> {
    const key = `${address}:${port}`;
    if (this.listeners.has(key)) return Promise.resolve();
    const pending = this.binding.get(key);
    if (pending) return pending;
    const binding = this.bind(key, address, port).finally(() => this.binding.delete(key));
    this.binding.set(key, binding);
    return binding;
  }

  private async bind(key: string, address: string, port: number): Promise<void> {
    const udp = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4' });
    const connections = new Set<net.Socket>();
    const tcp = net.createServer((socket) => this.serveTcp(socket, connections));
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, address, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, address, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      tcp.close();
      throw new Error(`DNS cannot listen on ${key}: ${(err as Error).message}`, { cause: err });
    }
    udp.on('message', (msg, rinfo) => {
      void this.answer(msg, rinfo.address).then((reply) => {
        if (reply) udp.send(truncateForUdp(reply), rinfo.port, rinfo.address);
      });
    });
    udp.on('error', (err) => this.log.warn({ err, address: key }, 'DNS UDP socket error'));
    tcp.on('error', (err) => this.log.warn({ err, address: key }, 'DNS TCP server error'));
    this.listeners.set(key, { udp, tcp, connections });
    this.log.info({ address: key }, 'DNS listening');
  }

  async unlisten(address: string, port = 53): Promise<void> {
    const key = `${address}:${port}`;
    const l = this.listeners.get(key);
    if (!l) return;
    this.listeners.delete(key);
    l.udp.close();
    for (const c of l.connections) c.destroy();
    await new Promise<void>((resolve) => l.tcp.close(() => resolve()));
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.listeners.keys()].map((key) => {
        const i = key.lastIndexOf(':');
        return this.unlisten(key.slice(0, i), Number(key.slice(i + 1)));
      }),
    );
  }

  private serveTcp(socket: net.Socket, connections: Set<net.Socket>): void {
    connections.add(socket);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) return;
        const msg = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        void this.answer(msg, socket.remoteAddress).then((reply) => {
          if (!reply || socket.destroyed) return;
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(reply.length);
          socket.write(Buffer.concat([prefix, reply]));
        });
      }
    });
  }

  /** The encoded reply to one query from `client`, or undefined when it deserves none (not a query). */
  async answer(msg: Buffer, client: string | undefined): Promise<Buffer | undefined> {
    this.counters.queries++;
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      this.counters.formerr++;
      return msg.length >= 2 ? formerr(msg.readUInt16BE(0)) : undefined;
    }
    if (query.type !== 'query') return undefined;
    const question = query.questions?.[0];
    if (!question || (query.questions?.length ?? 0) !== 1) {
      this.counters.formerr++;
      return reply(query, RCODE.FORMERR, []);
    }
    const clientIp = client?.replace(/^::ffff:/, '');
    try {
      return await this.answerQuestion(query, question, clientIp);
    } catch (err) {
      this.counters.servfail++;
      if (!(err instanceof ForwardError)) this.log.warn({ err, name: question.name }, 'DNS answer failed');
      return reply(query, RCODE.SERVFAIL, []);
    }
  }

  private async answerQuestion(
    query: DecodedPacket,
    q: Question,
    clientIp: string | undefined,
  ): Promise<Buffer> {
    const { names } = this.opts;
    const ttl = this.opts.ttlSeconds ?? 1;
    const result =
      q.type === 'PTR' ? names.resolvePointer(q.name, clientIp) : names.resolveName(q.name, clientIp);
    switch (result.kind) {
      case 'addresses': {
        this.counters.clusterAnswers++;
        // dns-packet decodes type 255 as "ANY", which its typings leave out
        const qtype: string = q.type;
        const records: Answer[] =
          qtype === 'A' || qtype === 'ANY'
            ? result.ipv4.map((ip) => ({ type: 'A', name: q.name, ttl, class: 'IN', data: ip }))
            : [];
        if (qtype === 'AAAA' || qtype === 'ANY')
          records.push(
            ...result.ipv6.map((ip): Answer => ({ type: 'AAAA', name: q.name, ttl, class: 'IN', data: ip })),
          );
        return reply(query, RCODE.NOERROR, records, true);
      }
      case 'pointer':
        this.counters.clusterAnswers++;
        return reply(
          query,
          RCODE.NOERROR,
          result.names.map((n): Answer => ({ type: 'PTR', name: q.name, ttl, class: 'IN', data: n })),
          true,
        );
      case 'nxdomain':
        this.counters.nxdomain++;
        return reply(query, RCODE.NXDOMAIN, [], true);
      case 'forward': {
        this.counters.forwarded++;
        const upstream = await this.opts.forwarder.resolve(q, { recursionDesired: query.flag_rd });
        const packet: Packet = {
          type: 'response',
          id: query.id ?? 0,
          // the upstream's flags and rcode, with the client's RD and our RA
          flags:
            ((upstream.flags ?? 0) & ~(dnsPacket.RECURSION_DESIRED | dnsPacket.TRUNCATED_RESPONSE)) |
            (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) |
            dnsPacket.RECURSION_AVAILABLE,
          questions: [q],
          answers: upstream.answers ?? [],
          authorities: upstream.authorities ?? [],
          additionals: (upstream.additionals ?? []).filter((r) => r.type !== 'OPT'),
        };
        return dnsPacket.encode(packet);
      }
    }
  }
}

function reply(query: DecodedPacket, rcode: number, answers: Answer[], authoritative = false): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: query.id ?? 0,
    flags:
      rcode |
      dnsPacket.RECURSION_AVAILABLE |
      (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) |
      (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0),
    questions: query.questions ?? [],
    answers,
  });
}

function formerr(id: number): Buffer {
  return dnsPacket.encode({ type: 'response', id, flags: RCODE.FORMERR, questions: [], answers: [] });
}

/** A reply too big for UDP goes out as its header and question with TC set: the client retries over TCP. */
function truncateForUdp(reply: Buffer): Buffer {
  if (reply.length <= UDP_LIMIT) return reply;
  const decoded = dnsPacket.decode(reply);
  return dnsPacket.encode({
    type: 'response',
    id: decoded.id ?? 0,
    flags: (decoded.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
    questions: decoded.questions ?? [],
    answers: [],
  });
}
