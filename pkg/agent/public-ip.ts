// The node's public address when --public-ip is not given: the address of the default route's interface, as
// flannel does (its source address when the route names one). Read over netlink in the agent's namespace.
import { Handle } from '../netlink/handle.ts';

/** The IPv4 address peers would reach this node at, or undefined when there is no default route. */
export async function defaultRouteAddress(netnsPath?: string): Promise<string | undefined> {
  return Handle.with(netnsPath, async (h) => {
    const defaults = (await h.routeList({ family: 4 }))
      .filter((r) => r.dst === '0.0.0.0/0' && r.oif !== undefined)
      .sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
    const route = defaults[0];
    if (!route) return undefined;
    if (route.prefsrc) return route.prefsrc;
    const addresses = await h.addrList({ index: route.oif, family: 4 });
    return addresses[0]?.address;
  });
}
