// tsnet-bridge: the docker0 driver. Each verb reads as the steps of the operation; the steps live in
// pkg/bridge (data plane), pkg/ipam (addresses) and pkg/nft (masquerade, published ports).

import { pickCniArgs } from '../cni/env.ts';
import { CniError, ErrorCode } from '../cni/errors.ts';
import { netnsStillExists, requireNetns } from '../cni/netns.ts';
import type { AttachmentArgs, CniPlugin, GcArgs } from '../cni/skel.ts';
import type { Result } from '../cni/types.ts';
import { parsePrevResult } from '../cni/version.ts';
import { configureContainerInterface } from '../ipam/configure.ts';
import {
  checkIpamConfig,
  runIpamAdd,
  runIpamCheck,
  runIpamDel,
  runIpamGc,
  runIpamStatus,
} from '../ipam/invoke.ts';
import { Handle } from '../netlink/handle.ts';
import type { Link } from '../netlink/link.ts';
import {
  addPortMappings,
  allowLocalhostPortmap,
  ensureMasquerade,
  removeMasquerade,
  removePortMappings,
} from '../nft/index.ts';
import { faultPoint } from '../testing/fault.ts';
import { type BridgeConf, loadBridgeConf } from './config.ts';
import {
  attachToEnsuredBridge,
  createVethPair,
  deleteBridgeIfUnused,
  deleteVethPair,
  enableForwarding,
  ensureBridge,
  ensureGatewayAddresses,
  putPortInVlan,
  subnetsOf,
  withGateways,
} from './dataplane.ts';

/** The plugin runs in the node's namespace: that is where the bridge lives. */
const NODE_NETNS = '/proc/self/ns/net';

function bridgeConfOf(args: AttachmentArgs | GcArgs): BridgeConf {
  const mac = pickCniArgs(args.args, ['MAC', 'IP']).MAC;
  return loadBridgeConf(args.config, mac);
}

async function add(args: AttachmentArgs): Promise<Result> {
  const conf = bridgeConfOf(args);
  requireNetns(args.netns);
  checkIpamConfig(args);
  const node = Handle.open();
  const container = Handle.open(args.netns);
  let createdBridge: Link | undefined;
  let hostVeth: string | undefined;
  let ipamDone = false;
  try {
    const bridgeOpts = {
      name: conf.bridge,
      mtu: conf.mtu,
      promisc: conf.promiscMode,
      vlanFiltering: conf.vlan !== undefined,
    };
    const { bridge: found, created } = await ensureBridge(node, bridgeOpts);
    if (created) createdBridge = found;
    const veth = await createVethPair(node, container, {
      containerNetns: args.netns,
      ifname: args.ifname,
      mtu: conf.mtu,
      mac: conf.mac,
    });
    hostVeth = veth.host.name;
    faultPoint('bridge-after-veth');
    const { port, bridge } = await attachToEnsuredBridge(
      node,
      veth.host,
      found,
      bridgeOpts,
      conf.hairpinMode,
    );
    if (conf.vlan !== undefined) await putPortInVlan(node, port, bridge, conf.vlan, conf.isGateway);

    const ipam = await runIpamAdd(args);
    ipamDone = true;
    faultPoint('bridge-after-ipam');
    const ips = withGateways(ipam.ips ?? [], conf.isGateway);
    if (ips.length === 0) throw new CniError(ErrorCode.Internal, 'IPAM returned no IP address');
    const routes = await configureContainerInterface(
      container,
      veth.container,
      ips,
      ipam.routes ?? [],
      conf.isDefaultGateway,
    );
    faultPoint('bridge-after-address');

    if (conf.isGateway) {
      await ensureGatewayAddresses(node, bridge, ips, conf.forceAddress);
      enableForwarding(NODE_NETNS, ips);
    }
    if (conf.ipMasq) {
      await ensureMasquerade(NODE_NETNS, {
        network: conf.network,
        subnet: subnetsOf(ips),
        excludeDestinations: conf.ipMasqExcludes,
      });
    }
    if (conf.portMappings.length > 0) {
      // Published ports answer on the node's 127.0.0.1 too (as with the reference portmap plugin).
      await allowLocalhostPortmap(NODE_NETNS, conf.bridge);
      await addPortMappings(NODE_NETNS, {
        containerId: args.containerId,
        network: conf.network,
        containerIPs: ips.map((ipc) => ipc.address),
        mappings: conf.portMappings.map((m) => ({ ...m, protocol: normaliseProtocol(m.protocol) })),
      });
    }

    const finalBridge = await node.linkGet(bridge.index);
    return {
      cniVersion: args.config.cniVersion,
      interfaces: [
        { name: finalBridge.name, mac: finalBridge.mac },
        { name: port.name, mac: port.mac },
        { name: veth.container.name, mac: veth.container.mac, sandbox: args.netns },
      ],
      ips: ips.map((ipc) => ({ ...ipc, interface: 2 })),
      routes,
      dns: args.config.dns ?? ipam.dns ?? {},
    };
  } catch (err) {
    // Roll back what this ADD made; the bridge is shared and stays, as in the reference plugin.
    if (hostVeth) await deleteVethPair(node, hostVeth).catch(() => undefined);
    if (createdBridge) await deleteBridgeIfUnused(node, createdBridge).catch(() => undefined);
    if (ipamDone) await runIpamDel(args).catch(() => undefined);
    if (conf.portMappings.length > 0) {
      await removePortMappings(NODE_NETNS, args.containerId, conf.network).catch(() => undefined);
    }
    throw err;
  } finally {
    container.close();
    node.close();
  }
}

