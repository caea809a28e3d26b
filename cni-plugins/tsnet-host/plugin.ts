// tsnet-host: the container shares the node's network. ADD changes nothing and reports the node's interfaces
// and addresses; a CNI_NETNS other than the node's own namespace is refused, since nothing this plugin does
// would give that namespace the node's network.

import { BlockList } from 'node:net';
import { CniError, ErrorCode } from '../../pkg/cni/errors.ts';
import { requireNetns } from '../../pkg/cni/netns.ts';
import type { AttachmentArgs, CniPlugin } from '../../pkg/cni/skel.ts';
import type { Interface, IPConfig, Result } from '../../pkg/cni/types.ts';
import type { Address } from '../../pkg/netlink/addr.ts';
import { Handle } from '../../pkg/netlink/handle.ts';
import type { Route } from '../../pkg/netlink/route.ts';
import { sameNetns } from '../../pkg/netns/index.ts';

/** The namespace this plugin runs in is the node's (the agent serving it in-process runs there too). */
const NODE_NETNS = '/proc/self/ns/net';
const RT_SCOPE_UNIVERSE = 0;

/**
 * CNI_NETNS must be the node's namespace (code 4, the variable is wrong for this network): a host-network
 * container is one that runs in the node's namespace.
 */
function requireNodeNetns(netns: string): void {
  requireNetns(netns);
  if (!sameNetns(netns, NODE_NETNS)) {
    throw new CniError(
      ErrorCode.InvalidEnvironment,
      `CNI_NETNS ${netns} is not the node's network namespace`,
      'tsnet-host gives a container the node network only when the container runs in the node namespace; ' +
        'start the container with host networking, or use another network type',
    );
  }
}

function isDefaultRoute(r: Route): boolean {
  return r.dst === '0.0.0.0/0' || r.dst === '::/0';
}

/** The gateway of a default route leaving through the address's interface and inside its subnet. */
function gatewayFor(addr: Address, defaults: readonly Route[]): string | undefined {
  // node:net's BlockList does the subnet test without loading ip-num: this plugin stays quick to start.
  const family = addr.family === 4 ? 'ipv4' : 'ipv6';
  const subnet = new BlockList();
  subnet.addSubnet(addr.address, addr.prefixLength, family);
  return defaults.find(
    (r) => r.oif === addr.index && r.family === addr.family && r.gateway && subnet.check(r.gateway, family),
  )?.gateway;
}

/** The node's up interfaces other than loopback, and their global addresses. */
async function describeNode(): Promise<Pick<Result, 'interfaces' | 'ips'>> {
  return Handle.with(undefined, async (node) => {
    const links = (await node.linkList()).filter((l) => l.up && l.name !== 'lo');
    const addrs = await node.addrList();
    const defaults = (await node.routeList()).filter(isDefaultRoute);
    const interfaces: Interface[] = links.map((l) => ({ name: l.name, mac: l.mac, mtu: l.mtu }));
    const ips: IPConfig[] = [];
    links.forEach((link, i) => {
      for (const a of addrs) {
        if (a.index !== link.index || a.scope !== RT_SCOPE_UNIVERSE) continue;
        const gateway = gatewayFor(a, defaults);
        ips.push({ interface: i, address: a.cidr, ...(gateway ? { gateway } : {}) });
      }
    });
    return { interfaces, ips };
  });
}

async function add(args: AttachmentArgs): Promise<Result> {
  requireNodeNetns(args.netns);
  const node = await describeNode();
  return { cniVersion: args.config.cniVersion, ...node, dns: args.config.dns ?? {} };
}

/** Nothing was changed, so nothing is undone; also fine when CNI_NETNS is gone or foreign. */
async function del(): Promise<void> {}

async function check(args: AttachmentArgs): Promise<void> {
  requireNodeNetns(args.netns);
}

export const tsnetHost: CniPlugin = {
  name: 'tsnet-host',
  about: "tsnet-host: host networking (the container shares the node's network; nothing is changed)",
  add,
  del,
  check,
};
