// npm run bench:netlink — measures our rtnetlink client against the `ip` command on this machine, inside
// throwaway namespaces: link dump time, veth create+delete per second, route add per second.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Handle } from '../../pkg/netlink/handle.ts';
import { createNamedNetns, deleteNamedNetns } from '../../pkg/netns/index.ts';
import { uniqueName } from '../helpers/netns.ts';

const LINKS_IN_DUMP = 500;
const VETH_PAIRS = 300;
const ROUTES = 2000;
const IP_VETH_PAIRS = 100;
const IP_ROUTES = 300;

function ip(ns: string, ...args: string[]): void {
  execFileSync('nsenter', [`--net=${ns}`, 'ip', ...args], { stdio: 'ignore' });
}

async function time<T>(fn: () => Promise<T> | T): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function main(): Promise<void> {
  const name = uniqueName('bench');
  const ns = createNamedNetns(name);
  const h = Handle.open(ns);
  try {
    // Link dump over LINKS_IN_DUMP links.
    for (let i = 0; i < LINKS_IN_DUMP; i++) await h.linkAdd({ kind: 'bridge', name: `d${i}` });
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < 10; i++) {
      ours.push(await time(() => h.linkList()));
      theirs.push(
        await time(() =>
          execFileSync('nsenter', [`--net=${ns}`, 'ip', '-d', '-j', 'link', 'show'], { maxBuffer: 64 << 20 }),
        ),
      );
    }
    for (let i = 0; i < LINKS_IN_DUMP; i++) await h.linkDelByName(`d${i}`);

    // veth create + delete.
    const vethOurs = await time(async () => {
      for (let i = 0; i < VETH_PAIRS; i++) {
        await h.linkAdd({ kind: 'veth', name: `va${i}`, peer: { name: `vb${i}` } });
        await h.linkDelByName(`va${i}`);
      }
    });
    const vethIp = await time(() => {
      for (let i = 0; i < IP_VETH_PAIRS; i++) {
        ip(ns, 'link', 'add', `va${i}`, 'type', 'veth', 'peer', 'name', `vb${i}`);
        ip(ns, 'link', 'del', `va${i}`);
      }
    });

    // Route add on one device.
    await h.linkAdd({ kind: 'bridge', name: 'rt0', up: true });
    const rt = await h.linkGet('rt0');
    const routeOurs = await time(async () => {
      for (let i = 0; i < ROUTES; i++) {
        await h.routeAdd({ dst: `10.${(i >> 8) & 255}.${i & 255}.0/24`, oif: rt.index });
      }
    });
    const routeIp = await time(() => {
      for (let i = 0; i < IP_ROUTES; i++)
        ip(ns, 'route', 'add', `10.200.${i & 255}.${(i >> 8) * 16}/28`, 'dev', 'rt0');
    });

    const rows: [string, string, string, string][] = [
      [
        'link dump',
        `${LINKS_IN_DUMP + 1} links`,
        `${median(ours).toFixed(2)} ms`,
        `${median(theirs).toFixed(2)} ms (ip -d -j link)`,
      ],
      [
        'veth create+delete',
        'pairs/s',
        `${((VETH_PAIRS / vethOurs) * 1000).toFixed(0)}`,
        `${((IP_VETH_PAIRS / vethIp) * 1000).toFixed(0)} (two ip commands per pair)`,
      ],
      [
        'route add',
        'routes/s',
        `${((ROUTES / routeOurs) * 1000).toFixed(0)}`,
        `${((IP_ROUTES / routeIp) * 1000).toFixed(0)} (one ip command per route)`,
      ],
    ];
    console.log('tsnet rtnetlink vs iproute2 on this machine');
    console.log(['operation', 'unit', 'tsnet', 'ip command'].join('\t'));
    for (const r of rows) console.log(r.join('\t'));
  } finally {
    h.close();
    deleteNamedNetns(name);
  }
}

await main();