function normaliseProtocol(protocol: string | undefined): 'tcp' | 'udp' | 'sctp' {
  const p = (protocol ?? 'tcp').toLowerCase();
  if (p === 'tcp' || p === 'udp' || p === 'sctp') return p;
  throw new CniError(
    ErrorCode.InvalidNetworkConfig,
    `port mapping protocol ${JSON.stringify(protocol)}: use tcp, udp or sctp`,
  );
}

async function del(args: AttachmentArgs): Promise<void> {
  const conf = bridgeConfOf(args);
  // Addresses are released first and always, also when the container's namespace is already gone.
  await runIpamDel(args);
  if (conf.portMappings.length > 0 || args.config.capabilities?.['portMappings']) {
    await removePortMappings(NODE_NETNS, args.containerId, conf.network);
  }
  if (!netnsStillExists(args.netns)) return;
  await Handle.with(args.netns, (container) => container.linkDelByName(args.ifname));
}

async function check(args: AttachmentArgs): Promise<void> {
  const conf = bridgeConfOf(args);
  const prev = parsePrevResult(args.config);
  if (!prev) throw new CniError(ErrorCode.InvalidNetworkConfig, 'CHECK needs the prevResult of the ADD');
  requireNetns(args.netns);
  await runIpamCheck(args);
  await Handle.with(undefined, async (node) => {
    const bridge = await node.linkFind(conf.bridge);
    if (bridge?.info.kind !== 'bridge') {
      throw new CniError(ErrorCode.Internal, `bridge ${conf.bridge} is missing`);
    }
    const hostName = prev.interfaces?.find((i) => !i.sandbox && i.name !== conf.bridge)?.name;
    const host = hostName ? await node.linkFind(hostName) : undefined;
    if (!host || host.masterIndex !== bridge.index) {
      throw new CniError(
        ErrorCode.Internal,
        `host veth ${hostName ?? '(none in prevResult)'} is not attached to ${conf.bridge}`,
      );
    }
  });
  await Handle.with(args.netns, async (container) => {
    const iface = await container.linkFind(args.ifname);
    if (!iface)
      throw new CniError(ErrorCode.Internal, `interface ${args.ifname} is missing in ${args.netns}`);
    if (!iface.up) throw new CniError(ErrorCode.Internal, `interface ${args.ifname} is down`);
    if (conf.mtu !== undefined && iface.mtu !== conf.mtu) {
      throw new CniError(
        ErrorCode.Internal,
        `interface ${args.ifname} has MTU ${iface.mtu}, configured ${conf.mtu}`,
      );
    }
    const addrs = new Set((await container.addrList({ index: iface.index })).map((a) => a.cidr));
    for (const ipc of prev.ips ?? []) {
      if (!addrs.has(ipc.address)) {
        throw new CniError(ErrorCode.Internal, `interface ${args.ifname} lacks address ${ipc.address}`);
      }
    }
  });
}

async function gc(args: GcArgs): Promise<void> {
  await runIpamGc(args);
  // With no attachment left the network's per-network rules go too: masquerade is installed once per
  // network, so it is removed once, when the runtime says nothing uses the network any more.
  if (args.validAttachments.length === 0) await removeMasquerade(NODE_NETNS, args.config.name);
}

export const tsnetBridge: CniPlugin = {
  name: 'tsnet-bridge',
  about:
    'tsnet-bridge: Linux bridge + veth driver (docker0 style) with per-network masquerade and port publishing',
  add,
  del,
  check,
  status: (args) => runIpamStatus(args),
  gc,
};
