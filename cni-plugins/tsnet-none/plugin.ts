// tsnet-none: the container gets loopback only. ADD brings `lo` up in the container's namespace and reports
// it as the reference `loopback` plugin does (CNI_IFNAME is ignored: this only ever configures `lo`).

import { CniError, ErrorCode } from '../../pkg/cni/errors.ts';
import { requireNetns } from '../../pkg/cni/netns.ts';
import type { AttachmentArgs, CniPlugin } from '../../pkg/cni/skel.ts';
import type { IPConfig, Result } from '../../pkg/cni/types.ts';
import { parsePrevResult } from '../../pkg/cni/version.ts';
import type { Address } from '../../pkg/netlink/addr.ts';
import { Handle } from '../../pkg/netlink/handle.ts';
import type { Link } from '../../pkg/netlink/link.ts';

const LOOPBACK = 'lo';

async function findLoopback(h: Handle, netns: string): Promise<Link> {
  const lo = await h.linkFind(LOOPBACK);
  if (!lo) throw new CniError(ErrorCode.Internal, `no loopback interface in ${netns}`);
  return lo;
}

/** The first address of each family, loopback addresses only (as the reference reports them). */
function loopbackAddresses(addrs: readonly Address[]): IPConfig[] {
  const ips: IPConfig[] = [];
  for (const family of [4, 6] as const) {
    const ofFamily = addrs.filter((a) => a.family === family);
    const stray = ofFamily.find((a) => !(family === 4 ? a.address.startsWith('127.') : a.address === '::1'));
    if (stray) {
      throw new CniError(ErrorCode.Internal, `loopback interface has a non-loopback address ${stray.cidr}`);
    }
    const first = ofFamily[0];
    if (first) ips.push({ interface: 0, address: first.cidr });
  }
  return ips;
}

async function add(args: AttachmentArgs): Promise<Result> {
  requireNetns(args.netns);
  const reported = await Handle.with(args.netns, async (container) => {
    const lo = await findLoopback(container, args.netns);
    if (!lo.up) await container.linkSetUp(lo.index);
    const ips = loopbackAddresses(await container.addrList({ index: lo.index }));
    return { lo, ips };
  });
  // Later in a chain, the previous plugin's result passes through unchanged, as with the reference.
  const prev = parsePrevResult(args.config);
  if (prev) return prev;
  return {
    cniVersion: args.config.cniVersion,
    interfaces: [{ name: LOOPBACK, mac: reported.lo.mac ?? '00:00:00:00:00:00', sandbox: args.netns }],
    ips: reported.ips,
    dns: {},
  };
}

/** Nothing to undo: the loopback interface dies with the namespace. */
async function del(): Promise<void> {}

async function check(args: AttachmentArgs): Promise<void> {
  requireNetns(args.netns);
  await Handle.with(args.netns, async (container) => {
    const lo = await findLoopback(container, args.netns);
    if (!lo.up) throw new CniError(ErrorCode.Internal, `loopback interface is down in ${args.netns}`);
  });
}

export const tsnetNone: CniPlugin = {
  name: 'tsnet-none',
  about: 'tsnet-none: loopback only (lo up in the container, nothing else)',
  add,
  del,
  check,
};
