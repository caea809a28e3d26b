// A compose project across two nodes on an `overlay` network, end to end: one compose file, the same project
// name, `compose up -d --no-deps front` through node0's agent and `compose up -d --no-deps back` through
// node1's (front depends on back: --no-deps keeps back off node0). Each node creates the project network on
// its own; as in Docker's cluster scope they are one network by name, so each service resolves the other's
// service name, its container name and its `networks.<net>.aliases` to that container's overlay address, and
// HTTP flows both ways across the overlay (busybox httpd and nc). A container on another network (tsnet) does
// not see the project's names. `compose down` on each node removes that node's container and network, the
// names stop resolving on every node, and nothing is left: no container, network, conflist, address record
// or veth. Busybox nslookup (inside a container, or against a node's DNS from the node's namespace), `ip` and
// the agents' files are the oracles.
import { readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { ipJson, nsRun, pollUntil } from '../../pkg/cluster/index.ts';
import { whyContainersCannotRun } from '../helpers/container.ts';
import {
  type DnsWorld,
  IMAGE,
  type Lookup,
  parseNslookup,
  registryEntries,
  startDnsWorld,
} from './dns-world.ts';

const PROJECT = 'xov';
const NETWORK = `${PROJECT}_appnet`;
/** service → the node whose agent runs it */
const PLACEMENT = { front: 0, back: 1 } as const;
type Service = keyof typeof PLACEMENT;
const ALIASES: Record<Service, string[]> = { front: ['frontdoor'], back: ['backend', 'db.internal'] };

// sh stays PID 1 with a TERM trap (httpd as PID 1 would ignore SIGTERM, and each `down` wait out the grace period)
const httpd = (service: Service) =>
  `["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM; /bin/busybox mkdir -p /www && echo hello from ${service} > /www/index.html && /bin/busybox httpd -f -p 80 -h /www & wait"]`;

// front depends on back, which runs on the other node: `up --no-deps front` leaves it to that node
const COMPOSE_FILE = `
services:
  front:
    image: ${IMAGE}
    command: ${httpd('front')}
    depends_on: [back]
    networks:
      appnet:
        aliases: [${ALIASES.front.join(', ')}]
  back:
    image: ${IMAGE}
    command: ${httpd('back')}
    networks:
      appnet:
        aliases: [${ALIASES.back.join(', ')}]
networks:
  appnet:
    driver: overlay
`;

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`compose across nodes on an overlay network (${skip})`, () => undefined);

let world: DnsWorld | undefined;
const w = (): DnsWorld => {
  if (!world) throw new Error('the cluster did not start');
  return world;
};
let composeFile = '';
/** service → its container's address on the project network (set by the first case) */
const addressOf = new Map<Service, string>();
/** node → its probe container's address on tsnet */
const probeIp = new Map<number, string>();
/** node → its veths before the project came up (a probe container's) */
const vethsBefore = new Map<number, string[]>();

const other = (s: Service): Service => (s === 'front' ? 'back' : 'front');
const containerOf = (s: Service): string => `${PROJECT}-${s}-1`;

const compose = (node: number, ...args: string[]) =>
  w().ctl(node, 'compose', '-f', composeFile, '-p', PROJECT, ...args);

async function veths(node: number): Promise<string[]> {
  const links = await ipJson<{ ifname: string }[]>(w().cluster.nodes[node]?.netnsPath ?? '', [
    'link',
    'show',
    'type',
    'veth',
  ]);
  return links.map((l) => l.ifname).sort();
}

/** The node's gateway on the overlay (subnet.env): where its DNS answers. */
function gatewayOf(node: number): string {
  const subnet = w().cluster.subnetOf(node);
  if (!subnet) throw new Error(`node${node} has no subnet.env`);
  return subnet.split('/')[0] ?? '';
}

/** busybox nslookup against node's DNS from the node's own namespace: a querier that sees every network. */
async function lookupFromNode(node: number, name: string): Promise<Lookup> {
  try {
    const out = await nsRun(w().cluster.nodes[node]?.netnsPath ?? '', 'busybox', [
      'nslookup',
      '-type=a',
      name,
      gatewayOf(node),
    ]);
    return parseNslookup({ code: 0, stdout: out, stderr: '' });
  } catch (err) {
    return { code: 1, addresses: [], names: [], output: (err as Error).message };
  }
}

/** An HTTP GET with busybox nc from inside `container` on node; the response's text. */
async function httpGet(node: number, container: string, target: string): Promise<string> {
  const r = await w().ctl(
    node,
    'exec',
    container,
    '/bin/sh',
    '-c',
    `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc -w 5 ${target} 80`,
  );
  return `${r.stdout}${r.stderr}`;
}

