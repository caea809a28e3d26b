// What the engine needs from the networks: resolve a container's network, attach its netns to it (published
// ports included), detach it again, and collect attachments no container holds. pkg/network implements it.

export interface PublishedPort {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

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

export interface ContainerNetworking {
  /** "bridge" | "host" | "none" | a network name or id; throws NetworkNotFoundError */
  resolve(
    nameOrId: string,
  ): Promise<{ id: string; name: string; driver: string; kind: 'cni' | 'host' | 'none' }>;
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
