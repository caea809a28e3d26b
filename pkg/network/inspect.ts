// Docker's `network inspect` object for one network, its Containers map from the attachments.
import type { Endpoint } from './networking.ts';
import type { Network } from './store.ts';

export interface DockerNetworkInspect {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv6: boolean;
  IPAM: {
    Driver: 'default';
    Options: Record<string, string> | null;
    Config: { Subnet: string; Gateway: string; IPRange?: string }[];
  };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<
    string,
    { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }
  >;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export function dockerNetworkInspect(network: Network, endpoints: readonly Endpoint[]): DockerNetworkInspect {
  const containers: DockerNetworkInspect['Containers'] = {};
  for (const e of endpoints) {
    containers[e.containerId] = {
      Name: e.containerName,
      EndpointID: e.endpointId,
      MacAddress: e.macAddress,
      IPv4Address: e.ipv4Address,
      IPv6Address: '',
    };
  }
  return {
    Name: network.name,
    Id: network.id,
    Created: network.created,
    Scope: network.scope,
    Driver: network.driver,
    EnableIPv6: false,
    IPAM: {
      Driver: 'default',
      Options: null,
      Config: network.pools.map((p) => ({
        Subnet: p.subnet,
        Gateway: p.gateway,
        ...(p.ipRange ? { IPRange: p.ipRange } : {}),
      })),
    },
    Internal: network.internal,
    Attachable: network.driver === 'overlay',
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: { ...network.options },
    Labels: { ...network.labels },
  };
}
