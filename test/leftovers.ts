// Leftover check around the suite: what tests may create is snapshotted before and compared after. Watched:
// namespaces, links in the host namespace, netns and overlay mounts, etcd/runc/conmon/iperf3/agent processes,
// cgroups named after tsnet, files under /var/lib/cni and /run/tsnet and the tests' temporary roots, and the
// host namespace's sysctls and whole nftables ruleset (every table, chain, rule and set, read-only).
//   node --import=tsx test/leftovers.ts snapshot > before.json
//   node --import=tsx test/leftovers.ts check before.json
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Snapshot {
  netns: string[];
  links: string[];
  mounts: string[];
  processes: string[];
  cgroups: string[];
  files: string[];
  /** The host namespace's forwarding sysctls and firewall: tests must never change them. */
  hostState: string[];
}

export const SNAPSHOT_KEYS = [
  'netns',
  'links',
  'mounts',
  'processes',
  'cgroups',
  'files',
  'hostState',
] as const;

export interface SnapshotOptions {
  /** Namespace whose nftables ruleset is read (default: the host's). */
  nftNetns?: string;
  /** Directories whose whole trees are watched for files left behind. */
  stateDirs?: readonly string[];
  /** Directory holding the tests' temporary roots (their names start with TEMP_PREFIXES). */
  tempDir?: string;
  cgroupRoot?: string;
}

// Host-namespace settings a careless test (one that forgot to enter its own namespace) would change.
const HOST_SYSCTLS = [
  'net/ipv4/ip_forward',
  'net/ipv6/conf/all/forwarding',
  'net/ipv4/conf/all/route_localnet',
  'net/ipv4/conf/all/rp_filter',
];
/** What the plugins and the agent write by default: a test that forgot its temp dataDir leaves files here. */
const STATE_DIRS = ['/var/lib/cni', '/run/tsnet'];
/** Prefixes of the tests' temporary roots (test/helpers/tmp.ts and the tests' own mkdtemp calls). */
const TEMP_PREFIXES = ['tsnet-', 'tsnt-'];
export const NFT = '/usr/sbin/nft';
const WATCHED_PROCESSES = new Set([
  'etcd',
  'iperf3',
  'runc',
  'conmon',
  'tsnet-agent',
  'nc',
  'docker-registry',
  'skopeo',
]);

/** Values the kernel changes by itself (counters, quotas used, element timeouts): not a test's doing. */
const MOVING_KEYS = new Set(['packets', 'bytes', 'used', 'expires']);
const withoutCounters = (key: string, value: unknown): unknown => (MOVING_KEYS.has(key) ? undefined : value);

/** Every rule, chain, set and table of the ruleset, one JSON line each (`nft -j list ruleset`, read-only). */
function nftRuleset(netns: string | undefined): string[] {
  // Absolute: under npm/npx, node_modules/.bin/nft (@vercel/nft, an ava dependency) comes first in PATH.
  const [cmd, args] = netns
    ? ['nsenter', [`--net=${netns}`, NFT, '-j', 'list', 'ruleset']]
    : [NFT, ['-j', 'list', 'ruleset']];
  try {
    const out = JSON.parse(execFileSync(cmd, args, { encoding: 'utf8' })) as { nftables?: object[] };
    return (out.nftables ?? [])
      .filter((item) => !('metainfo' in item))
      .map((item) => `nft ${JSON.stringify(item, withoutCounters)}`);
  } catch {
    return ['nft: unavailable'];
  }
}

function hostState(netns: string | undefined): string[] {
  const state = HOST_SYSCTLS.map((key) => {
    try {
      return `sysctl ${key}=${readFileSync(`/proc/sys/${key}`, 'utf8').trim()}`;
    } catch {
      return `sysctl ${key}=?`;
    }
  });
  return [...state, ...nftRuleset(netns)];
}

/** Paths under `dir` (recursively, not following symlinks); none when it does not exist. */
function tree(dir: string, dirsOnly = false, out: string[] = []): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (dirsOnly && !entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    out.push(path);
    if (entry.isDirectory()) tree(path, dirsOnly, out);
  }
  return out;
}

function files(stateDirs: readonly string[], tempDir: string): string[] {
  const temp = (() => {
    try {
      return readdirSync(tempDir).filter((name) => TEMP_PREFIXES.some((p) => name.startsWith(p)));
    } catch {
      return [];
    }
  })();
  return [...stateDirs.flatMap((dir) => tree(dir)), ...temp.map((name) => join(tempDir, name))];
}

/** Cgroup directories with tsnet in their name, in every hierarchy under `root`. */
function cgroups(root: string): string[] {
  return tree(root, true).filter((path) => /tsnet|tsnt/.test(path.slice(root.length)));
}

function processes(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      // tsnetctl: a client left running, or an agent's warm one its agent did not take along
      const ours = ['cmd/agent', 'tsnet-agent', 'tsnetctl'].some((name) => cmdline.includes(name));
      if (WATCHED_PROCESSES.has(comm) || ours) {
        found.push(`${pid} ${cmdline.slice(0, 120)}`);
      }
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

export function snapshot(options: SnapshotOptions = {}): Snapshot {
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
  return {
    netns: netns.sort(),
    links: links.sort(),
    mounts: mounts.sort(),
    processes: processes().sort(),
    cgroups: cgroups(options.cgroupRoot ?? '/sys/fs/cgroup').sort(),
    files: files(options.stateDirs ?? STATE_DIRS, options.tempDir ?? tmpdir()).sort(),
    hostState: hostState(options.nftNetns),
  };
}

/** What `after` has that `before` had not, by kind ("kind: a, b"). */
export function leftovers(before: Partial<Snapshot>, after: Snapshot): string[] {
  const leaked: string[] = [];
  for (const key of SNAPSHOT_KEYS) {
    const had = new Set(before[key] ?? []);
    const extra = after[key].filter((x) => !had.has(x));
    if (extra.length) leaked.push(`${key}: ${extra.join(', ')}`);
  }
  return leaked;
}

function main(): void {
  const [mode, file] = process.argv.slice(2);
  if (mode === 'snapshot') {
    process.stdout.write(JSON.stringify(snapshot()));
  } else if (mode === 'check' && file) {
    const leaked = leftovers(JSON.parse(readFileSync(file, 'utf8')) as Partial<Snapshot>, snapshot());
    if (leaked.length) {
      console.error(`leftovers: the suite left these behind:\n  ${leaked.join('\n  ')}`);
      process.exit(1);
    }
    console.log(
      'leftovers: none (no namespace, host link, mount, process, cgroup or file left; host sysctls and nftables ruleset unchanged)',
    );
  } else {
    console.error('usage: leftovers.ts snapshot | check FILE');
    process.exit(2);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
