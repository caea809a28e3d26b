// tsnet-bridge: the docker0 driver. Each verb reads as the steps of the operation; the steps live in
// pkg/bridge (data plane), pkg/ipam (addresses) and pkg/nft (masquerade, published ports).

import { pickCniArgs } from '../cni/env.ts';
import { CniError, ErrorCode } from '../cni/errors.ts';
import {
  isContainerNetnsToClean,
  NODE_NETNS,
  requireContainerNetns,
  requireFreeIfname,
  requireNetns,
} from '../cni/netns.ts';
import type { AttachmentArgs, CniPlugin, GcArgs } from '../cni/skel.ts';
import type { IPConfig, Result } from '../cni/types.ts';
import { type UndoStack, withUndo } from '../cni/undo.ts';
import { parsePrevResult } from '../cni/version.ts';
import type { Family } from '../ip/address.ts';
import { configureContainerInterface } from '../ipam/configure.ts';
import {
  checkIpamConfig,
  inProcessConfig,
  runIpamCheck,
  runIpamDel,
  runIpamGc,
  runIpamReserve,
  runIpamStatus,
  TSNET_IPAM_TYPE,
} from '../ipam/invoke.ts';
import { Handle } from '../netlink/handle.ts';
import type { Link } from '../netlink/link.ts';
import {
  addPortMappings,
  allowLocalhostPortmap,
  ensureMasquerade,
  removeMasquerade,
  removePortMappings,
  requireHostPortsFree,
} from '../nft/index.ts';
import { faultPoint } from '../testing/fault.ts';
import { type BridgeConf, loadBridgeConf, mayHavePublishedPorts } from './config.ts';
import {
  type BridgeOptions,
  createVethOnBridge,
  deleteBridgeIfUnused,
  deleteContainerVeth,
  deleteVethPair,
  enableForwarding,
  ensureBridge,
  ensureGatewayAddresses,
  isOnlyPort,
  putPortInVlan,
  restoreGatewayAddresses,
  setPortHairpin,
  subnetsOf,
  type VethPair,
  withGateways,
} from './dataplane.ts';

function bridgeConfOf(args: AttachmentArgs | GcArgs, opts?: { ignorePortMappings?: boolean }): BridgeConf {
  const mac = pickCniArgs(args.args, ['MAC', 'IP']).MAC;
  return loadBridgeConf(args.config, mac, opts);
}

function bridgeOptionsOf(conf: BridgeConf): BridgeOptions {
  return {
    name: conf.bridge,
    mtu: conf.mtu,
    promisc: conf.promiscMode,
    vlanFiltering: conf.vlan !== undefined,
  };
}

/** What can be refused is refused before ADD creates anything, so a refused ADD leaves no trace at all. */
async function checkBeforeCreating(args: AttachmentArgs, conf: BridgeConf): Promise<void> {
  requireContainerNetns(args.netns, 'tsnet-bridge');
  checkIpamConfig(args);
  const families = inProcessIpamFamilies(args);
  requireMtuFor(families, conf);
  await refuseHostPortsInUse(args, conf, families);
}

async function add(args: AttachmentArgs): Promise<Result> {
  const conf = bridgeConfOf(args); // the config loader validates the port mappings too
  await checkBeforeCreating(args, conf);
  const node = Handle.open();
  const container = Handle.open(args.netns);
  try {
    return await withUndo(async (undo) => {
      // The one refusal the links meet that config checks cannot see comes first: a taken CNI_IFNAME then
      // leaves nothing made and the round-robin cursor where it was.
      await requireFreeIfname(container, args.ifname);
      // tsnet-ipam in-process only touches its own files, so it allocates while the links are made; a
      // delegate (dhcp) may need the container's interface, so it runs after them, as the reference does.
      const early = ipamIsInProcess(args) ? allocateAddresses(args, undo) : undefined;
      early?.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
      let linked: Awaited<ReturnType<typeof setUpVeth>>;
      try {
        const ensured = await setUpBridge(node, conf, undo);
        linked = await setUpVeth(node, container, args, conf, ensured, undo);
      } catch (err) {
        await early?.catch(() => undefined); // its undo is on the stack before the rollback runs
        throw err;
      }
      const { veth, port, bridge } = linked;
      const { result: ipam, durable } = await (early ?? allocateAddresses(args, undo));
      const ips = withGateways(ipam.ips ?? [], conf.isGateway);
      if (ips.length === 0) throw new CniError(ErrorCode.Internal, 'IPAM returned no IP address');
      // The addresses and routes are on the container end: the veth's undo takes them along.
      const routes = await configureContainerInterface(
        container,
        veth.container,
        ips,
        ipam.routes ?? [],
        conf.isDefaultGateway,
      );
      faultPoint('bridge-after-address');
      const attached: Attached = { node, bridge, port, ips };
      if (conf.isGateway) await setUpGateway(attached, conf, undo);
      if (conf.ipMasq) await setUpMasquerade(attached, conf, undo);
      if (conf.portMappings.length > 0) await publishPorts(args, conf, ips, undo);

      // The addresses are on disk by now, or the ADD fails (and its undo runs) rather than answer.
      const [finalBridge] = await Promise.all([node.linkGet(bridge.index), durable]);
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
    });
  } finally {
    container.close();
    node.close();
  }
}

