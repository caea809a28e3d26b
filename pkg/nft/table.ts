// The `tsnet` table of a node namespace: a fixed skeleton of sets, maps, chains and rules, shared by every
// network and container. Networks and containers only add and remove set/map elements, tagged with a
// comment naming their owner, so an ADD never grows a chain and a DEL removes exactly what it added.
//
// Concurrency without a lock: plugins run in parallel, possibly in several processes. Every batch is one
// kernel transaction, and every part of it is idempotent: `add table/chain/set/map` leave existing objects
// alone, the skeleton's chains are flushed and refilled inside the same transaction (so two writers racing
// to install it leave one copy of each rule), and `add element` of an element that exists is a no-op. The
// only non-idempotent step, deleting elements, is retried from a fresh listing when a concurrent writer got
// there first. A file lock would serialise all of this for nothing and leave lock files to clean up.

import { canonicalAddress } from './addr.ts';
import { forgetEnsured } from './ensured.ts';
import { applyNftBatch, listNftTable, type NftCommand, NftError, type NftObject } from './exec.ts';

export const TABLE_FAMILY = 'inet';
export const TABLE_NAME = 'tsnet';
const T = { family: TABLE_FAMILY, table: TABLE_NAME } as const;

/** Names of the sets and maps of the skeleton. */
export const SETS = {
  masq4Src: 'masq4_src',
  masq4Skip: 'masq4_skip',
  masq6Src: 'masq6_src',
  masq6Skip: 'masq6_skip',
  portmap4AnyAddr: 'portmap4_any_addr',
  portmap4AnyPort: 'portmap4_any_port',
  portmap4HostAddr: 'portmap4_host_addr',
  portmap4HostPort: 'portmap4_host_port',
  portmap4Hairpin: 'portmap4_hairpin',
  portmap6AnyAddr: 'portmap6_any_addr',
  portmap6AnyPort: 'portmap6_any_port',
  portmap6HostAddr: 'portmap6_host_addr',
  portmap6HostPort: 'portmap6_host_port',
  portmap6Hairpin: 'portmap6_hairpin',
} as const;

type Expr = unknown;

const ip = (family: 4 | 6, field: string): Expr => ({
  payload: { protocol: family === 4 ? 'ip' : 'ip6', field },
});
const l4proto: Expr = { meta: { key: 'l4proto' } };
const thDport: Expr = { payload: { protocol: 'th', field: 'dport' } };
const match = (left: Expr, right: Expr, op = '=='): Expr => ({ match: { op, left, right } });
const concat = (...items: Expr[]): Expr => ({ concat: items });
const prefix = (addr: string, len: number): Expr => ({ prefix: { addr, len } });

function setDefs(): NftCommand[] {
  const out: NftCommand[] = [];
  for (const f of [4, 6] as const) {
    const addr = f === 4 ? 'ipv4_addr' : 'ipv6_addr';
    const set = (name: string, type: string | string[], interval: boolean): NftCommand => ({
      add: { set: { ...T, name, type, ...(interval ? { flags: ['interval'] } : {}) } },
    });
    // Two maps per key (address, port) rather than one with concatenated data: nft 1.0.6 cannot declare
    // a map with concatenated data in JSON. Both are always written in the same transaction.
    const map = (name: string, type: string[], data: string): NftCommand => ({
      add: { map: { ...T, name, type, map: data } },
    });
    const anyKey = ['inet_proto', 'inet_service'];
    const hostKey = [addr, 'inet_proto', 'inet_service'];
    out.push(
      set(`masq${f}_src`, addr, true),
      set(`masq${f}_skip`, [addr, addr], true),
      map(`portmap${f}_any_addr`, anyKey, addr),
      map(`portmap${f}_any_port`, anyKey, 'inet_service'),
      map(`portmap${f}_host_addr`, hostKey, addr),
      map(`portmap${f}_host_port`, hostKey, 'inet_service'),
      set(`portmap${f}_hairpin`, [addr, addr], true),
    );
  }
  return out;
}

interface ChainDef {
  name: string;
  base?: { type: 'nat'; hook: string; prio: number };
  rules: { comment: string; expr: Expr[] }[];
}

