// Allocation policy, host-local's: one address per range set per ADD, round-robin from the address after
// the last one reserved (so a crash-looping container does not get the same address back at once),
// wrapping around, never the gateway, the network address or the IPv4 broadcast address.

import { CniError, ErrorCode } from '../cni/errors.ts';
import { formatIp, type IpAddress, lastAddressOf } from '../ip/address.ts';
import { formatRangeSet, type IpRange, type RangeSet, rangeFor } from './config.ts';
import { type Allocation, type AllocationStore, type Attachment, ownedBy } from './store.ts';

export interface AllocatedAddress {
  readonly rangeSetIndex: number;
  readonly address: IpAddress;
  readonly prefix: number;
  readonly gateway: IpAddress;
}

/** Addresses of a range never handed out, whatever rangeStart/rangeEnd say. */
function reservedValues(range: IpRange): Set<bigint> {
  const values = new Set([range.gateway, range.subnet.network]);
  if (range.subnet.family === 4) values.add(lastAddressOf(range.subnet));
  return values;
}

function isAllocatable(range: IpRange, value: bigint): boolean {
  const { subnet } = range;
  return (
    value !== range.gateway &&
    value !== subnet.network &&
    !(subnet.family === 4 && value === lastAddressOf(subnet))
  );
}

/** How many addresses the set can hand out in total: arithmetic, no enumeration. */
export function capacityOf(set: RangeSet): bigint {
  let total = 0n;
  for (const range of set.ranges) {
    total += range.rangeEnd - range.rangeStart + 1n;
    for (const value of reservedValues(range)) {
      if (value >= range.rangeStart && value <= range.rangeEnd) total -= 1n;
    }
  }
  return total;
}

/** The allocations that fall inside the set's ranges (and so count against its capacity). */
export function allocationsIn(set: RangeSet, allocations: readonly Allocation[]): Allocation[] {
  return allocations.filter((a) => {
    const range = rangeFor(set, a.ip);
    return range !== undefined && isAllocatable(range, a.ip.value);
  });
}

/**
 * Candidate addresses in round-robin order: from the one after `last` (or from the first range's start
 * when `last` is not in the set), through every range, wrapping, until back where it started.
 */
function* roundRobin(
  set: RangeSet,
  last: IpAddress | undefined,
): Generator<{ range: IpRange; value: bigint }> {
  const ranges = set.ranges;
  let index = 0;
  let value = ranges[0]?.rangeStart ?? 0n;
  const lastRange = last ? rangeFor(set, last) : undefined;
  if (last && lastRange) {
    index = ranges.indexOf(lastRange);
    value = last.value + 1n;
    if (value > lastRange.rangeEnd) {
      index = (index + 1) % ranges.length;
      value = (ranges[index] as IpRange).rangeStart;
    }
  }
  const startIndex = index;
  const startValue = value;
  do {
    const range = ranges[index] as IpRange;
    if (isAllocatable(range, value)) yield { range, value };
    if (value < range.rangeEnd) {
      value += 1n;
    } else {
      index = (index + 1) % ranges.length;
      value = (ranges[index] as IpRange).rangeStart;
    }
  } while (index !== startIndex || value !== startValue);
}

function exhausted(set: RangeSet): CniError {
  return new CniError(
    ErrorCode.TryAgainLater,
    `no IP addresses available in range set: ${formatRangeSet(set)}`,
    'release addresses (DEL or GC) or add a range',
  );
}

async function reserveRequested(
  store: AllocationStore,
  set: RangeSet,
  rangeSetIndex: number,
  owner: Attachment,
  requested: IpAddress,
): Promise<AllocatedAddress> {
  const text = formatIp(requested);
  const range = rangeFor(set, requested);
  if (!range) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `requested IP ${text} is not in range set ${formatRangeSet(set)}`,
    );
  }
  if (requested.value === range.gateway) {
    throw new CniError(ErrorCode.InvalidNetworkConfig, `requested IP ${text} is the subnet's gateway`);
  }
  if (!isAllocatable(range, requested.value)) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `requested IP ${text} is the network or broadcast address`,
    );
  }
  if (!(await store.reserve(requested, owner, rangeSetIndex))) {
    throw new CniError(
      ErrorCode.TryAgainLater,
      `requested IP address ${text} is not available in range set ${formatRangeSet(set)}`,
    );
  }
  return allocated(rangeSetIndex, range, requested.value);
}

function allocated(rangeSetIndex: number, range: IpRange, value: bigint): AllocatedAddress {
  const family = range.subnet.family;
  return {
    rangeSetIndex,
    address: { family, value },
    prefix: range.subnet.prefix,
    gateway: { family, value: range.gateway },
  };
}

/**
 * Reserves one address of `set` for `owner`; must run under the store's lock. `existing` is the store's
 * allocations read under that same lock. A second ADD for an attachment that already holds an address in
 * the set is refused, as host-local refuses it (the spec forbids ADD twice without DEL).
 */
export async function allocateFromRangeSet(
  store: AllocationStore,
  set: RangeSet,
  rangeSetIndex: number,
  owner: Attachment,
  existing: readonly Allocation[],
  requested?: IpAddress,
): Promise<AllocatedAddress> {
  const inSet = allocationsIn(set, existing);
  const held = inSet.find((a) => ownedBy(a, owner));
  if (held) {
    throw new CniError(
      ErrorCode.Internal,
      `${formatIp(held.ip)} has been allocated to ${owner.containerID} (${owner.ifname}), duplicate allocation is not allowed`,
      'run DEL for this container and interface before ADD',
    );
  }
  if (requested) return reserveRequested(store, set, rangeSetIndex, owner, requested);

  if (BigInt(inSet.length) >= capacityOf(set)) throw exhausted(set);
  const used = new Set(inSet.map((a) => a.ip.value));
  for (const { range, value } of roundRobin(set, await store.lastReserved(rangeSetIndex))) {
    if (used.has(value)) continue;
    if (await store.reserve({ family: set.family, value }, owner, rangeSetIndex)) {
      return allocated(rangeSetIndex, range, value);
    }
  }
  throw exhausted(set);
}
