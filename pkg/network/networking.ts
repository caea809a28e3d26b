// ContainerNetworking over the conf dir's conflists and the libcni-like executor: attach runs the network's
// plugins for a container's netns (published ports, --ip and --mac as capability args, aliases kept in the
// result cache like podman keeps them), detach runs DEL with what ADD cached (the conflist too, so a network
// removed meanwhile still detaches), collectGarbage is CNI GC per network.
import { createHash } from 'node:crypto';
import { deleteBridgeIfUnused } from '../bridge/dataplane.ts';
import { NODE_NETNS } from '../cni/netns.ts';
import type { Result } from '../cni/types.ts';
import { parseResult } from '../cni/version.ts';
import type { ContainerNetworking, NetworkAttachment } from '../container/networking.ts';
import { parseCidr, parseIp, subnetContains, subnetOf } from '../ip/address.ts';
import { Handle } from '../netlink/handle.ts';
import { type CachedAttachment, type CniExecutor, parseConfList, type RuntimeConf } from './cni-exec.ts';
import { reserveHostPorts } from './host-ports.ts';
import { InvalidNetworkError, type Network, type NetworkStore } from './store.ts';

export interface CniNetworkingOptions {
  readonly store: NetworkStore;
  readonly executor: CniExecutor;
  /** The node's namespace: where host ports are checked (the plugins run there too). Default: the agent's. */
  readonly nodeNetns?: string;
}

type AttachRequest = Parameters<ContainerNetworking['attach']>[0];

/** One container's attachment as the result cache tells it (inspect's Containers map, rm's in-use check). */
export interface Endpoint {
  readonly containerId: string;
  readonly containerName: string;
  readonly network: string;
  readonly ifName: string;
  readonly endpointId: string;
  readonly macAddress: string;
  /** address/prefix, '' when none */
  readonly ipv4Address: string;
  readonly aliases: string[];
}

const CONTAINER_NAME_ARG = 'K8S_POD_NAME';

export class CniNetworking implements ContainerNetworking {
  private readonly opts: CniNetworkingOptions;

  constructor(opts: CniNetworkingOptions) {
    this.opts = opts;
  }

  private get nodeNetns(): string {
    return this.opts.nodeNetns ?? NODE_NETNS;
  }

  async resolve(
    nameOrId: string,
  ): Promise<{ id: string; name: string; driver: string; kind: 'cni' | 'host' | 'none' }> {
    const n = await this.opts.store.find(nameOrId);
    return { id: n.id, name: n.name, driver: n.driver, kind: n.kind };
  }

  async attach(req: AttachRequest): Promise<NetworkAttachment> {
    // The built-ins go on disk once a container uses networks, so other runtimes see them from then on.
    await this.opts.store.ensureBuiltins();
    const network = await this.opts.store.find(req.network);
    const base = {
      network: network.name,
      networkId: network.id,
      ifName: req.ifName,
      aliases: [...req.aliases],
    };
    // host and none have no interface of their own to make: the engine shares or omits the namespace.
    if (network.kind !== 'cni' || !network.list) return { ...base, ports: [] };
    // A second ADD would fail on the taken interface name, and the DEL after it would tear down the first.
    if (await this.opts.executor.cachedResult(network.name, req.containerId, req.ifName)) {
      throw new InvalidNetworkError(
        `endpoint with name ${req.containerName} already exists in network ${network.name} (${req.ifName})`,
      );
    }
    if (req.ipv4 !== undefined) requireAddressInPools(network, req.ipv4);
    const ports = await reserveHostPorts(this.nodeNetns, req.containerId, req.ports);
    const rt: RuntimeConf = {
      containerId: req.containerId,
      netns: req.netnsPath,
      ifName: req.ifName,
      // podman's CNI_ARGS: the container's name travels (and is cached) as K8S_POD_NAME.
      args: [
        ['IgnoreUnknown', '1'],
        [CONTAINER_NAME_ARG, req.containerName],
      ],
      capabilityArgs: {
        // also when empty: DEL (which gets them back from the cache) then knows there is nothing to unpublish
        portMappings: ports.map((p) => ({
          hostPort: p.hostPort,
          containerPort: p.containerPort,
          protocol: p.protocol,
          ...(p.hostIp && p.hostIp !== '0.0.0.0' ? { hostIP: p.hostIp } : {}),
        })),
        ...(req.ipv4 ? { ips: [req.ipv4] } : {}),
        ...(req.mac ? { mac: req.mac } : {}),
        aliases: { [network.name]: [...req.aliases] },
      },
    };
    const result = await this.opts.executor.addNetworkList(network.list, rt);
    return { ...base, ...addressOf(result, req.ifName), ports };
  }

  async detach(req: {
    containerId: string;
    netnsPath: string;
    network: string;
    ifName: string;
  }): Promise<void> {
    const cached = await this.cachedEntry(req.network, req.containerId, req.ifName);
    const list = cached
      ? parseConfList(Buffer.from(cached.config, 'base64'), `cached config of ${req.network}`)
      : (await this.opts.store.find(req.network)).list;
    if (!list) return; // host or none: nothing was attached through CNI
    await this.opts.executor.delNetworkList(list, {
      containerId: req.containerId,
      netns: req.netnsPath,
      ifName: req.ifName,
      args: cached?.cniArgs,
      capabilityArgs: cached?.capabilityArgs,
    });
  }

