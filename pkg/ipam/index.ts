// tsnet's IPAM, host-local semantics, as library functions with no process-global state: the tsnet-ipam
// plugin calls them, and so does a main plugin running IPAM in-process (same store, same lock, same result).
import { validateContainerId, validateInterfaceName } from '../cni/env.ts';
import { CniError, ErrorCode } from '../cni/errors.ts';
import type { DNS, GcAttachment, IpamResult } from '../cni/types.ts';
import { CURRENT_VERSION } from '../cni/version.ts';
import { formatIp, type IpAddress, subnetContains } from '../ip/address.ts';
import { type AllocatedAddress, allocateFromRangeSet, allocationsIn, capacityOf } from './allocator.ts';
import { formatRangeSet, type IpamConfig } from './config.ts';
import { readResolvConf } from './dns.ts';
import { SharedPoolStore } from './shared-pool.ts';
import { type Allocation, type AllocationStore, type Attachment, DiskStore, ownedBy } from './store.ts';

export { formatIp, type IpAddress, parseIp } from '../ip/address.ts';
export { DEFAULT_DATA_DIR, type IpamConfig, type IpamEnvArgs, loadIpamConfig } from './config.ts';
export { type Allocation, type AllocationStore, type Attachment, DiskStore } from './store.ts';

export interface IpamOptions {
  /** Where allocations live; defaults to host-local's layout under `conf.dataDir`. */
  store?: AllocationStore;
}

function storeOf(conf: IpamConfig, options: IpamOptions): AllocationStore {
  if (options.store) return options.store;
  return conf.sharedPool
    ? new SharedPoolStore(conf.dataDir, conf.network)
    : new DiskStore(conf.dataDir, conf.network);
}

function validateAttachment(owner: Attachment): void {
  validateContainerId(owner.containerID);
  validateInterfaceName(owner.ifname);
}

function toIpConfig(a: AllocatedAddress): { address: string; gateway: string } {
  return { address: `${formatIp(a.address)}/${a.prefix}`, gateway: formatIp(a.gateway) };
}

/** Which requested IP, if any, is meant for a range set: the first one inside one of its subnets. */
function takeRequested(conf: IpamConfig, setIndex: number, pending: IpAddress[]): IpAddress | undefined {
  const set = conf.rangeSets[setIndex];
  const i = pending.findIndex((ip) => set?.ranges.some((r) => subnetContains(r.subnet, ip)));
  return i < 0 ? undefined : pending.splice(i, 1)[0];
}

/** An ADD's addresses, reserved (every later ADD sees them taken), and when they are durable. */
export interface IpamReservation {
  readonly result: IpamResult;
  /**
   * Settles once the reservation is on disk. A rejection means it is not: the ADD must fail, and the
   * caller gives the addresses back (its IPAM DEL), after taking them off the interface it configured. The
   * caller may do its other work meanwhile, but answers only after this, success or failure.
   */
  readonly durable: Promise<void>;
}

/**
 * ADD: one address from every range set for `owner`, under the store's lock, and durable before it
 * resolves. Nothing stays reserved if any range set fails.
 */
export async function ipamAdd(
  conf: IpamConfig,
  owner: Attachment,
  options: IpamOptions = {},
): Promise<IpamResult> {
  const store = storeOf(conf, options);
  const { result, durable, addresses } = await reserve(conf, owner, store);
  try {
    await durable;
  } catch (err) {
    // Not durable, so not handed out: the addresses go back, under the lock again, those still recorded
    // for this attachment only (between the two holds a DEL or GC may have freed one, and another ADD taken
    // it).
    const mine = (a: Allocation) =>
      ownedBy(a, owner) &&
      addresses.some((r) => r.address.family === a.ip.family && r.address.value === a.ip.value);
    await store.withLock(() => releaseWhere(store, mine)).catch(() => undefined);
    throw err;
  }
  return result;
}

/** ipamAdd, handing back the addresses before the wait for the disk (see IpamReservation). */
export async function ipamReserve(
  conf: IpamConfig,
  owner: Attachment,
  options: IpamOptions = {},
): Promise<IpamReservation> {
  return reserve(conf, owner, storeOf(conf, options));
}

