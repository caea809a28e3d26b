// Original file: pkg/api/proto/tsnet/v1/cluster.proto

import type { ClusterEndpoint as _tsnet_v1_ClusterEndpoint, ClusterEndpoint__Output as _tsnet_v1_ClusterEndpoint__Output } from '../../tsnet/v1/ClusterEndpoint.ts';
import type { ClusterPort as _tsnet_v1_ClusterPort, ClusterPort__Output as _tsnet_v1_ClusterPort__Output } from '../../tsnet/v1/ClusterPort.ts';

export interface ClusterContainer {
  'id'?: (string);
  'name'?: (string);
  'node'?: (string);
  'image'?: (string);
  'state'?: (string);
  'endpoints'?: (_tsnet_v1_ClusterEndpoint)[];
  'ports'?: (_tsnet_v1_ClusterPort)[];
  'labels'?: ({[key: string]: string});
}

export interface ClusterContainer__Output {
  'id': (string);
  'name': (string);
  'node': (string);
  'image': (string);
  'state': (string);
  'endpoints': (_tsnet_v1_ClusterEndpoint__Output)[];
  'ports': (_tsnet_v1_ClusterPort__Output)[];
  'labels': ({[key: string]: string});
}