function chainDefs(): ChainDef[] {
  const jumpPortmapIfLocal = [
    match({ fib: { result: 'type', flags: ['daddr'] } }, 'local'),
    { jump: { target: 'portmap' } },
  ];
  const postrouting: ChainDef['rules'] = [];
  for (const f of [4, 6] as const) {
    // Published ports reached from the container's own subnet (hairpin) or from localhost: the reply must
    // come back through the node, so the source becomes the node's address.
    postrouting.push({
      comment: `tsnet:portmap${f}-hairpin`,
      expr: [
        match({ ct: { key: 'status' } }, 'dnat', 'in'),
        match(concat(ip(f, 'saddr'), ip(f, 'daddr')), `@portmap${f}_hairpin`),
        { masquerade: null },
      ],
    });
  }
  for (const f of [4, 6] as const) {
    postrouting.push(
      {
        comment: `tsnet:masq${f}-skip`,
        expr: [match(concat(ip(f, 'saddr'), ip(f, 'daddr')), `@masq${f}_skip`), { return: null }],
      },
      {
        comment: `tsnet:masq${f}-multicast`,
        expr: [
          match(ip(f, 'daddr'), f === 4 ? prefix('224.0.0.0', 4) : prefix('ff00::', 8)),
          { return: null },
        ],
      },
      { comment: `tsnet:masq${f}`, expr: [match(ip(f, 'saddr'), `@masq${f}_src`), { masquerade: null }] },
    );
  }
  const portmap: ChainDef['rules'] = [];
  for (const f of [4, 6] as const) {
    const family = f === 4 ? 'ip' : 'ip6';
    const dnatVia = (key: Expr, maps: string): Expr => ({
      dnat: {
        family,
        addr: { map: { key, data: `@portmap${f}_${maps}_addr` } },
        port: { map: { key, data: `@portmap${f}_${maps}_port` } },
      },
    });
    portmap.push(
      {
        comment: `tsnet:portmap${f}-host`,
        expr: [dnatVia(concat(ip(f, 'daddr'), l4proto, thDport), 'host')],
      },
      { comment: `tsnet:portmap${f}-any`, expr: [dnatVia(concat(l4proto, thDport), 'any')] },
    );
  }
  return [
    { name: 'portmap', rules: portmap },
    {
      name: 'prerouting',
      base: { type: 'nat', hook: 'prerouting', prio: -100 },
      rules: [{ comment: 'tsnet:portmap-prerouting', expr: jumpPortmapIfLocal }],
    },
    {
      name: 'output',
      base: { type: 'nat', hook: 'output', prio: -100 },
      rules: [{ comment: 'tsnet:portmap-output', expr: jumpPortmapIfLocal }],
    },
    { name: 'postrouting', base: { type: 'nat', hook: 'postrouting', prio: 100 }, rules: postrouting },
  ];
}

/** The commands that install (or repair) the skeleton; idempotent as a whole. */
export function skeletonCommands(): NftCommand[] {
  const chains = chainDefs();
  const out: NftCommand[] = [{ add: { table: { family: TABLE_FAMILY, name: TABLE_NAME } } }, ...setDefs()];
  for (const c of chains) {
    out.push({ add: { chain: { ...T, name: c.name, ...(c.base ? { ...c.base, policy: 'accept' } : {}) } } });
  }
  for (const c of chains) {
    out.push({ flush: { chain: { ...T, name: c.name } } });
    for (const r of c.rules)
      out.push({ add: { rule: { ...T, chain: c.name, comment: r.comment, expr: r.expr } } });
  }
  return out;
}

/** True when every skeleton chain holds exactly its rules, in order (judged by their comments). */
function skeletonIntact(objects: readonly NftObject[]): boolean {
  const setNames = new Set<string>();
  const chainRules = new Map<string, string[]>();
  for (const o of objects) {
    if (o.set || o.map) setNames.add(String((o.set ?? o.map)?.name));
    if (o.chain) chainRules.set(String(o.chain.name), []);
  }
  for (const o of objects) {
    if (o.rule) chainRules.get(String(o.rule.chain))?.push(String(o.rule.comment ?? ''));
  }
  if (!Object.values(SETS).every((s) => setNames.has(s))) return false;
  return chainDefs().every((c) => {
    const have = chainRules.get(c.name);
    return have !== undefined && have.join('\n') === c.rules.map((r) => r.comment).join('\n');
  });
}

/** One element of a set or map as listed by nft: its key (and data), in nft's JSON, plus its comment. */
export interface TableElement {
  readonly set: string;
  readonly key: unknown;
  readonly data?: unknown;
  readonly comment?: string;
  /** Canonical text of the key, to compare with elements we build. */
  readonly keyText: string;
}

/** Canonical text of an element expression: addresses normalised, full-length prefixes as bare addresses. */
export function exprText(e: unknown): string {
  if (typeof e === 'number') return String(e);
  if (typeof e === 'string') {
    try {
      return canonicalAddress(e);
    } catch {
      return e;
    }
  }
  if (typeof e === 'object' && e !== null) {
    const o = e as Record<string, unknown>;
    if (Array.isArray(o.concat)) return o.concat.map(exprText).join(' . ');
    if (Array.isArray(o.range)) return o.range.map(exprText).join('-');
    const p = o.prefix as { addr?: unknown; len?: unknown } | undefined;
    if (p && typeof p.addr === 'string' && typeof p.len === 'number') {
      const addr = canonicalAddress(p.addr);
      const full = addr.includes(':') ? 128 : 32;
      return p.len === full ? addr : `${addr}/${p.len}`;
    }
  }
  return JSON.stringify(e);
}

function parseElements(setName: string, raw: unknown[], isMap: boolean): TableElement[] {
  const out: TableElement[] = [];
  for (const item of raw) {
    const [keyItem, data] = isMap && Array.isArray(item) ? [item[0], item[1]] : [item, undefined];
    const wrapped = (keyItem as { elem?: { val?: unknown; comment?: unknown } } | null)?.elem;
    const key = wrapped ? wrapped.val : keyItem;
    const comment = typeof wrapped?.comment === 'string' ? wrapped.comment : undefined;
    out.push({ set: setName, key, data, comment, keyText: exprText(key) });
  }
  return out;
}

