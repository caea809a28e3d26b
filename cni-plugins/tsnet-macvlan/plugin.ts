// tsnet-macvlan: the container gets a macvlan of a node interface (or of one already in its namespace) with
// addresses from IPAM. Each verb reads as the steps of the operation; the steps live in pkg/macvlan (links),
// pkg/ipam (addresses) and pkg/bridge's container-interface configuration.

import { pickCniArgs } from '../../pkg/cni/env.ts';
import { CniError, ErrorCode } from '../../pkg/cni/errors.ts';
import { isContainerNetnsToClean, requireContainerNetns, requireNetns } from '../../pkg/cni/netns.ts';
import type { AttachmentArgs, CniPlugin, GcArgs, NetworkArgs } from '../../pkg/cni/skel.ts';
import type { IPConfig, Result, Route } from '../../pkg/cni/types.ts';
import { withUndo } from '../../pkg/cni/undo.ts';
import { parsePrevResult } from '../../pkg/cni/version.ts';
import { configureContainerInterface } from '../../pkg/ipam/configure.ts';
import { runIpamAdd, runIpamCheck, runIpamDel, runIpamGc, runIpamStatus } from '../../pkg/ipam/invoke.ts';
import { loadMacvlanConf, type MacvlanConf } from '../../pkg/macvlan/config.ts';
import {
  createMacvlan,
  deleteMacvlan,
  findMaster,
  macvlanMtu,
  verifyMacvlan,
} from '../../pkg/macvlan/dataplane.ts';
import { Handle } from '../../pkg/netlink/handle.ts';

function macvlanConfOf(args: NetworkArgs): MacvlanConf {
  return loadMacvlanConf(args.config, pickCniArgs(args.args, ['MAC', 'IP']).MAC);
}

/** Where the master is looked up: the node's namespace, or the container's with `linkInContainer`. */
function masterNamespace(conf: MacvlanConf): string {
  return conf.linkInContainer ? 'container' : 'node';
}

/** Runs `fn` with handles on the container's namespace and on the one holding the master. */
async function withNamespaces<T>(
  conf: MacvlanConf,
  netns: string,
  fn: (container: Handle, masterNs: Handle) => Promise<T>,
): Promise<T> {
  const container = Handle.open(netns);
  const masterNs = conf.linkInContainer ? container : Handle.open();
  try {
    return await fn(container, masterNs);
  } finally {
    if (masterNs !== container) masterNs.close();
    container.close();
  }
}

async function add(args: AttachmentArgs): Promise<Result> {
  const conf = macvlanConfOf(args);
  requireContainerNetns(args.netns, 'tsnet-macvlan');
  return withNamespaces(conf, args.netns, (container, masterNs) =>
    withUndo(async (undo) => {
      const master = await findMaster(masterNs, conf.master, masterNamespace(conf));
      const link = await createMacvlan(masterNs, container, master, {
        ifname: args.ifname,
        mode: conf.mode,
        mtu: macvlanMtu(master, conf.mtu),
        mac: conf.mac,
        containerNetns: conf.linkInContainer ? undefined : args.netns,
      });
      undo.push(`macvlan ${args.ifname}`, () =>
        deleteMacvlan(container, args.ifname, master, !conf.linkInContainer),
      );

      let ips: IPConfig[] = [];
      let routes: Route[] = [];
      let dns = args.config.dns;
      if (conf.hasIpam) {
        const ipam = await runIpamAdd(args);
        undo.push('IPAM allocation', () => runIpamDel(args));
        ips = ipam.ips ?? [];
        if (ips.length === 0) throw new CniError(ErrorCode.Internal, 'IPAM returned no IP address');
        routes = await configureContainerInterface(container, link, ips, ipam.routes ?? [], false);
        dns ??= ipam.dns;
      } else {
        await container.linkSetUp(link.index); // L2 only: an interface without addresses
      }

      const final = await container.linkGet(link.index);
      return {
        cniVersion: args.config.cniVersion,
        interfaces: [{ name: final.name, mac: final.mac, sandbox: args.netns }],
        ips: ips.map((ipc) => ({ ...ipc, interface: 0 })),
        routes,
        dns: dns ?? {},
      };
    }),
  );
}

async function del(args: AttachmentArgs): Promise<void> {
  const conf = macvlanConfOf(args);
  // Addresses are released first and always, also when the container's namespace is already gone.
  if (conf.hasIpam) await runIpamDel(args);
  // Only what ADD made is deleted: never a link of the node's own namespace, never a link it did not make.
  if (!isContainerNetnsToClean(args.netns)) return;
  await withNamespaces(conf, args.netns, async (container, masterNs) => {
    const master = await findMaster(masterNs, conf.master, masterNamespace(conf)).catch((err: unknown) => {
      if (err instanceof CniError) return undefined; // the master is gone, and its macvlans with it
      throw err;
    });
    if (master) await deleteMacvlan(container, args.ifname, master, !conf.linkInContainer);
  });
}

async function check(args: AttachmentArgs): Promise<void> {
  const conf = macvlanConfOf(args);
  const prev = parsePrevResult(args.config);
  if (!prev) throw new CniError(ErrorCode.InvalidNetworkConfig, 'CHECK needs the prevResult of the ADD');
  requireNetns(args.netns);
  if (conf.hasIpam) await runIpamCheck(args);
  await withNamespaces(conf, args.netns, async (container, masterNs) => {
    const master = await findMaster(masterNs, conf.master, masterNamespace(conf));
    const link = verifyMacvlan(await container.linkFind(args.ifname), {
      ifname: args.ifname,
      master,
      mode: conf.mode,
      mtu: conf.mtu,
      masterElsewhere: !conf.linkInContainer,
    });
    const reported = prev.interfaces?.find((i) => i.name === args.ifname && i.sandbox);
    if (reported?.mac && reported.mac.toLowerCase() !== link.mac?.toLowerCase()) {
      throw new CniError(
        ErrorCode.Internal,
        `container interface ${args.ifname} has MAC ${link.mac}, prevResult says ${reported.mac}`,
      );
    }
    const addrs = new Set((await container.addrList({ index: link.index })).map((a) => a.cidr));
    for (const ipc of prev.ips ?? []) {
      if (!addrs.has(ipc.address)) {
        throw new CniError(ErrorCode.Internal, `interface ${args.ifname} lacks address ${ipc.address}`);
      }
    }
  });
}

/** ADD can be served when the master exists (in the node's namespace) and IPAM can serve. */
async function status(args: NetworkArgs): Promise<void> {
  const conf = macvlanConfOf(args);
  if (!conf.linkInContainer) {
    await Handle.with(undefined, async (node) => {
      try {
        await findMaster(node, conf.master, 'node');
      } catch (err) {
        const reason = err instanceof CniError ? err.msg : (err as Error).message;
        throw new CniError(ErrorCode.PluginNotAvailable, reason);
      }
    });
  }
  if (conf.hasIpam) await runIpamStatus(args);
}

async function gc(args: GcArgs): Promise<void> {
  if (macvlanConfOf(args).hasIpam) await runIpamGc(args);
}

export const tsnetMacvlan: CniPlugin = {
  name: 'tsnet-macvlan',
  about: 'tsnet-macvlan: macvlan driver (bridge, vepa, private, passthru) with IPAM',
  add,
  del,
  check,
  status,
  gc,
};
