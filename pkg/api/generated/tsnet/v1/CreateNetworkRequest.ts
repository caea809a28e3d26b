// Original file: pkg/api/proto/tsnet/v1/networks.proto

import type { IpamPool as _tsnet_v1_IpamPool, IpamPool__Output as _tsnet_v1_IpamPool__Output } from '../../tsnet/v1/IpamPool.ts';

export interface CreateNetworkRequest {
  'name'?: (string);
  /**
   * bridge (default), macvlan, overlay.
   */
  'driver'?: (string);
  'pools'?: (_tsnet_v1_IpamPool)[];
  /**
   * Driver options (-o): parent=IFACE for macvlan, mtu=, com.docker.network.bridge.name=, ...
   */
  'options'?: ({[key: string]: string});
  'labels'?: ({[key: string]: string});
  'internal'?: (boolean);
  /**
   * Answer the existing network instead of an error when the name is taken (compose's habit).
   */
  'checkDuplicateOk'?: (boolean);
}

export interface CreateNetworkRequest__Output {
  'name': (string);
  /**
   * bridge (default), macvlan, overlay.
   */
  'driver': (string);
  'pools': (_tsnet_v1_IpamPool__Output)[];
  /**
   * Driver options (-o): parent=IFACE for macvlan, mtu=, com.docker.network.bridge.name=, ...
   */
  'options': ({[key: string]: string});
  'labels': ({[key: string]: string});
  'internal': (boolean);
  /**
   * Answer the existing network instead of an error when the name is taken (compose's habit).
   */
  'checkDuplicateOk': (boolean);
}
