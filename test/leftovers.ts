// Leftover check around the suite: what tests may create (namespaces, links in the host namespace, netns and
// overlay mounts, etcd/runc/iperf3/agent processes) is snapshotted before and compared after.
//   node --import=tsx test/leftovers.ts snapshot > before.json
//   node --import=tsx test/leftovers.ts check before.json
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

interface Snapshot {
  netns: string[];
  links: string[];
  mounts: string[];
  processes: string[];
  /** The host namespace's firewall and forwarding state: tests must never change them. */
  hostState: string[];
}

// Host-namespace settings a careless test (one that forgot to enter its own namespace) would change.
const HOST_SYSCTLS = [
  'net/ipv4/ip_forward',
  'net/ipv6/conf/all/forwarding',
  'net/ipv4/conf/all/route_localnet',
  'net/ipv4/conf/all/rp_filter',
];

function hostState(): string[] {
  const state = HOST_SYSCTLS.map((key) => {
    try {
      return `sysctl ${key}=${readFileSync(`/proc/sys/${key}`, 'utf8').trim()}`;
    } catch {
      return `sysctl ${key}=?`;
    }
  });
  try {
    const ruleset = execFileSync('/usr/sbin/nft', ['list', 'ruleset'], { encoding: 'utf8' });
    state.push(
      `nft tables: ${[...ruleset.matchAll(/^table (\S+ \S+)/gm)].map((m) => m[1]).join(', ') || 'none'}`,
    );
  } catch {
    state.push('nft: unavailable');
  }
  return state;
}

const WATCHED_PROCESSES = new Set(['etcd', 'iperf3', 'runc', 'tsnet-agent', 'nc']);

function snapshot(): Snapshot {
  let netns: string[] = [];
  try {
    netns = readdirSync('/run/netns');
  } catch {
    netns = [];
  }
  const links = (
    JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[]
  ).map((l) => l.ifname);
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([, target, fstype]) => (target ?? '').startsWith('/run/netns/') || fstype === 'overlay')
    .map(([, target]) => target ?? '');
  const processes: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      if (WATCHED_PROCESSES.has(comm) || cmdline.includes('cmd/agent') || cmdline.includes('tsnet-agent')) {
        processes.push(`${pid} ${cmdline.slice(0, 120)}`);
      }
    } catch {
      // the process ended while we looked
    }
  }
  return {
    netns: netns.sort(),
    links: links.sort(),
    mounts: mounts.sort(),
    processes: processes.sort(),
    hostState: hostState(),
  };
}

const [mode, file] = process.argv.slice(2);
if (mode === 'snapshot') {
  process.stdout.write(JSON.stringify(snapshot()));
} else if (mode === 'check' && file) {
  const before = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const after = snapshot();
  const leaked: string[] = [];
  for (const key of ['netns', 'links', 'mounts', 'processes', 'hostState'] as const) {
    const had = new Set(before[key] ?? []);
    const extra = after[key].filter((x) => !had.has(x));
    if (extra.length) leaked.push(`${key}: ${extra.join(', ')}`);
  }
  if (leaked.length) {
    console.error(`leftovers: the suite left these behind:\n  ${leaked.join('\n  ')}`);
    process.exit(1);
  }
  console.log(
    'leftovers: none (no namespace, host link, mount or process left; host sysctls and firewall unchanged)',
  );
} else {
  console.error('usage: leftovers.ts snapshot | check FILE');
  process.exit(2);
}