  /**
   * What a network being removed leaves on the node once no container uses it: CNI GC with no valid
   * attachment (its masquerade, its IPAM records), and its bridge without ports, as `docker network rm`
   * removes br-<id>. Another network may take the same subnet afterwards.
   */
  async releaseNetwork(network: Network): Promise<void> {
    if (!network.list) return;
    await this.opts.executor.gcNetworkList(network.list, []);
    const bridges = network.list.plugins
      .filter((p) => p.type === 'tsnet-bridge' && typeof p['bridge'] === 'string')
      .map((p) => String(p['bridge']));
    if (bridges.length === 0) return;
    const h = Handle.open(this.opts.nodeNetns);
    try {
      for (const name of bridges) {
        const bridge = await h.linkFind(name);
        if (bridge?.info.kind === 'bridge') await deleteBridgeIfUnused(h, bridge);
      }
    } finally {
      h.close();
    }
  }

  async collectGarbage(valid: { containerId: string; network: string; ifName: string }[]): Promise<void> {
    const networks = (await this.opts.store.list()).filter((n) => n.list);
    const errors: unknown[] = [];
    for (const n of networks) {
      const mine = valid
        .filter((v) => v.network === n.name || v.network === n.id)
        .map((v) => ({ containerID: v.containerId, ifname: v.ifName }));
      await this.opts.executor.gcNetworkList(n.list!, mine).catch((err: unknown) => errors.push(err));
    }
    // Attachments of networks removed since: their cached conflist still knows how to DEL them.
    const known = new Set(networks.map((n) => n.name));
    for (const entry of await this.opts.executor.cachedAttachments()) {
      if (known.has(entry.networkName)) continue;
      const held = valid.some(
        (v) =>
          v.containerId === entry.containerId && v.ifName === entry.ifName && v.network === entry.networkName,
      );
      if (held) continue;
      await this.detach({
        containerId: entry.containerId,
        netnsPath: entry.netns ?? '',
        network: entry.networkName,
        ifName: entry.ifName,
      }).catch((err: unknown) => errors.push(err));
    }
    if (errors.length > 0) throw errors[0];
  }

  /** The containers attached to a network, from the result cache. */
  async endpointsOf(network: Network): Promise<Endpoint[]> {
    const entries = (await this.opts.executor.cachedAttachments()).filter(
      (e) => e.networkName === network.name,
    );
    return entries.map((e) => endpointOf(e));
  }

  private async cachedEntry(
    network: string,
    containerId: string,
    ifName: string,
  ): Promise<CachedAttachment | undefined> {
    let name = network;
    try {
      name = (await this.opts.store.find(network)).name;
    } catch {
      // a removed network: its cache entry is looked up by the name given
    }
    return (await this.opts.executor.cachedAttachments()).find(
      (e) => e.networkName === name && e.containerId === containerId && e.ifName === ifName,
    );
  }
}

/** Docker refuses --ip outside the network's pools, and on a network without user-configured pools. */
function requireAddressInPools(network: Network, ipv4: string): void {
  const ip = parseIp(ipv4);
  if (ip?.family !== 4) throw new InvalidNetworkError(`invalid IPv4 address: ${ipv4}`);
  if (network.builtin) {
    throw new InvalidNetworkError('user specified IP address is supported on user defined networks only');
  }
  const inside = network.pools.some((p) => {
    const c = parseCidr(p.subnet);
    return c !== undefined && subnetContains(subnetOf(c.address, c.prefix), ip);
  });
  if (!inside) {
    throw new InvalidNetworkError(`no configured subnet or ip-range contain the IP address ${ipv4}`);
  }
}

/** The container interface's first IPv4 address, prefix, gateway and MAC from the list's result. */
function addressOf(result: Result, ifName: string): Partial<NetworkAttachment> {
  const ifaces = result.interfaces ?? [];
  const index = ifaces.findIndex((i) => i.sandbox !== undefined && i.name === ifName);
  const ipc = (result.ips ?? []).find(
    (i) => (index < 0 || i.interface === index) && parseIp(i.address.split('/')[0] ?? '')?.family === 4,
  );
  const [address, prefix] = ipc ? ipc.address.split('/') : [];
  return {
    ...(address ? { ipAddress: address, prefixLength: Number(prefix) } : {}),
    ...(ipc?.gateway ? { gateway: ipc.gateway } : {}),
    ...(index >= 0 && ifaces[index]?.mac ? { macAddress: ifaces[index]?.mac } : {}),
  };
}

function endpointOf(e: CachedAttachment): Endpoint {
  let mac = '';
  let ipv4 = '';
  try {
    const result = e.result ? parseResult(e.result) : undefined;
    if (result) {
      const a = addressOf(result, e.ifName);
      mac = a.macAddress ?? '';
      ipv4 = a.ipAddress ? `${a.ipAddress}/${a.prefixLength}` : '';
    }
  } catch {
    // an unreadable result: the endpoint is still listed
  }
  const aliases = (e.capabilityArgs?.['aliases'] as Record<string, unknown> | undefined)?.[e.networkName];
  return {
    containerId: e.containerId,
    containerName: e.cniArgs?.find(([k]) => k === CONTAINER_NAME_ARG)?.[1] ?? '',
    network: e.networkName,
    ifName: e.ifName,
    endpointId: createHash('sha256').update(`${e.networkName}\0${e.containerId}\0${e.ifName}`).digest('hex'),
    macAddress: mac,
    ipv4Address: ipv4,
    aliases: Array.isArray(aliases) ? aliases.filter((a): a is string => typeof a === 'string') : [],
  };
}