/** The bridge, created when missing; its undo removes it again unless another container joined it. */
async function setUpBridge(node: Handle, conf: BridgeConf, undo: UndoStack): Promise<Link> {
  const { bridge, created } = await ensureBridge(node, bridgeOptionsOf(conf));
  if (created) undo.push(`bridge ${bridge.name}`, () => deleteBridgeIfUnused(node, bridge));
  return bridge;
}

/** The veth pair, its node end a port of the bridge (hairpin, VLAN as configured); its undo deletes it. */
async function setUpVeth(
  node: Handle,
  container: Handle,
  args: AttachmentArgs,
  conf: BridgeConf,
  ensured: Link,
  undo: UndoStack,
): Promise<{ veth: VethPair; port: Link; bridge: Link }> {
  const { veth, bridge } = await createVethOnBridge(
    node,
    container,
    ensured,
    () => setUpBridge(node, conf, undo),
    { containerNetns: args.netns, ifname: args.ifname, mtu: conf.mtu, mac: conf.mac },
  );
  undo.push(`veth ${veth.host.name}`, () => deleteVethPair(node, veth.host.name));
  faultPoint('bridge-after-veth');
  const port = veth.host;
  await setPortHairpin(node, port, conf.hairpinMode);
  if (conf.vlan !== undefined) await putPortInVlan(node, port, bridge, conf.vlan, conf.isGateway);
  return { veth, port, bridge };
}

/** The container's port on the bridge and its addresses: what the node-side steps after IPAM work on. */
interface Attached {
  readonly node: Handle;
  readonly bridge: Link;
  readonly port: Link;
  readonly ips: readonly IPConfig[];
}

/**
 * IPAM ADD; its undo is IPAM DEL, which releases what this attachment holds. The addresses come back before
 * they are durable: the interface is configured while the disk syncs, and the ADD answers after `durable`.
 */
async function allocateAddresses(
  args: AttachmentArgs,
  undo: UndoStack,
): Promise<{ result: Result; durable: Promise<void> }> {
  const reservation = await runIpamReserve(args);
  // After the sync: the ADD never answers, even with an error, while its reservation is still in flight.
  undo.push('IPAM allocation', async () => {
    await reservation.durable.catch(() => undefined);
    await runIpamDel(args);
  });
  faultPoint('bridge-after-ipam');
  return reservation;
}

/**
 * The gateway addresses on the bridge and forwarding on the node. The undo takes back addresses this ADD
 * put there only while no other container uses the bridge; forwarding is a node setting and stays on.
 */
async function setUpGateway(
  { node, bridge, port, ips }: Attached,
  conf: BridgeConf,
  undo: UndoStack,
): Promise<void> {
  const change = await ensureGatewayAddresses(node, bridge, ips, conf.forceAddress);
  if (change.added.length > 0 || change.replaced.length > 0) {
    undo.push(`gateway addresses on ${bridge.name}`, async () => {
      if (await isOnlyPort(node, bridge, port)) await restoreGatewayAddresses(node, bridge, change);
    });
  }
  enableForwarding(NODE_NETNS, ips);
}

/**
 * The network's masquerade, installed once per network. The undo removes it when this ADD installed it and
 * no other container uses the bridge (a concurrent ADD of the network has its port there by now).
 */
async function setUpMasquerade(
  { node, bridge, port, ips }: Attached,
  conf: BridgeConf,
  undo: UndoStack,
): Promise<void> {
  // No listing of the table beforehand: a warm agent answers this from its cache, without exec'ing nft.
  const installed = await ensureMasquerade(NODE_NETNS, {
    network: conf.network,
    subnet: subnetsOf(ips),
    excludeDestinations: conf.ipMasqExcludes,
  });
  if (!installed) return;
  undo.push(`masquerade of network ${conf.network}`, async () => {
    if (await isOnlyPort(node, bridge, port)) await removeMasquerade(NODE_NETNS, conf.network);
  });
}