test.before(async (t) => {
  if (skip) return;
  t.timeout(300_000);
  world = await startDnsWorld({ nodes: 2 });
  const dir = join(world.cluster.dir, 'app');
  await mkdir(dir);
  composeFile = join(dir, 'compose.yaml');
  await writeFile(composeFile, COMPOSE_FILE);
  // a container on tsnet on each node: not in the project, the gateway's DNS answers while the project is gone
  await Promise.all([0, 1].map(async (i) => probeIp.set(i, await w().run(i, `probe${i}`, 'tsnet'))));
  for (const i of [0, 1]) vethsBefore.set(i, await veths(i));
});

test.afterEach.always(async (t) => {
  if (!t.passed && world)
    for (const n of world.cluster.nodes)
      t.log(`node${n.index} agent.log:\n${world.cluster.agentLogTail(n.index, 20)}`);
});

test.after.always(async () => {
  await world?.teardown();
});

e2e('compose up on two nodes: one overlay network by name, each service on its node', async (t) => {
  t.timeout(180_000);
  await Promise.all(
    (Object.entries(PLACEMENT) as [Service, number][]).map(async ([service, node]) => {
      const r = await compose(node, 'up', '-d', '--no-deps', service);
      t.is(r.code, 0, `node${node}: compose up ${service}: ${r.stderr}`);
      t.regex(r.stderr, new RegExp(`Network ${NETWORK}\\s+Created`), r.stderr);
      t.regex(r.stderr, new RegExp(`Container ${containerOf(service)}\\s+Started`), r.stderr);
      // only the named service came up on this node
      t.notRegex(r.stderr, new RegExp(containerOf(other(service))), r.stderr);
    }),
  );
  for (const [service, node] of Object.entries(PLACEMENT) as [Service, number][]) {
    const [net] = JSON.parse(await w().ok(node, 'network', 'inspect', NETWORK)) as {
      Driver: string;
      Scope: string;
      Labels: Record<string, string>;
    }[];
    t.like(net, {
      Driver: 'overlay',
      Scope: 'cluster',
      Labels: { 'com.docker.compose.project': PROJECT, 'com.docker.compose.network': 'appnet' },
    });
    const ps = await compose(node, 'ps', '--services');
    t.is(ps.code, 0, ps.stderr);
    t.deepEqual(ps.stdout.trim().split('\n'), [service], `compose ps on node${node}`);
    const [inspect] = JSON.parse(await w().ok(node, 'inspect', containerOf(service))) as {
      NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
    }[];
    const ip = inspect?.NetworkSettings?.Networks?.[NETWORK]?.IPAddress;
    if (!ip) return void t.fail(`${containerOf(service)} has no address on ${NETWORK}`);
    // the overlay hands out the node's share of the cluster network
    const [a, b, c] = gatewayOf(node).split('.');
    t.true(
      ip.startsWith(`${a}.${b}.${c}.`),
      `${ip} is in node${node}'s subnet ${w().cluster.subnetOf(node)}`,
    );
    // one address space with tsnet on the node (the shared IPAM pool): never the probe's address
    t.not(ip, probeIp.get(node), `${containerOf(service)} and probe${node} share an address`);
    addressOf.set(service, ip);
  }
});

