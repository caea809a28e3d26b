// Original file: pkg/api/proto/tsnet/v1/networks.proto

import type { IpamPool as _tsnet_v1_IpamPool, IpamPool__Output as _tsnet_v1_IpamPool__Output } from '../../tsnet/v1/IpamPool.ts';
import type { Long } from '@grpc/proto-loader';

export interface NetworkSummary {
  'id'?: (string);
  'name'?: (string);
  'driver'?: (string);
  /**
   * local, or cluster for the overlay.
   */
  'scope'?: (string);
  'createdUnix'?: (number | string | Long);
  'pools'?: (_tsnet_v1_IpamPool)[];
  'labels'?: ({[key: string]: string});
  'containers'?: (number);
}

export interface NetworkSummary__Output {
  'id': (string);
  'name': (string);
  'driver': (string);
  /**
   * local, or cluster for the overlay.
   */
  'scope': (string);
  'createdUnix': (number);
  'pools': (_tsnet_v1_IpamPool__Output)[];
  'labels': ({[key: string]: string});
  'containers': (number);
}
