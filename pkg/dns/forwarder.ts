// Questions that are not the cluster's go to the node's upstream resolvers: over UDP with a fresh random ID
// per attempt (matched on ID and question, so a stray or spoofed answer is dropped), the next upstream on a
// timeout, TCP when the answer is truncated. Identical questions in flight share one upstream query, and
// answers are kept in a small cache for their TTL (negative answers for the SOA minimum, capped), so a
// container's repeated lookups stay on the node. Packets are encoded by dns-packet.
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net, { isIPv6 } from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Packet, type Question } from 'dns-packet';

export interface Upstream {
  readonly address: string;
  readonly port: number;
}

export interface ForwarderOptions {
  readonly upstreams: readonly Upstream[];
  /** per upstream attempt; default 2 s */
  readonly timeoutMs?: number;
  /** entries; default 2000 */
  readonly cacheSize?: number;
  /** longest time an answer is kept, seconds; default 300 */
  readonly maxTtlSeconds?: number;
  /** how long NXDOMAIN/NODATA is kept without an SOA, seconds; default 30 */
  readonly negativeTtlSeconds?: number;
  /** the clock, for tests of expiry */
  readonly now?: () => number;
}

export interface ForwarderStats {
  readonly queries: number;
  readonly cacheHits: number;
  readonly upstreamQueries: number;
  readonly failures: number;
  readonly cached: number;
}

interface CacheEntry {
  readonly answer: DecodedPacket;
  readonly storedAt: number;
  readonly expiresAt: number;
}

export class ForwardError extends Error {
  override name = 'ForwardError';
}

const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;

function questionKey(q: Question): string {
  return `${q.name.toLowerCase().replace(/\.$/, '')}|${q.type}|${q.class ?? 'IN'}`;
}

function rcodeOf(p: DecodedPacket): number {
  return (p.flags ?? 0) & 0xf;
}

export class Forwarder {
  private readonly opts: ForwarderOptions;
  private readonly now: () => number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<DecodedPacket>>();
  private counters = { queries: 0, cacheHits: 0, upstreamQueries: 0, failures: 0 };

  constructor(opts: ForwarderOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  stats(): ForwarderStats {
    return { ...this.counters, cached: this.cache.size };
  }

  /**
   * The upstream's answer to `question` (from the cache when fresh), with TTLs aged by the time it was
   * kept. Throws ForwardError when no upstream answers.
   */
  async resolve(question: Question, options: { recursionDesired: boolean }): Promise<DecodedPacket> {
    this.counters.queries++;
    const key = questionKey(question);
    const hit = this.cache.get(key);
    const now = this.now();
    if (hit && hit.expiresAt > now) {
      this.counters.cacheHits++;
      // refresh its place: the map's order is the eviction order (least recently used first)
      this.cache.delete(key);
      this.cache.set(key, hit);
      return aged(hit.answer, Math.floor((now - hit.storedAt) / 1000));
    }
    if (hit) this.cache.delete(key);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const query = this.ask(question, options.recursionDesired).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, query);
    const answer = await query;
    this.store(key, answer);
    return answer;
  }

  private store(key: string, answer: DecodedPacket): void {
    const rcode = rcodeOf(answer);
    if (rcode !== 0 && rcode !== RCODE_NXDOMAIN) return;
    const ttl = cacheTtl(answer, this.opts.maxTtlSeconds ?? 300, this.opts.negativeTtlSeconds ?? 30);
    if (ttl <= 0) return;
    const now = this.now();
    this.cache.set(key, { answer, storedAt: now, expiresAt: now + ttl * 1000 });
    const max = this.opts.cacheSize ?? 2000;
    while (this.cache.size > max) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }

  private async ask(question: Question, recursionDesired: boolean): Promise<DecodedPacket> {
    const errors: string[] = [];
    for (const upstream of this.opts.upstreams) {
      this.counters.upstreamQueries++;
      try {
        const packet: Packet = {
          type: 'query',
          id: randomInt(0, 65536),
          flags: recursionDesired ? dnsPacket.RECURSION_DESIRED : 0,
          questions: [question],
        };
        let answer = await this.udp(upstream, packet);
        if (answer.flag_tc) answer = await this.tcp(upstream, packet);
        if (rcodeOf(answer) === RCODE_SERVFAIL) {
          errors.push(`${upstream.address}: SERVFAIL`);
          continue;
        }
        return answer;
      } catch (err) {
        errors.push(`${upstream.address}: ${(err as Error).message}`);
      }
    }
    this.counters.failures++;
    throw new ForwardError(
      this.opts.upstreams.length
        ? `no upstream answered ${question.name} ${question.type}: ${errors.join('; ')}`
        : 'no upstream resolver configured',
    );
  }

