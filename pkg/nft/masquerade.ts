// Masquerade of a network's pod subnets, installed once per network: one element per subnet in
// `masq{4,6}_src` and one per (subnet, excluded destination) pair in `masq{4,6}_skip`, every element
// carrying the network name as its comment. Traffic from a subnet to its own subnet, to an excluded
// destination (the cluster network, for the overlay) or to multicast keeps its source; anything else leaving
// the node is masqueraded. The rules themselves never change (see table.ts).

import { byCodeUnits } from '../text/order.ts';
import { type Cidr, cidrText, coveringCidrs, type IpFamily, parseCidr } from './addr.ts';
import { alreadyEnsured, forgetEnsured, rememberEnsured } from './ensured.ts';
import {
  deleteElementsCommands,
  type NewElement,
  readTable,
  reconcileOwnedElements,
  updateTable,
} from './table.ts';

export interface MasqueradeSpec {
  /** Network name; owns the elements (their comment). */
  readonly network: string;
  /** Pod subnet(s) of the network on this node, IPv4 and/or IPv6. */
  readonly subnet: string | readonly string[];
  /** Destinations reached without masquerade besides the subnet itself (e.g. the cluster CIDR). */
  readonly excludeDestinations?: readonly string[];
}

export interface MasqueradeEntry {
  readonly network: string;
  readonly subnets: string[];
  /** Excluded destinations per subnet (the subnet itself included), as `SUBNET -> DEST`. */
  readonly excluded: { subnet: string; destination: string }[];
}

// Network names become nft comments (at most 128 bytes) and must not be confused with tsnet's own markers.
const NETWORK_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export function validateNetworkName(network: string): void {
  if (!NETWORK_RE.test(network)) {
    throw new Error(
      `invalid network name ${JSON.stringify(network)}: 1-100 characters of letters, digits, '_', '.', '-'`,
    );
  }
}

const srcSet = (f: IpFamily) => `masq${f}_src`;
const skipSet = (f: IpFamily) => `masq${f}_skip`;
const isMasqSet = (name: string) => /^masq[46]_(src|skip)$/.test(name);
const prefixExpr = (c: Cidr) => ({ prefix: { addr: c.network, len: c.prefix } });

function desiredElements(spec: MasqueradeSpec): NewElement[] {
  validateNetworkName(spec.network);
  const subnetTexts = typeof spec.subnet === 'string' ? [spec.subnet] : [...spec.subnet];
  if (subnetTexts.length === 0) throw new Error(`masquerade for network ${spec.network}: no subnet given`);
  const subnets = subnetTexts.map((s) => parseCidr(s, `subnet of network ${spec.network}`));
  const excludes = (spec.excludeDestinations ?? []).map((s) =>
    parseCidr(s, `excluded destination of network ${spec.network}`),
  );
  const out: NewElement[] = [];
  for (const subnet of coveringCidrs(subnets)) {
    const f = subnet.family;
    out.push({ set: srcSet(f), key: prefixExpr(subnet), comment: spec.network });
    // Pairs must not overlap inside the set (the kernel refuses): keep only destinations no other one covers.
    for (const dest of coveringCidrs([subnet, ...excludes.filter((e) => e.family === f)])) {
      out.push({
        set: skipSet(f),
        key: { concat: [prefixExpr(subnet), prefixExpr(dest)] },
        comment: spec.network,
      });
    }
  }
  return out;
}

/**
 * Makes the network's masquerade exactly `spec` in the namespace at `nsPath` (installing the table when
 * needed). Idempotent: a repeated call with the same spec changes nothing; safe to run concurrently.
 * Resolves true when the network had no masquerade before (this call installed it: the caller's undo).
 */
export async function ensureMasquerade(nsPath: string, spec: MasqueradeSpec): Promise<boolean> {
  const desired = desiredElements(spec);
  // A warm agent ensures the same network on every ADD: once in place, it is not read back again.
  const key = `masquerade ${spec.network}`;
  const state = JSON.stringify(desired);
  if (alreadyEnsured(nsPath, key, state)) return false;
  let installed = false;
  try {
    await updateTable(nsPath, `masquerade network ${spec.network}`, { install: true }, (view) => {
      installed = !view.elements.some((e) => isMasqSet(e.set) && e.comment === spec.network);
      return reconcileOwnedElements(view, spec.network, isMasqSet, desired, (e) =>
        e.set.endsWith('_src') ? `masquerade of ${e.keyText}` : `masquerade exception ${e.keyText}`,
      );
    });
  } catch (err) {
    forgetEnsured(nsPath, key);
    throw err;
  }
  rememberEnsured(nsPath, key, state);
  return installed;
}

/** Removes the network's masquerade; returns false when it had none. */
export async function removeMasquerade(nsPath: string, network: string): Promise<boolean> {
  validateNetworkName(network);
  forgetEnsured(nsPath, `masquerade ${network}`);
  let removed = false;
  await updateTable(nsPath, `remove masquerade of network ${network}`, { install: false }, (view) => {
    const owned = view.elements.filter((e) => isMasqSet(e.set) && e.comment === network);
    removed = owned.length > 0;
    return deleteElementsCommands(owned);
  });
  return removed;
}

/** The masqueraded networks of the namespace, as read back from the kernel. */
export async function listMasquerade(nsPath: string): Promise<MasqueradeEntry[]> {
  const view = await readTable(nsPath);
  const byNetwork = new Map<string, MasqueradeEntry>();
  for (const e of view.elements) {
    if (!isMasqSet(e.set) || e.comment === undefined) continue;
    const entry = byNetwork.get(e.comment) ?? { network: e.comment, subnets: [], excluded: [] };
    byNetwork.set(e.comment, entry);
    if (e.set.endsWith('_src')) entry.subnets.push(withPrefix(e.keyText));
    else {
      const [subnet = '', destination = ''] = e.keyText.split(' . ');
      entry.excluded.push({ subnet: withPrefix(subnet), destination: withPrefix(destination) });
    }
  }
  return [...byNetwork.values()].sort((a, b) => byCodeUnits(a.network, b.network));
}

// exprText prints host prefixes as bare addresses; a listing reads better with every prefix explicit.
function withPrefix(text: string): string {
  return text.includes('/') ? text : cidrText(parseCidr(text));
}
