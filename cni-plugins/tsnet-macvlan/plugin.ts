// tsnet-macvlan: the container gets a macvlan of a node interface (or of one already in its namespace) with
// addresses from IPAM. Each verb reads as the steps of the operation; the steps live in pkg/macvlan (links),
// pkg/ipam (addresses) and pkg/bridge's container-interface configuration.

import { pickCniArgs } from '../../pkg/cni/env.ts';
import { CniError, ErrorCode } from '../../pkg/cni/errors.ts';
import { netnsStillExists, requireNetns } from '../../pkg/cni/netns.ts';
import type { AttachmentArgs, CniPlugin, GcArgs, NetworkArgs } from '../../pkg/cni/skel.ts';
import type { IPConfig, Result, Route } from '../../pkg/cni/types.ts';
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

async function add(args: AttachmentArgs): Promise<Result> {
  const conf = macvlanConfOf(args);
  requireNetns(args.netns);
  const container = Handle.open(args.netns);
  const node = conf.linkInContainer ? container : Handle.open();
  let created = false;
  let ipamDone = false;
  try {
    const master = await findMaster(node, conf.master, masterNamespace(conf));
    const link = await createMacvlan(node, container, master, {
      ifname: args.ifname,
      mode: conf.mode,
      mtu: macvlanMtu(master, conf.mtu),
      mac: conf.mac,
      containerNetns: conf.linkInContainer ? undefined : args.netns,
    });
    created = true;

    let ips: IPConfig[] = [];
    let routes: Route[] = [];
    let dns = args.config.dns;
    if (conf.hasIpam) {
      const ipam = await runIpamAdd(args);
      ipamDone = true;
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
  } catch (err) {
    // Roll back what this ADD made, in reverse order.
    if (ipamDone) await runIpamDel(args).catch(() => undefined);
    if (created) await deleteMacvlan(container, args.ifname).catch(() => undefined);
    throw err;
  } finally {
    if (node !== container) node.close();
    container.close();
  }
}

async function del(args: AttachmentArgs): Promise<void> {
  const conf = macvlanConfOf(args);
  // Addresses are released first and always, also when the container's namespace is already gone.
  if (conf.hasIpam) await runIpamDel(args);
  if (!netnsStillExists(args.netns)) return;
  await Handle.with(args.netns, (container) => deleteMacvlan(container, args.ifname));
}

async function check(args: AttachmentArgs): Promise<void> {
  const conf = macvlanConfOf(args);
  const prev = parsePrevResult(args.config);
  if (!prev) throw new CniError(ErrorCode.InvalidNetworkConfig, 'CHECK needs the prevResult of the ADD');
  requireNetns(args.netns);
  if (conf.hasIpam) await runIpamCheck(args);
  const container = Handle.open(args.netns);
  const node = conf.linkInContainer ? container : Handle.open();
  try {
    const master = await findMaster(node, conf.master, masterNamespace(conf));
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
  } finally {
    if (node !== container) node.close();
    container.close();
  }
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