/** A port publishing failure as a CNI error, its reason (the port's holder, say) in the details. */
async function publishing(what: Promise<void>): Promise<void> {
  try {
    await what;
  } catch (err) {
    if (err instanceof CniError) throw err;
    throw new CniError(ErrorCode.Internal, 'failed to publish ports', (err as Error).message, { cause: err });
  }
}

/** The address families the in-process IPAM hands out; undefined when another IPAM plugin decides. */
function inProcessIpamFamilies(args: AttachmentArgs): Family[] | undefined {
  if (!ipamIsInProcess(args)) return undefined;
  const ipam = inProcessConfig(args);
  return [...new Set(ipam.rangeSets.map((r) => r.family))];
}

/** IPv6 needs an MTU of 1280 or more (RFC 8200): below it the kernel refuses the address, after IPAM ran. */
function requireMtuFor(families: readonly Family[] | undefined, conf: BridgeConf): void {
  if (conf.mtu !== undefined && conf.mtu < 1280 && families?.includes(6)) {
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `"mtu" ${conf.mtu} is too small for the network's IPv6 range`,
      'IPv6 needs an MTU of at least 1280',
    );
  }
}

/**
 * Refuses host ports another container publishes before anything is created, when the in-process IPAM tells
 * which address families the container will get (publishPorts checks again, atomically, in any case).
 */
async function refuseHostPortsInUse(
  args: AttachmentArgs,
  conf: BridgeConf,
  families: readonly Family[] | undefined,
): Promise<void> {
  if (conf.portMappings.length === 0 || families === undefined) return;
  await publishing(
    requireHostPortsFree(NODE_NETNS, {
      containerId: args.containerId,
      network: conf.network,
      mappings: conf.portMappings,
      families,
    }),
  );
}

/** Published ports; their undo unpublishes this container's ports. */
async function publishPorts(
  args: AttachmentArgs,
  conf: BridgeConf,
  ips: readonly IPConfig[],
  undo: UndoStack,
): Promise<void> {
  // Published ports answer on the node's 127.0.0.1 too (as with the reference portmap plugin).
  await allowLocalhostPortmap(NODE_NETNS, conf.bridge);
  await publishing(
    addPortMappings(NODE_NETNS, {
      containerId: args.containerId,
      network: conf.network,
      containerIPs: ips.map((ipc) => ipc.address),
      mappings: conf.portMappings,
    }),
  );
  undo.push(`published ports of ${args.containerId}`, () =>
    removePortMappings(NODE_NETNS, args.containerId, conf.network),
  );
}

async function del(args: AttachmentArgs): Promise<void> {
  const conf = bridgeConfOf(args, { ignorePortMappings: true });
  // Addresses and published ports are released always, also when the namespace is already gone: by a
  // delegate (dhcp) before the interface goes, by tsnet-ipam in-process while it goes.
  const releasing = releaseAddressesAndPorts(args, conf);
  if (!ipamIsInProcess(args)) await releasing;
  const [released, deleted] = await Promise.allSettled([releasing, deleteLinksOf(args, conf)]);
  if (released.status === 'rejected') throw released.reason;
  if (deleted.status === 'rejected') throw deleted.reason;
}

async function releaseAddressesAndPorts(args: AttachmentArgs, conf: BridgeConf): Promise<void> {
  await runIpamDel(args);
  if (mayHavePublishedPorts(args.config))
    await removePortMappings(NODE_NETNS, args.containerId, conf.network);
}

function ipamIsInProcess(args: AttachmentArgs): boolean {
  return args.config.ipam?.type === TSNET_IPAM_TYPE;
}

async function deleteLinksOf(args: AttachmentArgs, conf: BridgeConf): Promise<void> {
  // Only what ADD made is deleted: never a link of the node's own namespace, never a link it did not make.
  if (!isContainerNetnsToClean(args.netns)) return;
  const node = Handle.open();
  try {
    await Handle.with(args.netns, (container) =>
      deleteContainerVeth(node, container, {
        ifname: args.ifname,
        bridgeName: conf.bridge,
        recordedHostVeth: recordedHostVeth(args, conf),
      }),
    );
  } finally {
    node.close();
  }
}

/** The host veth the ADD reported (the prevResult the runtime passes on DEL), when there is one. */
function recordedHostVeth(args: AttachmentArgs, conf: BridgeConf): string | undefined {
  let prev: Result | undefined;
  try {
    prev = parsePrevResult(args.config);
  } catch {
    return undefined; // a prevResult DEL cannot read is no reason to fail the DEL
  }
  return prev?.interfaces?.find((i) => !i.sandbox && i.name !== conf.bridge)?.name;
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