/** The project's entries in the discovery registry: container, node, and its endpoint on the project network. */
async function projectEntries(): Promise<{ name: string; node: string; scope?: string; ip?: string }[]> {
  return (await registryEntries(w().cluster))
    .filter((e) => e.labels['com.docker.compose.project'] === PROJECT)
    .map((e) => {
      const ep = e.endpoints.find((x) => x.network === NETWORK);
      return {
        name: e.name,
        node: e.node,
        ...(ep?.scope && { scope: ep.scope }),
        ...(ep?.ipv4 && { ip: ep.ipv4 }),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

e2e('the registry holds both services, each on its node, on one cluster-scoped network', async (t) => {
  t.timeout(60_000);
  const expected = (['back', 'front'] as Service[]).map((s) => ({
    name: containerOf(s),
    node: `node${PLACEMENT[s]}`,
    scope: 'cluster',
    ip: addressOf.get(s),
  }));
  const found = await pollUntil(
    'both project containers in etcd',
    async () => {
      const entries = await projectEntries();
      return entries.length === expected.length ? entries : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
  t.deepEqual(found, expected);
});

e2e('each service resolves the other (service name, container name, aliases) across the nodes', async (t) => {
  t.timeout(120_000);
  for (const [service, node] of Object.entries(PLACEMENT) as [Service, number][]) {
    const peer = other(service);
    const expected = addressOf.get(peer);
    const names = [peer, containerOf(peer), ...ALIASES[peer], `${peer}.tsnet`];
    // the peer's entry arrives through etcd: poll until every name answers
    const answers = await pollUntil(
      `${containerOf(service)} on node${node} resolving ${names.join(', ')}`,
      async () => {
        const found = await w().lookups(node, containerOf(service), names);
        return names.every((n) => found.get(n)?.addresses[0] === expected) ? found : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    ).catch(async () => w().lookups(node, containerOf(service), names));
    for (const n of names) {
      const r = answers.get(n);
      t.deepEqual(
        r?.addresses,
        [expected],
        `${containerOf(service)} on node${node}: nslookup ${n}\n${r?.output}`,
      );
    }
  }
  // a container of another network (tsnet) does not see the project's names
  for (const node of [0, 1]) {
    const found = await w().lookups(node, `probe${node}`, ['front', 'backend']);
    for (const [n, r] of found) t.deepEqual(r.addresses, [], `probe${node}: nslookup ${n}\n${r.output}`);
  }
});

e2e('traffic flows both ways across the overlay, by address and by service name', async (t) => {
  t.timeout(120_000);
  for (const [service, node] of Object.entries(PLACEMENT) as [Service, number][]) {
    const peer = other(service);
    for (const target of [addressOf.get(peer) ?? '', peer, ALIASES[peer][0] ?? '']) {
      const response = await httpGet(node, containerOf(service), target);
      t.regex(
        response,
        new RegExp(`200 OK[\\s\\S]*hello from ${peer}`),
        `${service} → ${target}: ${response}`,
      );
    }
  }
});

e2e(
  'compose down on each node removes its container and network; the names stop resolving; nothing left',
  async (t) => {
    t.timeout(180_000);
    const allNames = (Object.keys(PLACEMENT) as Service[]).flatMap((s) => [s, containerOf(s), ...ALIASES[s]]);
    // node1 first: front on node0 stops resolving back while the project is still up there
    const down1 = await compose(1, 'down');
    t.is(down1.code, 0, down1.stderr);
    t.regex(down1.stderr, new RegExp(`Network ${NETWORK}\\s+Removed`), down1.stderr);
    const backNames = ['back', containerOf('back'), ...ALIASES.back];
    await pollUntil(
      `${backNames.join(', ')} to leave front's view`,
      async () => {
        const found = await w().lookups(0, containerOf('front'), backNames);
        return [...found.values()].every((r) => r.addresses.length === 0);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    t.is((await w().ok(0, 'network', 'ls', '--format', '{{.Name}}')).split('\n').includes(NETWORK), true);
    const down0 = await compose(0, 'down');
    t.is(down0.code, 0, down0.stderr);
    t.regex(down0.stderr, new RegExp(`Container ${containerOf('front')}\\s+Removed`), down0.stderr);
    for (const node of [0, 1]) {
      await pollUntil(
        `the project's names to leave node${node}'s DNS`,
        async () => {
          for (const n of allNames) if ((await lookupFromNode(node, n)).addresses.length > 0) return false;
          return true;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      // the node's DNS still answers (the probe): the names are gone, not the server
      const probe = await lookupFromNode(node, `probe${node}`);
      t.is(probe.addresses.length, 1, probe.output);
      const ps = await w().ok(
        node,
        'ps',
        '-a',
        '--filter',
        `label=com.docker.compose.project=${PROJECT}`,
        '-q',
      );
      t.is(ps.trim(), '', `node${node}: project containers left`);
      const networks = (await w().ok(node, 'network', 'ls', '--format', '{{.Name}}')).split('\n');
      t.false(networks.includes(NETWORK), `node${node}: ${networks.join(' ')}`);
      const n = w().cluster.nodes[node];
      t.false(
        readdirSync(n?.cniConfDir ?? '').some((f) => f.includes(NETWORK)),
        `node${node}: conflist left`,
      );
      const records = (() => {
        try {
          return readdirSync(join(n?.dataDir ?? '', 'cni', 'networks', NETWORK)).filter((f) =>
            /^\d+\.\d+\.\d+\.\d+$/.test(f),
          );
        } catch {
          return [];
        }
      })();
      t.deepEqual(records, [], `node${node}: address records of ${NETWORK} left`);
      t.deepEqual(await veths(node), vethsBefore.get(node), `node${node}: veths`);
    }
    t.deepEqual(await projectEntries(), [], 'project entries left in etcd');
    // removing the project network left the overlay it shared with tsnet working
    const ping = await w().ctl(
      0,
      'exec',
      'probe0',
      '/bin/busybox',
      'ping',
      '-c',
      '1',
      '-W',
      '5',
      probeIp.get(1) ?? '',
    );
    t.is(ping.code, 0, `probe0 → probe1 over tsnet after down: ${ping.stdout}${ping.stderr}`);
  },
);
