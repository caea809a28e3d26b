// A tiny authoritative DNS server for tests: the "upstream resolver" an agent forwards external names to. It
// runs as its own process inside a test namespace (nsenter --net), on UDP and TCP port 53 of one address,
// answers A for every name under its zones (`*.ZONE` and ZONE itself) with the zone's address, NXDOMAIN for
// anything else, and prints one line per question on stdout (`q NAME TYPE`), so a test can count what reached
// it (a cached name is not asked again). Encoded with dns-packet, like the product's server.
//
//   node --import=tsx test/helpers/dns-responder.ts ADDRESS ZONE=IP [ZONE=IP...]
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import dnsPacket, { type Packet } from 'dns-packet';

/** Seconds the responder's answers may be cached for: long enough that a repeated question stays cached. */
export const RESPONDER_TTL = 300;

function answer(query: Packet, zones: ReadonlyMap<string, string>): Buffer {
  const q = query.questions?.[0];
  const name = (q?.name ?? '').toLowerCase().replace(/\.$/, '');
  const zone = [...zones.keys()].find((z) => name === z || name.endsWith(`.${z}`));
  const address = zone === undefined ? undefined : zones.get(zone);
  return dnsPacket.encode({
    type: 'response',
    id: query.id ?? 0,
    // authoritative answer, recursion desired echoed; NXDOMAIN (3) outside the zones
    flags:
      dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | (zone ? 0 : 3),
    questions: query.questions ?? [],
    answers:
      address && q?.type === 'A' ? [{ type: 'A', name: q.name, ttl: RESPONDER_TTL, data: address }] : [],
  });
}

function serve(address: string, zones: Map<string, string>): void {
  const handle = (msg: Buffer): Buffer | undefined => {
    let query: Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return undefined;
    }
    for (const q of query.questions ?? []) process.stdout.write(`q ${q.name.toLowerCase()} ${q.type}\n`);
    return answer(query, zones);
  };
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    const reply = handle(msg);
    if (reply) udp.send(reply, rinfo.port, rinfo.address);
  });
  const tcp = net.createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const reply = handle(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
        if (reply) socket.write(Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 255]), reply]));
      }
    });
    socket.on('error', () => socket.destroy());
  });
  udp.bind(53, address, () => tcp.listen(53, address, () => process.stdout.write('ready\n')));
}

export interface DnsResponder {
  /** The questions it was asked so far, `NAME TYPE` (lower-case names, no trailing dot). */
  questions(): string[];
  stop(): Promise<void>;
}

/** Starts the responder inside `netnsPath` on `address`:53; resolves once it listens. */
export async function startDnsResponder(
  netnsPath: string,
  address: string,
  zones: Readonly<Record<string, string>>,
): Promise<DnsResponder> {
  const child: ChildProcess = spawn(
    'nsenter',
    [
      `--net=${netnsPath}`,
      process.execPath,
      '--import=tsx',
      import.meta.filename,
      address,
      ...Object.entries(zones).map(([z, ip]) => `${z}=${ip}`),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const questions: string[] = [];
  let pending = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`dns responder exited (${code ?? signal})`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'ready') resolve();
        else if (line.startsWith('q ')) questions.push(line.slice(2));
      }
    });
  });
  return {
    questions: () => [...questions],
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [address, ...specs] = process.argv.slice(2);
  if (!address || !net.isIPv4(address)) throw new Error('usage: dns-responder.ts ADDRESS ZONE=IP...');
  const zones = new Map(
    specs.map((s) => {
      const [zone = '', ip = ''] = s.split('=');
      return [zone.toLowerCase().replace(/\.$/, ''), ip] as const;
    }),
  );
  serve(address, zones);
}
