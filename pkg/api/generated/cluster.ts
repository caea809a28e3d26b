import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ClusterClient as _tsnet_v1_ClusterClient, ClusterDefinition as _tsnet_v1_ClusterDefinition } from './tsnet/v1/Cluster.ts';
import type { ClusterContainer as _tsnet_v1_ClusterContainer, ClusterContainer__Output as _tsnet_v1_ClusterContainer__Output } from './tsnet/v1/ClusterContainer.ts';
import type { ClusterContainersRequest as _tsnet_v1_ClusterContainersRequest, ClusterContainersRequest__Output as _tsnet_v1_ClusterContainersRequest__Output } from './tsnet/v1/ClusterContainersRequest.ts';
import type { ClusterContainersResponse as _tsnet_v1_ClusterContainersResponse, ClusterContainersResponse__Output as _tsnet_v1_ClusterContainersResponse__Output } from './tsnet/v1/ClusterContainersResponse.ts';
import type { ClusterEndpoint as _tsnet_v1_ClusterEndpoint, ClusterEndpoint__Output as _tsnet_v1_ClusterEndpoint__Output } from './tsnet/v1/ClusterEndpoint.ts';
import type { ClusterPort as _tsnet_v1_ClusterPort, ClusterPort__Output as _tsnet_v1_ClusterPort__Output } from './tsnet/v1/ClusterPort.ts';
import type { ListNodesRequest as _tsnet_v1_ListNodesRequest, ListNodesRequest__Output as _tsnet_v1_ListNodesRequest__Output } from './tsnet/v1/ListNodesRequest.ts';
import type { ListNodesResponse as _tsnet_v1_ListNodesResponse, ListNodesResponse__Output as _tsnet_v1_ListNodesResponse__Output } from './tsnet/v1/ListNodesResponse.ts';
import type { NodeSummary as _tsnet_v1_NodeSummary, NodeSummary__Output as _tsnet_v1_NodeSummary__Output } from './tsnet/v1/NodeSummary.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tsnet: {
    v1: {
      Cluster: SubtypeConstructor<typeof grpc.Client, _tsnet_v1_ClusterClient> & { service: _tsnet_v1_ClusterDefinition }
      ClusterContainer: MessageTypeDefinition<_tsnet_v1_ClusterContainer, _tsnet_v1_ClusterContainer__Output>
      ClusterContainersRequest: MessageTypeDefinition<_tsnet_v1_ClusterContainersRequest, _tsnet_v1_ClusterContainersRequest__Output>
      ClusterContainersResponse: MessageTypeDefinition<_tsnet_v1_ClusterContainersResponse, _tsnet_v1_ClusterContainersResponse__Output>
      ClusterEndpoint: MessageTypeDefinition<_tsnet_v1_ClusterEndpoint, _tsnet_v1_ClusterEndpoint__Output>
      ClusterPort: MessageTypeDefinition<_tsnet_v1_ClusterPort, _tsnet_v1_ClusterPort__Output>
      ListNodesRequest: MessageTypeDefinition<_tsnet_v1_ListNodesRequest, _tsnet_v1_ListNodesRequest__Output>
      ListNodesResponse: MessageTypeDefinition<_tsnet_v1_ListNodesResponse, _tsnet_v1_ListNodesResponse__Output>
      NodeSummary: MessageTypeDefinition<_tsnet_v1_NodeSummary, _tsnet_v1_NodeSummary__Output>
    }
  }
}

