// Original file: pkg/api/proto/tsnet/v1/cluster.proto

import type { NodeSummary as _tsnet_v1_NodeSummary, NodeSummary__Output as _tsnet_v1_NodeSummary__Output } from '../../tsnet/v1/NodeSummary.ts';

export interface ListNodesResponse {
  'nodes'?: (_tsnet_v1_NodeSummary)[];
  /**
   * False while this agent is not in a cluster (a single node without a network config).
   */
  'clustered'?: (boolean);
}

export interface ListNodesResponse__Output {
  'nodes': (_tsnet_v1_NodeSummary__Output)[];
  /**
   * False while this agent is not in a cluster (a single node without a network config).
   */
  'clustered': (boolean);
}
