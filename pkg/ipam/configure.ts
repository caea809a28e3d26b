// Applies an IPAM result to an interface inside the container, as the reference's pkg/ipam ConfigureIface:
// addresses, link up, routes (a route without a gateway uses its family's gateway).
import { CniError, ErrorCode } from '../cni/errors.ts';
import type { IPConfig, Route } from '../cni/types.ts';
import { formatSubnet, parseCidr, parseIp, subnetOf } from '../ip/address.ts';
import type { Handle } from '../netlink/handle.ts';
import type { Link } from '../netlink/link.ts';
import { settleAll } from '../sync/settle.ts';

function familyOfCidr(cidr: string): 4 | 6 | undefined {
  return parseCidr(cidr)?.address.family;
}

/**
 * Configures the container end: addresses (IPv6 without DAD, so they are usable at once), link up, then the
 * IPAM routes (a route without a gateway uses the gateway of its family) and, for a default gateway, a
 * default route per family. Returns the routes installed, for the result. The requests go in one netlink
 * batch: the kernel applies them in this order, each on its own, and the first refusal is the error.
 */
export async function configureContainerInterface(
  container: Handle,
  iface: Link,
  ips: readonly IPConfig[],
  routes: readonly Route[],
  isDefaultGateway: boolean,
): Promise<Route[]> {
  const gatewayOf = (family: 4 | 6 | undefined): string | undefined =>
    ips.find((ipc) => ipc.gateway && familyOfCidr(ipc.address) === family)?.gateway;
  const installed: Route[] = [...routes];
  if (isDefaultGateway) {
    for (const ipc of ips) {
      const family = familyOfCidr(ipc.address);
      const dst = family === 6 ? '::/0' : '0.0.0.0/0';
      if (ipc.gateway && !installed.some((r) => r.dst === dst)) installed.push({ dst, gw: ipc.gateway });
    }
  }
  // Every route is checked before anything is sent: a bad destination refuses the whole step.
  const routeSpecs = installed.map((r) => ({
    dst: normaliseDst(r.dst),
    gateway: checkGatewayFamily(r.dst, r.gw) ?? gatewayOf(familyOfCidr(r.dst)),
    oif: iface.index,
    ...(r.mtu ? { mtu: r.mtu } : {}),
    ...(r.priority ? { metric: r.priority } : {}),
  }));
  const requests = container.batch(() => [
    ...ips.map((ipc) =>
      container.addrAdd(iface.index, ipc.address, { noDad: familyOfCidr(ipc.address) === 6 }),
    ),
    container.linkSetUp(iface.index),
    ...routeSpecs.map((spec) => container.routeReplace(spec)),
  ]);
  await settleAll(requests);
  return installed;
}

/** A route's own gateway, of its destination's family (refused here, before any address is sent). */
function checkGatewayFamily(dst: string, gw: string | undefined): string | undefined {
  if (gw === undefined) return undefined;
  const family = parseIp(gw)?.family;
  if (family === undefined)
    throw new CniError(ErrorCode.InvalidNetworkConfig, `route ${dst}: invalid gateway ${JSON.stringify(gw)}`);
  if (family !== familyOfCidr(dst))
    throw new CniError(
      ErrorCode.InvalidNetworkConfig,
      `route ${dst}: gateway ${gw} is not IPv${familyOfCidr(dst) === 6 ? 6 : 4}`,
    );
  return gw;
}

/** Route destinations must not carry host bits (`10.1.2.3/16` means `10.1.0.0/16`). */
function normaliseDst(dst: string): string {
  const cidr = parseCidr(dst);
  if (!cidr)
    throw new CniError(ErrorCode.InvalidNetworkConfig, `invalid route destination ${JSON.stringify(dst)}`);
  return formatSubnet(subnetOf(cidr.address, cidr.prefix));
}
