// The DNS benchmark's client, run inside a container's network namespace (nsenter --net=/proc/PID/ns/net) so
// its queries take a container's path to the node's DNS server. Encoded with dns-packet.
//
//   dns-client.ts load SERVER NAME|@unique:ZONE COUNT CONCURRENCY   -> one JSON line {qps, p50, p99, errors}
//   dns-client.ts probe SERVER                                      -> reads names on stdin; for each, asks
//       every 2 ms until it has an A answer (a line `NAME` or `+NAME`) or until it is NXDOMAIN (`-NAME`), then
//       prints `NAME EPOCH_MS` (the wall clock, to compare with a container's StartedAt or with rm's return)
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import dnsPacket from 'dns-packet';

const NXDOMAIN = 3;

interface Reply {
  rcode: number;
  answers: number;
}

/** One UDP socket; replies matched by ID. */
class Client {
  private readonly socket = dgram.createSocket('udp4');
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private nextId = 1;

  constructor(private readonly server: string) {
    this.socket.on('message', (msg) => {
      const p = dnsPacket.decode(msg);
      const done = this.waiting.get(p.id ?? -1);
      if (!done) return;
      this.waiting.delete(p.id ?? -1);
      done({ rcode: (p.flags ?? 0) & 0xf, answers: (p.answers ?? []).filter((a) => a.type === 'A').length });
    });
  }

  ask(name: string, timeoutMs = 2000): Promise<Reply | undefined> {
    const id = this.nextId;
    this.nextId = (this.nextId % 65535) + 1;
    const query = dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name }],
    });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.socket.send(query, 53, this.server);
    });
  }

  close(): void {
    this.socket.close();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function load(server: string, target: string, count: number, concurrency: number): Promise<void> {
  const client = new Client(server);
  const unique = target.startsWith('@unique:') ? target.slice('@unique:'.length) : undefined;
  const tag = randomBytes(3).toString('hex');
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (issued < count) {
      const n = issued++;
      const name = unique ? `q${n}-${tag}.${unique}` : target;
      const t0 = performance.now();
      const r = await client.ask(name);
      if (r?.rcode !== 0 || r.answers === 0) errors++;
      else latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  client.close();
  latencies.sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify({ qps: count / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors })}\n`,
  );
}

async function probe(server: string): Promise<void> {
  const client = new Client(server);
  for await (const line of createInterface({ input: process.stdin })) {
    const request = line.trim();
    if (!request) continue;
    const untilGone = request.startsWith('-');
    const name = request.replace(/^[-+]/, '');
    for (;;) {
      const r = await client.ask(name, 500);
      if (untilGone ? r?.rcode === NXDOMAIN : r?.rcode === 0 && r.answers > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    process.stdout.write(`${name} ${performance.timeOrigin + performance.now()}\n`);
  }
  client.close();
}

const [mode, server = '', target = '', count = '0', concurrency = '1'] = process.argv.slice(2);
if (mode === 'load') await load(server, target, Number(count), Number(concurrency));
else if (mode === 'probe') await probe(server);
else throw new Error('usage: dns-client.ts load SERVER NAME COUNT CONCURRENCY | probe SERVER');
