// Throwaway namespaces for the nft tests, and nft/iproute2 run through nsenter as the independent oracle.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { createNamedNetns, deleteNamedNetns, writeSysctl } from '../../pkg/netns/index.ts';

const execFileAsync = promisify(execFile);

export interface Ns {
  readonly name: string;
  readonly path: string;
}

/** Creates namespaces named `tsnt-nft-<tag>-<rand>`, runs `fn`, deletes them even when `fn` fails. */
export async function withNamespaces<T>(tags: readonly string[], fn: (ns: Ns[]) => Promise<T>): Promise<T> {
  const suffix = randomBytes(3).toString('hex');
  const made: Ns[] = [];
  try {
    for (const tag of tags) {
      const name = `tsnt-nft-${tag}-${suffix}`;
      made.push({ name, path: createNamedNetns(name) });
    }
    return await fn(made);
  } finally {
    for (const ns of made) deleteNamedNetns(ns.name);
  }
}

export function inNs(ns: Ns, cmd: string, ...args: string[]): string {
  return execFileSync('nsenter', [`--net=${ns.path}`, cmd, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

type NftListed = Record<string, Record<string, unknown>>;

/** `nft -j list ruleset` in the namespace, without the metainfo object. */
export function nftRuleset(ns: Ns): NftListed[] {
  // Absolute path: under npx, node_modules/.bin holds an unrelated `nft` (@vercel/nft).
  const text = inNs(ns, '/usr/sbin/nft', '-j', 'list', 'ruleset').trim();
  if (text === '') return [];
  const out = JSON.parse(text) as { nftables: NftListed[] };
  return out.nftables.filter((o) => !('metainfo' in o));
}

/** Comments of the elements of one set or map, as nft lists them. */
export function elementComments(ruleset: NftListed[], setName: string): string[] {
  const def = ruleset.map((o) => o.set ?? o.map).find((s) => s?.name === setName);
  const elems = (def?.elem as unknown[] | undefined) ?? [];
  return elems.map((item) => {
    const key = Array.isArray(item) ? item[0] : item;
    return String((key as { elem?: { comment?: string } }).elem?.comment ?? '');
  });
}

export function ruleCount(ruleset: NftListed[]): number {
  return ruleset.filter((o) => o.rule).length;
}

const TCP_SERVER = `
const net = require('node:net');
const [port, reply] = process.argv.slice(1);
const server = net.createServer((s) => { s.end(reply + ' ' + s.remoteAddress + '\\n'); });
server.listen({ port: Number(port), host: '::' }, () => console.log('ready'));
`;

export interface TcpServer {
  stop(): Promise<void>;
}

/** A TCP server in the namespace answering every connection with `reply <client address>`, then closing. */
export async function startTcpServer(ns: Ns, port: number, reply: string): Promise<TcpServer> {
  const child = spawn(
    'nsenter',
    [`--net=${ns.path}`, process.execPath, '-e', TCP_SERVER, String(port), reply],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`tcp server in ${ns.name} exited with ${code}`)));
  });
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

const TCP_CLIENT = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const s = net.connect({ host, port: Number(port) });
let data = '';
s.setTimeout(3000, () => { console.error('timeout'); process.exit(2); });
s.on('data', (d) => { data += d; });
s.on('end', () => { process.stdout.write(data); process.exit(0); });
s.on('error', (e) => { console.error(e.code); process.exit(1); });
`;

/** Connects from the namespace; resolves with the server's answer, or an error code ('ECONNREFUSED', ...). */
export async function tcpRequest(ns: Ns, host: string, port: number): Promise<{ ok: boolean; text: string }> {
  try {
    const { stdout } = await execFileAsync('nsenter', [
      `--net=${ns.path}`,
      process.execPath,
      '-e',
      TCP_CLIENT,
      host,
      String(port),
    ]);
    return { ok: true, text: stdout.trim() };
  } catch (err) {
    return { ok: false, text: String((err as { stderr?: string }).stderr ?? err).trim() };
  }
}

// A tiny world: namespace "node" joined to "ctr" (pod range 10.99.1.0/24, fd99:1::/64) and to "client"
// (underlay 198.18.0.0/24, fd99:18::/64) by veth pairs; the node forwards.
export const IP = '/usr/sbin/ip';
export const NODE_UNDERLAY = '198.18.0.1';
export const CLIENT_UNDERLAY = '198.18.0.2';
export const NODE_UNDERLAY6 = 'fd99:18::1';
export const CTR_IP = '10.99.1.2';
export const CTR_IP6 = 'fd99:1::2';

function buildWorld(node: Ns, ctr: Ns, client: Ns): void {
  inNs(node, IP, 'link', 'add', 'vctr', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ctr.name);
  inNs(node, IP, 'link', 'add', 'vcli', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name);
  const up = (ns: Ns, dev: string, ...addrs: string[]) => {
    for (const a of addrs) inNs(ns, IP, 'addr', 'add', a, 'dev', dev, ...(a.includes(':') ? ['nodad'] : []));
    inNs(ns, IP, 'link', 'set', dev, 'up');
  };
  for (const ns of [node, ctr, client]) inNs(ns, IP, 'link', 'set', 'lo', 'up');
  up(node, 'vctr', '10.99.1.1/24', 'fd99:1::1/64');
  up(node, 'vcli', `${NODE_UNDERLAY}/24`, `${NODE_UNDERLAY6}/64`);
  up(ctr, 'eth0', `${CTR_IP}/24`, `${CTR_IP6}/64`);
  up(client, 'eth0', `${CLIENT_UNDERLAY}/24`, 'fd99:18::2/64');
  inNs(ctr, IP, 'route', 'add', 'default', 'via', '10.99.1.1');
  inNs(ctr, IP, '-6', 'route', 'add', 'default', 'via', 'fd99:1::1');
  writeSysctl(node.path, 'net.ipv4.ip_forward', '1');
  writeSysctl(node.path, 'net.ipv6.conf.all.forwarding', '1');
}

export async function inWorld(
  tag: string,
  fn: (node: Ns, ctr: Ns, client: Ns) => Promise<void>,
): Promise<void> {
  await withNamespaces([`${tag}n`, `${tag}c`, `${tag}x`], async ([node, ctr, client]) => {
    if (!node || !ctr || !client) throw new Error('namespaces missing');
    buildWorld(node, ctr, client);
    await fn(node, ctr, client);
  });
}
