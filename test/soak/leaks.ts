// What the cluster holds, seen from the kernel and the files rather than from tsnet: taken before the churn (the
// pods and keepers exist) and again after it; any difference is a leak (or a loss). Independent oracles: `ip`,
// `nft`, `etcdctl`, /proc and the files themselves.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type Cluster, ETCD_PREFIX, ipJson, nsRun, run } from '../../pkg/cluster/index.ts';

export type Snapshot = Record<string, string[]>;

export async function snapshot(cluster: Cluster): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const node of cluster.nodes) {
    const veths = await ipJson<{ ifname: string; master?: string }[]>(node.netnsPath, [
      'link',
      'show',
      'type',
      'veth',
    ]);
    out[`node${node.index} veth links`] = veths.map((l) => `${l.ifname}${l.master ? `@${l.master}` : ''}`);
    out[`node${node.index} CNI state files (IPAM, delegates, cache)`] = filesUnder(
      join(node.dataDir, 'cni'),
    ).filter((f) => !/(^|\/)(lock|last_reserved_ip[^/]*)$/.test(f));
    out[`node${node.index} nft rules`] = await nftRules(node.netnsPath);
    out[`node${node.index} runtime container dirs`] = dirsOf(join(node.runDir, 'containers'));
  }
  out['netns named by the cluster'] = readdirSync('/run/netns').filter((n) =>
    n.startsWith(`${cluster.name}-`),
  );
  const roots = [cluster.dir, cluster.runRoot];
  out['mounts under the cluster'] = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((target) => roots.some((root) => target.startsWith(`${root}/`)));
  out['tsnet cgroups'] = existsSync('/sys/fs/cgroup')
    ? readdirSync('/sys/fs/cgroup').flatMap((h) =>
        dirsOf(join('/sys/fs/cgroup', h, 'tsnet')).map((id) => `${h}/${id}`),
      )
    : [];
  out['conmon and runc processes'] = processesUnder(roots);
  out['discovery entries in etcd'] = await discoveryKeys(cluster);
  for (const key of Object.keys(out)) out[key]?.sort();
  return out;
}

/** The containers the agents published, as etcd has them. */
export async function discoveryKeys(cluster: Cluster): Promise<string[]> {
  const args = [`--endpoints=${cluster.etcdEndpoints.join(',')}`, 'get', '--prefix', '--keys-only'];
  const out = await run('etcdctl', [...args, `${ETCD_PREFIX}/containers/`]);
  return out.split('\n').filter(Boolean);
}

/** Lines of `before` missing after, and lines new after, per kind. */
export function diff(before: Snapshot, after: Snapshot): string[] {
  const found: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const b = new Set(before[key] ?? []);
    const a = new Set(after[key] ?? []);
    const gone = [...b].filter((x) => !a.has(x));
    const added = [...a].filter((x) => !b.has(x));
    if (added.length) found.push(`${key}: ${added.length} more than before: ${added.slice(0, 5).join(', ')}`);
    if (gone.length) found.push(`${key}: ${gone.length} gone since before: ${gone.slice(0, 5).join(', ')}`);
  }
  return found;
}

/** The ruleset without handles and counters, one rule per line. */
async function nftRules(nsPath: string): Promise<string[]> {
  const text = (await nsRun(nsPath, 'nft', ['-j', 'list', 'ruleset'])).trim();
  // an empty ruleset prints nothing at all with some nft versions
  const json = (text === '' ? { nftables: [] } : JSON.parse(text)) as { nftables: Record<string, unknown>[] };
  return json.nftables
    .filter((item) => 'rule' in item || 'set' in item || 'map' in item || 'element' in item)
    .map((item) =>
      JSON.stringify(item, (k, v: unknown) => (k === 'handle' || k === 'counter' ? undefined : v)),
    );
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

function dirsOf(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
}

function processesUnder(roots: readonly string[]): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    const exe = cmdline.split(' ')[0] ?? '';
    if (!/(^|\/)(conmon|runc)$/.test(exe) || !roots.some((r) => cmdline.includes(`${r}/`))) continue;
    // the container ID names the process across the two snapshots (the pid of a keeper's conmon is stable too)
    out.push(`${exe.split('/').at(-1)} ${pid}`);
  }
  return out;
}
