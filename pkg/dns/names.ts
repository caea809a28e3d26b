// The cluster's names, as the DNS server answers them: indexes over the cluster view (container names,
// network aliases, IPs), and the rules of who sees what. A container resolves the names of the containers it
// shares a network with — `NAME`, `ALIAS`, `NAME.NETWORK`, and each with the cluster domain appended
// (`NAME.tsnet`, `NAME.NETWORK.tsnet`) — as on a Docker user network; a network is shared when it has the
// same name and is either cluster-wide (the overlay) or on the same node (a bridge is a node's own L2
// segment). A querier that is not a known container (the node itself, an operator) sees every network.

import type { ContainerEntry, EndpointEntry } from '../discovery/entry.ts';

/** Where the names come from: the cluster view (pkg/discovery/view.ts), or a fixed list in tests. */
export interface NamesSource {
  entries(): ContainerEntry[];
  on(event: 'change', listener: () => void): unknown;
}

export type NameAnswer =
  | { readonly kind: 'addresses'; readonly ipv4: string[]; readonly ipv6: string[] }
  | { readonly kind: 'pointer'; readonly names: string[] }
  /** a name in the cluster's namespace that nobody holds */
  | { readonly kind: 'nxdomain' }
  /** not ours: ask the upstream resolvers */
  | { readonly kind: 'forward' };

interface Located {
  readonly entry: ContainerEntry;
  readonly endpoint: EndpointEntry;
}

export const DEFAULT_CLUSTER_DOMAIN = 'tsnet';

/** One network segment: overlay networks are one across nodes, the others one per node. */
function segmentOf(entry: ContainerEntry, ep: EndpointEntry): string {
  return ep.scope === 'cluster' ? `cluster/${ep.network}` : `node/${entry.node}/${ep.network}`;
}

const lower = (s: string): string => s.toLowerCase();

export class ClusterNames {
  private readonly domain: string;
  /** lower-case name or alias → endpoints that answer to it */
  private byName = new Map<string, Located[]>();
  private byIp = new Map<string, Located[]>();
  private networks = new Set<string>();

  constructor(
    private readonly view: NamesSource,
    domain = DEFAULT_CLUSTER_DOMAIN,
  ) {
    this.domain = lower(domain.replace(/\.$/, ''));
    this.rebuild();
    view.on('change', () => this.rebuild());
  }

  /** Rebuilt on each change: the view is small (containers of one cluster) and lookups must be O(1). */
  private rebuild(): void {
    const byName = new Map<string, Located[]>();
    const byIp = new Map<string, Located[]>();
    const networks = new Set<string>();
    const add = (map: Map<string, Located[]>, key: string, loc: Located): void => {
      const list = map.get(key);
      if (list) list.push(loc);
      else map.set(key, [loc]);
    };
    for (const entry of this.view.entries()) {
      if (entry.state !== 'running' && entry.state !== 'paused') continue;
      for (const endpoint of entry.endpoints) {
        const loc = { entry, endpoint };
        networks.add(lower(endpoint.network));
        for (const n of new Set([entry.name, entry.id.slice(0, 12), ...endpoint.aliases].map(lower)))
          add(byName, n, loc);
        if (endpoint.ipv4) add(byIp, endpoint.ipv4, loc);
        if (endpoint.ipv6) add(byIp, endpoint.ipv6, loc);
      }
    }
    this.byName = byName;
    this.byIp = byIp;
    this.networks = networks;
  }

  /** The segments the querier is on, or undefined when it is not a container we know (sees everything). */
  private segmentsOf(clientIp: string | undefined): Set<string> | undefined {
    if (clientIp === undefined) return undefined;
    const located = this.byIp.get(clientIp);
    if (!located) return undefined;
    return new Set(located.map((l) => segmentOf(l.entry, l.endpoint)));
  }

  /** The answer for an A/AAAA question. */
  resolveName(qname: string, clientIp?: string): NameAnswer {
    let name = lower(qname.replace(/\.$/, ''));
    let inDomain = false;
    if (name === this.domain) return { kind: 'nxdomain' };
    if (name.endsWith(`.${this.domain}`)) {
      name = name.slice(0, -this.domain.length - 1);
      inDomain = true;
    }
    const visible = this.segmentsOf(clientIp);
    const pick = (candidates: Located[] | undefined, network?: string): Located[] =>
      (candidates ?? []).filter(
        (l) =>
          (network === undefined || lower(l.endpoint.network) === network) &&
          (visible === undefined || visible.has(segmentOf(l.entry, l.endpoint))),
      );
    let found = pick(this.byName.get(name));
    const dot = name.lastIndexOf('.');
    let qualified = false;
    if (found.length === 0 && dot > 0 && this.networks.has(name.slice(dot + 1))) {
      qualified = true;
      found = pick(this.byName.get(name.slice(0, dot)), name.slice(dot + 1));
    }
    if (found.length === 0) return inDomain || qualified ? { kind: 'nxdomain' } : { kind: 'forward' };
    const ipv4 = [...new Set(found.flatMap((l) => (l.endpoint.ipv4 ? [l.endpoint.ipv4] : [])))];
    const ipv6 = [...new Set(found.flatMap((l) => (l.endpoint.ipv6 ? [l.endpoint.ipv6] : [])))];
    return { kind: 'addresses', ipv4, ipv6 };
  }

  /** The answer for a PTR question (`d.c.b.a.in-addr.arpa`, nibbles for ip6.arpa). */
  resolvePointer(qname: string, clientIp?: string): NameAnswer {
    const ip = ipOfReverseName(qname);
    if (ip === undefined) return { kind: 'forward' };
    const visible = this.segmentsOf(clientIp);
    const located = (this.byIp.get(ip) ?? []).filter(
      (l) => visible === undefined || visible.has(segmentOf(l.entry, l.endpoint)),
    );
    if (located.length === 0) return { kind: 'forward' };
    return {
      kind: 'pointer',
      names: [...new Set(located.map((l) => `${l.entry.name}.${l.endpoint.network}.${this.domain}`))],
    };
  }
}

/** The address a reverse name stands for, or undefined when it is not one. */
export function ipOfReverseName(qname: string): string | undefined {
  const name = lower(qname.replace(/\.$/, ''));
  if (name.endsWith('.in-addr.arpa')) {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
    return parts.reverse().join('.');
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || nibbles.some((n) => !/^[0-9a-f]$/.test(n))) return undefined;
    const hex = nibbles.reverse().join('');
    const groups = hex.match(/.{4}/g) ?? [];
    return compressIpv6(groups.map((g) => g.replace(/^0+(?=.)/, '')));
  }
  return undefined;
}

/** RFC 5952 text for eight groups (the form the view holds addresses in). */
function compressIpv6(groups: string[]): string {
  let best = { start: -1, len: 0 };
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > best.len && j - i > 1) best = { start: i, len: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(':');
  const head = groups.slice(0, best.start).join(':');
  const tail = groups.slice(best.start + best.len).join(':');
  return `${head}::${tail}`;
}
