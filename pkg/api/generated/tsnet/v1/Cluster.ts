// Original file: pkg/api/proto/tsnet/v1/cluster.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ClusterContainersRequest as _tsnet_v1_ClusterContainersRequest, ClusterContainersRequest__Output as _tsnet_v1_ClusterContainersRequest__Output } from '../../tsnet/v1/ClusterContainersRequest.ts';
import type { ClusterContainersResponse as _tsnet_v1_ClusterContainersResponse, ClusterContainersResponse__Output as _tsnet_v1_ClusterContainersResponse__Output } from '../../tsnet/v1/ClusterContainersResponse.ts';
import type { ListNodesRequest as _tsnet_v1_ListNodesRequest, ListNodesRequest__Output as _tsnet_v1_ListNodesRequest__Output } from '../../tsnet/v1/ListNodesRequest.ts';
import type { ListNodesResponse as _tsnet_v1_ListNodesResponse, ListNodesResponse__Output as _tsnet_v1_ListNodesResponse__Output } from '../../tsnet/v1/ListNodesResponse.ts';

export interface ClusterClient extends grpc.Client {
  Containers(argument: _tsnet_v1_ClusterContainersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ClusterContainersResponse__Output>): grpc.ClientUnaryCall;
  Containers(argument: _tsnet_v1_ClusterContainersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ClusterContainersResponse__Output>): grpc.ClientUnaryCall;
  Containers(argument: _tsnet_v1_ClusterContainersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ClusterContainersResponse__Output>): grpc.ClientUnaryCall;
  Containers(argument: _tsnet_v1_ClusterContainersRequest, callback: grpc.requestCallback<_tsnet_v1_ClusterContainersResponse__Output>): grpc.ClientUnaryCall;
  containers(argument: _tsnet_v1_ClusterContainersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ClusterContainersResponse__Output>): grpc.ClientUnaryCall;
  containers(argument: _tsnet_v1_ClusterContainersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ClusterContainersResponse__Output>): grpc.ClientUnaryCall;
  containers(argument: _tsnet_v1_ClusterContainersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ClusterContainersResponse__Output>): grpc.ClientUnaryCall;
  containers(argument: _tsnet_v1_ClusterContainersRequest, callback: grpc.requestCallback<_tsnet_v1_ClusterContainersResponse__Output>): grpc.ClientUnaryCall;
  
  Nodes(argument: _tsnet_v1_ListNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  Nodes(argument: _tsnet_v1_ListNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  Nodes(argument: _tsnet_v1_ListNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  Nodes(argument: _tsnet_v1_ListNodesRequest, callback: grpc.requestCallback<_tsnet_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  nodes(argument: _tsnet_v1_ListNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  nodes(argument: _tsnet_v1_ListNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  nodes(argument: _tsnet_v1_ListNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  nodes(argument: _tsnet_v1_ListNodesRequest, callback: grpc.requestCallback<_tsnet_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ClusterHandlers extends grpc.UntypedServiceImplementation {
  Containers: grpc.handleUnaryCall<_tsnet_v1_ClusterContainersRequest__Output, _tsnet_v1_ClusterContainersResponse>;
  
  Nodes: grpc.handleUnaryCall<_tsnet_v1_ListNodesRequest__Output, _tsnet_v1_ListNodesResponse>;
  
}

export interface ClusterDefinition extends grpc.ServiceDefinition {
  Containers: MethodDefinition<_tsnet_v1_ClusterContainersRequest, _tsnet_v1_ClusterContainersResponse, _tsnet_v1_ClusterContainersRequest__Output, _tsnet_v1_ClusterContainersResponse__Output>
  Nodes: MethodDefinition<_tsnet_v1_ListNodesRequest, _tsnet_v1_ListNodesResponse, _tsnet_v1_ListNodesRequest__Output, _tsnet_v1_ListNodesResponse__Output>
}