async function reserve(
  conf: IpamConfig,
  owner: Attachment,
  store: AllocationStore,
): Promise<IpamReservation & { readonly addresses: readonly AllocatedAddress[] }> {
  validateAttachment(owner);
  const dns: DNS = conf.resolvConf ? readResolvConf(conf.resolvConf) : {};
  const addresses = await store.withLock(async () => {
    const existing = await withoutEmptyRecords(store, await store.allocations());
    const pending = [...conf.requestedIps];
    const reserved: AllocatedAddress[] = [];
    try {
      for (const [index, set] of conf.rangeSets.entries()) {
        const requested = takeRequested(conf, index, pending);
        reserved.push(await allocateFromRangeSet(store, set, index, owner, existing, requested));
      }
      if (pending.length > 0) {
        throw new CniError(
          ErrorCode.InvalidNetworkConfig,
          `failed to allocate all requested IPs: ${pending.map(formatIp).join(' ')}`,
          'a requested IP must lie in a subnet of a range set, at most one per range set',
        );
      }
    } catch (err) {
      for (const a of reserved) await store.release(a.address);
      throw err;
    }
    return reserved;
  });
  const durable = store.sync();
  durable.catch(() => undefined); // the caller awaits it; a failure must not count as unhandled meanwhile
  const result = {
    cniVersion: CURRENT_VERSION,
    ips: addresses.map(toIpConfig),
    routes: [...conf.routes],
    dns,
  };
  return { result, durable, addresses };
}

/** DEL: releases every address held by `owner`. Idempotent; touches nothing on a network never used. */
export async function ipamDel(
  conf: IpamConfig,
  owner: Attachment,
  options: IpamOptions = {},
): Promise<string[]> {
  validateAttachment(owner);
  const store = storeOf(conf, options);
  if (!(await store.exists())) return [];
  return store.withLock(() => releaseWhere(store, (a) => a.ownerless === 'empty' || ownedBy(a, owner)));
}

/**
 * Releases the empty records in `allocations` and returns the rest. A record is written before it is visible,
 * and host-local writes its own under the lock too, so an empty one seen under the lock is a killed writer's
 * and no one's; left alone it would hold its address for ever.
 */
async function withoutEmptyRecords(
  store: AllocationStore,
  allocations: readonly Allocation[],
): Promise<Allocation[]> {
  const kept: Allocation[] = [];
  for (const a of allocations) {
    if (a.ownerless === 'empty') await store.release(a.ip);
    else kept.push(a);
  }
  return kept;
}

async function releaseWhere(store: AllocationStore, stale: (a: Allocation) => boolean): Promise<string[]> {
  const released: string[] = [];
  for (const allocation of await store.allocations()) {
    if (!stale(allocation)) continue;
    await store.release(allocation.ip);
    released.push(formatIp(allocation.ip));
  }
  return released;
}

/** CHECK: `owner` holds an address in every range set (code 3 otherwise). */
export async function ipamCheck(
  conf: IpamConfig,
  owner: Attachment,
  options: IpamOptions = {},
): Promise<void> {
  validateAttachment(owner);
  const store = storeOf(conf, options);
  const held = (await store.exists()) ? await store.withLock(() => store.allocations()) : [];
  const mine = held.filter((a) => ownedBy(a, owner));
  for (const set of conf.rangeSets) {
    if (allocationsIn(set, mine).length === 0) {
      throw new CniError(
        ErrorCode.UnknownContainer,
        `container ${owner.containerID} (${owner.ifname}) holds no address in range set ${formatRangeSet(set)}`,
        `network ${conf.network}, data dir ${conf.dataDir}`,
      );
    }
  }
}

/**
 * GC: releases every allocation whose owner is not in `valid`, and every record that names no owner (empty
 * or unreadable: it can belong to no valid attachment); returns the released addresses.
 */
export async function ipamGc(
  conf: IpamConfig,
  valid: readonly GcAttachment[],
  options: IpamOptions = {},
): Promise<string[]> {
  const store = storeOf(conf, options);
  if (!(await store.exists())) return [];
  return store.withLock(() => releaseWhere(store, (a) => !valid.some((v) => ownedBy(a, v))));
}

/**
 * STATUS: fine when an ADD could succeed: the data dir is writable and no range set is exhausted. Otherwise
 * code 50 (IPAM trouble never takes connectivity away from existing containers, so never 51). Reads without
 * the lock: a status probe must not queue behind ADDs.
 */
export async function ipamStatus(conf: IpamConfig, options: IpamOptions = {}): Promise<void> {
  const store = storeOf(conf, options);
  const unwritable = await store.unwritableReason();
  if (unwritable) throw new CniError(ErrorCode.PluginNotAvailable, unwritable, `network ${conf.network}`);
  const allocations = (await store.exists()) ? await store.allocations() : [];
  for (const set of conf.rangeSets) {
    if (BigInt(allocationsIn(set, allocations).length) >= capacityOf(set)) {
      throw new CniError(
        ErrorCode.PluginNotAvailable,
        `no IP addresses available in range set: ${formatRangeSet(set)}`,
        `network ${conf.network}: every address is allocated; release some (DEL or GC) or add a range`,
      );
    }
  }
}
