// The engine's extension point for networks (the networks slice implements it): the engine calls it for every
// network of a container, with the container's network namespace, and keeps what it answers in the record.

/** `-p [ip:]host:container[/proto]` once resolved; hostPort 0 asks for a free port. */
export interface PublishedPort {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

/** One interface of a container on one network, as attach made it. */
export interface NetworkAttachment {
  network: string;
  networkId: string;
  ifName: string;
  ipAddress?: string;
  prefixLength?: number;
  gateway?: string;
  macAddress?: string;
  aliases: string[];
  ports: PublishedPort[];
}

export interface ResolvedNetwork {
  id: string;
  name: string;
  driver: string;
  kind: 'cni' | 'host' | 'none';
}

export class NetworkNotFoundError extends Error {
  override name = 'NetworkNotFoundError';
  constructor(
    readonly network: string,
    hint?: string,
  ) {
    super(`network ${network} not found${hint ? `: ${hint}` : ''}`);
  }
}

export interface ContainerNetworking {
  /** "bridge" | "host" | "none" | a network name or id; throws NetworkNotFoundError */
  resolve(nameOrId: string): Promise<ResolvedNetwork>;
  attach(req: {
    containerId: string;
    containerName: string;
    netnsPath: string;
    network: string;
    ifName: string;
    ipv4?: string;
    mac?: string;
    aliases: string[];
    ports: PublishedPort[] /* hostPort 0: pick */;
  }): Promise<NetworkAttachment>;
  detach(req: { containerId: string; netnsPath: string; network: string; ifName: string }): Promise<void>;
  /** CNI GC: attachments no listed container holds */
  collectGarbage(valid: { containerId: string; network: string; ifName: string }[]): Promise<void>;
}

/**
 * Networking without a networks service: only "host" and "none" exist; any other network (the default
 * "bridge" included) is refused with a message saying why.
 */
export const hostAndNoneOnly: ContainerNetworking = {
  async resolve(nameOrId) {
    if (nameOrId === 'host') return { id: 'host', name: 'host', driver: 'host', kind: 'host' };
    if (nameOrId === 'none') return { id: 'none', name: 'none', driver: 'null', kind: 'none' };
    throw new NetworkNotFoundError(
      nameOrId,
      'this agent runs without container networks (use --network none or host)',
    );
  },
  async attach(req) {
    throw new Error(`cannot attach container ${req.containerId} to ${req.network}: no container networks`);
  },
  async detach() {},
  async collectGarbage() {},
};