/** What a planner sees of the current table: the elements of every skeleton set and map. */
export interface TableView {
  readonly elements: readonly TableElement[];
}

export function viewOf(objects: readonly NftObject[] | null): TableView {
  const elements: TableElement[] = [];
  for (const o of objects ?? []) {
    const def = o.set ?? o.map;
    if (!def || !Array.isArray(def.elem)) continue;
    elements.push(...parseElements(String(def.name), def.elem, o.map !== undefined));
  }
  return { elements };
}

/** An element to add: key (and data for maps) in nft JSON, and the owner comment. */
export interface NewElement {
  readonly set: string;
  readonly key: unknown;
  readonly data?: unknown;
  readonly comment: string;
}

export function addElementsCommands(elements: readonly NewElement[]): NftCommand[] {
  const bySet = new Map<string, unknown[]>();
  for (const e of elements) {
    const elem = { elem: { val: e.key, comment: e.comment } };
    const list = bySet.get(e.set) ?? [];
    list.push(e.data === undefined ? elem : [elem, e.data]);
    bySet.set(e.set, list);
  }
  return [...bySet].map(([name, elem]) => ({ add: { element: { ...T, name, elem } } }));
}

export function deleteElementsCommands(elements: readonly TableElement[]): NftCommand[] {
  const bySet = new Map<string, unknown[]>();
  for (const e of elements) {
    const list = bySet.get(e.set) ?? [];
    list.push(e.key);
    bySet.set(e.set, list);
  }
  return [...bySet].map(([name, elem]) => ({ delete: { element: { ...T, name, elem } } }));
}

/**
 * Commands turning the elements `owner` holds in the sets `inScope` accepts into exactly `desired`: adds the
 * missing ones, deletes the stale ones, and refuses a desired key that another owner holds.
 */
export function reconcileOwnedElements(
  view: TableView,
  owner: string,
  inScope: (set: string) => boolean,
  desired: readonly NewElement[],
  describe: (e: TableElement) => string,
): NftCommand[] {
  const key = (set: string, keyText: string) => `${set}|${keyText}`;
  const have = new Map<string, TableElement>();
  for (const e of view.elements) if (inScope(e.set)) have.set(key(e.set, e.keyText), e);
  const wanted = new Set<string>();
  const toAdd: NewElement[] = [];
  for (const d of desired) {
    const k = key(d.set, exprText(d.key));
    if (wanted.has(k)) continue;
    wanted.add(k);
    const existing = have.get(k);
    if (existing && existing.comment !== owner) {
      throw new Error(
        `${describe(existing)} is already owned by ${existing.comment ?? 'an unlabelled entry'}`,
      );
    }
    if (!existing) toAdd.push(d);
  }
  const stale = view.elements.filter(
    (e) => inScope(e.set) && e.comment === owner && !wanted.has(key(e.set, e.keyText)),
  );
  return [...deleteElementsCommands(stale), ...addElementsCommands(toAdd)];
}

/** Reads the table of `nsPath` as a view (empty when the table is absent). */
export async function readTable(nsPath: string): Promise<TableView> {
  return viewOf(await listNftTable(nsPath, TABLE_FAMILY, TABLE_NAME));
}

const RETRIES = 5;

/**
 * Reads the table, lets `plan` compute the element changes, and applies them together with the skeleton
 * (when it is missing or damaged) as one transaction. An empty plan on an intact table touches nothing.
 * A delete that lost a race with another writer (ENOENT) is planned again from a fresh listing.
 */
export async function updateTable(
  nsPath: string,
  purpose: string,
  options: { install: boolean },
  plan: (view: TableView) => NftCommand[],
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const objects = await listNftTable(nsPath, TABLE_FAMILY, TABLE_NAME);
    const changes = plan(viewOf(objects));
    // Removals never create the table; they only need the sets, which exist whenever elements do.
    if (!options.install && (objects === null || changes.length === 0)) return;
    const skeleton =
      !options.install || (objects !== null && skeletonIntact(objects)) ? [] : skeletonCommands();
    try {
      await applyNftBatch(nsPath, [...skeleton, ...changes], purpose);
      return;
    } catch (err) {
      if (!(err instanceof NftError && err.notFound && attempt < RETRIES)) throw err;
    }
  }
}

/** Installs (or repairs) the skeleton alone. */
export async function ensureTable(nsPath: string): Promise<void> {
  await updateTable(nsPath, 'install table inet tsnet', { install: true }, () => []);
}

/** Removes the whole tsnet table from a namespace (every network's and container's elements with it). */
export async function deleteTable(nsPath: string): Promise<void> {
  forgetEnsured(nsPath);
  try {
    await applyNftBatch(
      nsPath,
      [{ delete: { table: { family: TABLE_FAMILY, name: TABLE_NAME } } }],
      'delete table',
    );
  } catch (err) {
    if (!(err instanceof NftError && err.notFound)) throw err;
  }
}