  private udp(upstream: Upstream, packet: Packet): Promise<DecodedPacket> {
    const timeoutMs = this.opts.timeoutMs ?? 2000;
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket(isIPv6(upstream.address) ? 'udp6' : 'udp4');
      const done = (err: Error | undefined, answer?: DecodedPacket): void => {
        clearTimeout(timer);
        socket.close();
        if (err) reject(err);
        else resolve(answer as DecodedPacket);
      };
      const timer = setTimeout(() => done(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      socket.on('error', (err) => done(err));
      socket.on('message', (msg) => {
        const answer = matching(msg, packet);
        if (answer) done(undefined, answer);
      });
      socket.send(dnsPacket.encode(packet), upstream.port, upstream.address);
    });
  }

  private tcp(upstream: Upstream, packet: Packet): Promise<DecodedPacket> {
    const timeoutMs = this.opts.timeoutMs ?? 2000;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: upstream.address, port: upstream.port });
      let buffered = Buffer.alloc(0);
      const done = (err: Error | undefined, answer?: DecodedPacket): void => {
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(answer as DecodedPacket);
      };
      const timer = setTimeout(() => done(new Error(`no TCP answer in ${timeoutMs} ms`)), timeoutMs);
      socket.on('error', (err) => done(err));
      socket.on('connect', () => socket.write(dnsPacket.streamEncode(packet)));
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2) {
          const length = buffered.readUInt16BE(0);
          if (buffered.length < 2 + length) return;
          const answer = matching(buffered.subarray(2, 2 + length), packet);
          buffered = buffered.subarray(2 + length);
          if (answer) return done(undefined, answer);
        }
      });
    });
  }
}

/** The decoded answer when `msg` answers `query` (same ID and question), else undefined. */
function matching(msg: Buffer, query: Packet): DecodedPacket | undefined {
  let answer: DecodedPacket;
  try {
    answer = dnsPacket.decode(msg);
  } catch {
    return undefined;
  }
  const q = query.questions?.[0];
  const a = answer.questions?.[0];
  if (answer.type !== 'response' || answer.id !== query.id || !q || !a) return undefined;
  return questionKey(q) === questionKey(a) ? answer : undefined;
}

function ttlsOf(list: Answer[] | undefined): number[] {
  return (list ?? []).flatMap((r) => (r.type !== 'OPT' && typeof r.ttl === 'number' ? [r.ttl] : []));
}

function cacheTtl(answer: DecodedPacket, max: number, negative: number): number {
  const isNegative = rcodeOf(answer) === RCODE_NXDOMAIN || (answer.answers ?? []).length === 0;
  if (isNegative) {
    const soa = (answer.authorities ?? []).find((r) => r.type === 'SOA');
    const soaMin =
      soa && soa.type === 'SOA' && typeof soa.ttl === 'number'
        ? Math.min(soa.ttl, (soa.data as { minimum: number }).minimum)
        : negative;
    return Math.min(soaMin, negative, max);
  }
  const ttls = ttlsOf(answer.answers);
  return Math.min(max, ...ttls);
}

/** A copy of `answer` with every TTL lowered by `seconds` (a cached answer must not outlive its source). */
function aged(answer: DecodedPacket, seconds: number): DecodedPacket {
  if (seconds <= 0) return answer;
  const age = (list: Answer[] | undefined): Answer[] =>
    (list ?? []).map((r) =>
      r.type !== 'OPT' && typeof r.ttl === 'number'
        ? ({ ...r, ttl: Math.max(0, r.ttl - seconds) } as Answer)
        : r,
    );
  return {
    ...answer,
    answers: age(answer.answers),
    authorities: age(answer.authorities),
    additionals: age(answer.additionals),
  };
}
