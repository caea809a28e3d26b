// Merging several compose files (`-f a.yaml -f b.yaml`) by the Compose Specification's merge rules:
// mappings merge key by key, scalars are replaced, sequences are appended — except shell commands
// (command, entrypoint, healthcheck.test), which are replaced, and resources with a unique key (ports,
// volumes by target, expose, env_file, dns), which are merged without duplicates. environment, labels,
// build.args, extra_hosts, depends_on and networks may be written as lists or maps: both become maps first.
import type { LMap, LNode, LScalar, LSeq } from './tree.ts';

/** `override` applied on top of `base` (two whole files). */
export function mergeFiles(base: LNode, override: LNode): LNode {
  return mergeAt(base, override, []);
}

const REPLACED = new Set(['command', 'entrypoint']);
const MAP_OR_LIST = new Set(['environment', 'labels', 'extra_hosts', 'depends_on', 'networks']);
const UNIQUE = new Set(['expose', 'env_file', 'dns', 'dns_search', 'ports']);

function mergeAt(base: LNode, override: LNode, path: readonly string[]): LNode {
  // `key:` with no value in an override file leaves the base's mapping as it was
  if (override.kind === 'scalar' && override.value === null && base.kind === 'map') return base;
  const inService = path.length === 3 && path[0] === 'services';
  const key = path[path.length - 1] ?? '';
  if (inService && REPLACED.has(key)) return override;
  if (path.length === 4 && path[0] === 'services' && path[2] === 'healthcheck' && key === 'test')
    return override;
  if (inService && key === 'build') return mergeMaps(buildAsMap(base), buildAsMap(override), path);
  if ((inService && MAP_OR_LIST.has(key)) || (path.length === 4 && path[2] === 'build' && key === 'args')) {
    return mergeMaps(listAsMap(base), listAsMap(override), path);
  }
  if (inService && key === 'volumes' && base.kind === 'seq' && override.kind === 'seq') {
    return mergeByKey(base, override, volumeTarget);
  }
  if (inService && UNIQUE.has(key) && base.kind === 'seq' && override.kind === 'seq') {
    return mergeByKey(base, override, (n) =>
      n.kind === 'scalar' ? String(n.value) : JSON.stringify(plain(n)),
    );
  }
  if (base.kind === 'map' && override.kind === 'map') return mergeMaps(base, override, path);
  if (base.kind === 'seq' && override.kind === 'seq') {
    return { kind: 'seq', pos: override.pos, items: [...base.items, ...override.items] };
  }
  return override;
}

function mergeMaps(base: LNode, override: LNode, path: readonly string[]): LNode {
  if (base.kind !== 'map' || override.kind !== 'map') return override;
  const entries = new Map(base.entries);
  const keyPos = new Map(base.keyPos);
  for (const [k, v] of override.entries) {
    const old = entries.get(k);
    entries.set(k, old === undefined ? v : mergeAt(old, v, [...path, k]));
    keyPos.set(k, override.keyPos.get(k) ?? override.pos);
  }
  return { kind: 'map', pos: base.pos, entries, keyPos };
}

/** Later entries replace earlier ones with the same key, in place; new ones are appended. */
function mergeByKey(base: LSeq, override: LSeq, keyOf: (n: LNode) => string): LSeq {
  const items = [...base.items];
  for (const item of override.items) {
    const k = keyOf(item);
    const at = items.findIndex((old) => keyOf(old) === k);
    if (at >= 0) items[at] = item;
    else items.push(item);
  }
  return { kind: 'seq', pos: override.pos, items };
}

/** `["A=1", "B"]` → `{A: "1", B: null}`; `["db"]` (depends_on, networks) → `{db: null}`. */
function listAsMap(node: LNode): LNode {
  if (node.kind !== 'seq') return node;
  const entries = new Map<string, LNode>();
  const keyPos = new Map<string, LScalar['pos']>();
  for (const item of node.items) {
    if (item.kind !== 'scalar' || item.value === null) return node; // invalid: left for validation to report
    const text = String(item.value);
    const eq = text.indexOf('=');
    const name = eq < 0 ? text : text.slice(0, eq);
    entries.set(name, { kind: 'scalar', pos: item.pos, value: eq < 0 ? null : text.slice(eq + 1) });
    keyPos.set(name, item.pos);
  }
  return { kind: 'map', pos: node.pos, entries, keyPos } satisfies LMap;
}

function buildAsMap(node: LNode): LNode {
  if (node.kind !== 'scalar' || typeof node.value !== 'string') return node;
  return {
    kind: 'map',
    pos: node.pos,
    entries: new Map([['context', node]]),
    keyPos: new Map([['context', node.pos]]),
  };
}

/** The container path of a service volume, short (`src:dst[:mode]`) or long (`target:`) form. */
function volumeTarget(node: LNode): string {
  if (node.kind === 'map') {
    const t = node.entries.get('target');
    return t?.kind === 'scalar' ? String(t.value) : '';
  }
  if (node.kind !== 'scalar') return '';
  const parts = String(node.value).split(':');
  return parts.length === 1 ? (parts[0] ?? '') : (parts[1] ?? '');
}

/** The plain value of a subtree (for keys and for `compose config`). */
export function plain(node: LNode): unknown {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'seq') return node.items.map(plain);
  return Object.fromEntries([...node.entries].map(([k, v]) => [k, plain(v)]));
}
