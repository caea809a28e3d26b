// Original file: pkg/api/proto/tsnet/v1/networks.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ConnectNetworkRequest as _tsnet_v1_ConnectNetworkRequest, ConnectNetworkRequest__Output as _tsnet_v1_ConnectNetworkRequest__Output } from '../../tsnet/v1/ConnectNetworkRequest.ts';
import type { ConnectNetworkResponse as _tsnet_v1_ConnectNetworkResponse, ConnectNetworkResponse__Output as _tsnet_v1_ConnectNetworkResponse__Output } from '../../tsnet/v1/ConnectNetworkResponse.ts';
import type { CreateNetworkRequest as _tsnet_v1_CreateNetworkRequest, CreateNetworkRequest__Output as _tsnet_v1_CreateNetworkRequest__Output } from '../../tsnet/v1/CreateNetworkRequest.ts';
import type { CreateNetworkResponse as _tsnet_v1_CreateNetworkResponse, CreateNetworkResponse__Output as _tsnet_v1_CreateNetworkResponse__Output } from '../../tsnet/v1/CreateNetworkResponse.ts';
import type { DisconnectNetworkRequest as _tsnet_v1_DisconnectNetworkRequest, DisconnectNetworkRequest__Output as _tsnet_v1_DisconnectNetworkRequest__Output } from '../../tsnet/v1/DisconnectNetworkRequest.ts';
import type { DisconnectNetworkResponse as _tsnet_v1_DisconnectNetworkResponse, DisconnectNetworkResponse__Output as _tsnet_v1_DisconnectNetworkResponse__Output } from '../../tsnet/v1/DisconnectNetworkResponse.ts';
import type { InspectNetworkResponse as _tsnet_v1_InspectNetworkResponse, InspectNetworkResponse__Output as _tsnet_v1_InspectNetworkResponse__Output } from '../../tsnet/v1/InspectNetworkResponse.ts';
import type { ListNetworksRequest as _tsnet_v1_ListNetworksRequest, ListNetworksRequest__Output as _tsnet_v1_ListNetworksRequest__Output } from '../../tsnet/v1/ListNetworksRequest.ts';
import type { ListNetworksResponse as _tsnet_v1_ListNetworksResponse, ListNetworksResponse__Output as _tsnet_v1_ListNetworksResponse__Output } from '../../tsnet/v1/ListNetworksResponse.ts';
import type { NetworkRef as _tsnet_v1_NetworkRef, NetworkRef__Output as _tsnet_v1_NetworkRef__Output } from '../../tsnet/v1/NetworkRef.ts';
import type { PruneNetworksRequest as _tsnet_v1_PruneNetworksRequest, PruneNetworksRequest__Output as _tsnet_v1_PruneNetworksRequest__Output } from '../../tsnet/v1/PruneNetworksRequest.ts';
import type { PruneNetworksResponse as _tsnet_v1_PruneNetworksResponse, PruneNetworksResponse__Output as _tsnet_v1_PruneNetworksResponse__Output } from '../../tsnet/v1/PruneNetworksResponse.ts';
import type { RemoveNetworkResponse as _tsnet_v1_RemoveNetworkResponse, RemoveNetworkResponse__Output as _tsnet_v1_RemoveNetworkResponse__Output } from '../../tsnet/v1/RemoveNetworkResponse.ts';

export interface NetworksClient extends grpc.Client {
  Connect(argument: _tsnet_v1_ConnectNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ConnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  Connect(argument: _tsnet_v1_ConnectNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ConnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  Connect(argument: _tsnet_v1_ConnectNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ConnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  Connect(argument: _tsnet_v1_ConnectNetworkRequest, callback: grpc.requestCallback<_tsnet_v1_ConnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  connect(argument: _tsnet_v1_ConnectNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ConnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  connect(argument: _tsnet_v1_ConnectNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ConnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  connect(argument: _tsnet_v1_ConnectNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ConnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  connect(argument: _tsnet_v1_ConnectNetworkRequest, callback: grpc.requestCallback<_tsnet_v1_ConnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  
  Create(argument: _tsnet_v1_CreateNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CreateNetworkResponse__Output>): grpc.ClientUnaryCall;
  Create(argument: _tsnet_v1_CreateNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_CreateNetworkResponse__Output>): grpc.ClientUnaryCall;
  Create(argument: _tsnet_v1_CreateNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CreateNetworkResponse__Output>): grpc.ClientUnaryCall;
  Create(argument: _tsnet_v1_CreateNetworkRequest, callback: grpc.requestCallback<_tsnet_v1_CreateNetworkResponse__Output>): grpc.ClientUnaryCall;
  create(argument: _tsnet_v1_CreateNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CreateNetworkResponse__Output>): grpc.ClientUnaryCall;
  create(argument: _tsnet_v1_CreateNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_CreateNetworkResponse__Output>): grpc.ClientUnaryCall;
  create(argument: _tsnet_v1_CreateNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CreateNetworkResponse__Output>): grpc.ClientUnaryCall;
  create(argument: _tsnet_v1_CreateNetworkRequest, callback: grpc.requestCallback<_tsnet_v1_CreateNetworkResponse__Output>): grpc.ClientUnaryCall;
  
  Disconnect(argument: _tsnet_v1_DisconnectNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_DisconnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  Disconnect(argument: _tsnet_v1_DisconnectNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_DisconnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  Disconnect(argument: _tsnet_v1_DisconnectNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_DisconnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  Disconnect(argument: _tsnet_v1_DisconnectNetworkRequest, callback: grpc.requestCallback<_tsnet_v1_DisconnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  disconnect(argument: _tsnet_v1_DisconnectNetworkRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_DisconnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  disconnect(argument: _tsnet_v1_DisconnectNetworkRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_DisconnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  disconnect(argument: _tsnet_v1_DisconnectNetworkRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_DisconnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  disconnect(argument: _tsnet_v1_DisconnectNetworkRequest, callback: grpc.requestCallback<_tsnet_v1_DisconnectNetworkResponse__Output>): grpc.ClientUnaryCall;
  
  Inspect(argument: _tsnet_v1_NetworkRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectNetworkResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _tsnet_v1_NetworkRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_InspectNetworkResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _tsnet_v1_NetworkRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectNetworkResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _tsnet_v1_NetworkRef, callback: grpc.requestCallback<_tsnet_v1_InspectNetworkResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_NetworkRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectNetworkResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_NetworkRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_InspectNetworkResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_NetworkRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectNetworkResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_NetworkRef, callback: grpc.requestCallback<_tsnet_v1_InspectNetworkResponse__Output>): grpc.ClientUnaryCall;
  
  List(argument: _tsnet_v1_ListNetworksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _tsnet_v1_ListNetworksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _tsnet_v1_ListNetworksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _tsnet_v1_ListNetworksRequest, callback: grpc.requestCallback<_tsnet_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListNetworksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListNetworksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListNetworksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListNetworksRequest, callback: grpc.requestCallback<_tsnet_v1_ListNetworksResponse__Output>): grpc.ClientUnaryCall;
  
  Prune(argument: _tsnet_v1_PruneNetworksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneNetworksResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _tsnet_v1_PruneNetworksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_PruneNetworksResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _tsnet_v1_PruneNetworksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneNetworksResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _tsnet_v1_PruneNetworksRequest, callback: grpc.requestCallback<_tsnet_v1_PruneNetworksResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneNetworksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneNetworksResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneNetworksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_PruneNetworksResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneNetworksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneNetworksResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneNetworksRequest, callback: grpc.requestCallback<_tsnet_v1_PruneNetworksResponse__Output>): grpc.ClientUnaryCall;
  
  Remove(argument: _tsnet_v1_NetworkRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  Remove(argument: _tsnet_v1_NetworkRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  Remove(argument: _tsnet_v1_NetworkRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  Remove(argument: _tsnet_v1_NetworkRef, callback: grpc.requestCallback<_tsnet_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_NetworkRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_NetworkRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_NetworkRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_NetworkRef, callback: grpc.requestCallback<_tsnet_v1_RemoveNetworkResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface NetworksHandlers extends grpc.UntypedServiceImplementation {
  Connect: grpc.handleUnaryCall<_tsnet_v1_ConnectNetworkRequest__Output, _tsnet_v1_ConnectNetworkResponse>;
  
  Create: grpc.handleUnaryCall<_tsnet_v1_CreateNetworkRequest__Output, _tsnet_v1_CreateNetworkResponse>;
  
  Disconnect: grpc.handleUnaryCall<_tsnet_v1_DisconnectNetworkRequest__Output, _tsnet_v1_DisconnectNetworkResponse>;
  
  Inspect: grpc.handleUnaryCall<_tsnet_v1_NetworkRef__Output, _tsnet_v1_InspectNetworkResponse>;
  
  List: grpc.handleUnaryCall<_tsnet_v1_ListNetworksRequest__Output, _tsnet_v1_ListNetworksResponse>;
  
  Prune: grpc.handleUnaryCall<_tsnet_v1_PruneNetworksRequest__Output, _tsnet_v1_PruneNetworksResponse>;
  
  Remove: grpc.handleUnaryCall<_tsnet_v1_NetworkRef__Output, _tsnet_v1_RemoveNetworkResponse>;
  
}

export interface NetworksDefinition extends grpc.ServiceDefinition {
  Connect: MethodDefinition<_tsnet_v1_ConnectNetworkRequest, _tsnet_v1_ConnectNetworkResponse, _tsnet_v1_ConnectNetworkRequest__Output, _tsnet_v1_ConnectNetworkResponse__Output>
  Create: MethodDefinition<_tsnet_v1_CreateNetworkRequest, _tsnet_v1_CreateNetworkResponse, _tsnet_v1_CreateNetworkRequest__Output, _tsnet_v1_CreateNetworkResponse__Output>
  Disconnect: MethodDefinition<_tsnet_v1_DisconnectNetworkRequest, _tsnet_v1_DisconnectNetworkResponse, _tsnet_v1_DisconnectNetworkRequest__Output, _tsnet_v1_DisconnectNetworkResponse__Output>
  Inspect: MethodDefinition<_tsnet_v1_NetworkRef, _tsnet_v1_InspectNetworkResponse, _tsnet_v1_NetworkRef__Output, _tsnet_v1_InspectNetworkResponse__Output>
  List: MethodDefinition<_tsnet_v1_ListNetworksRequest, _tsnet_v1_ListNetworksResponse, _tsnet_v1_ListNetworksRequest__Output, _tsnet_v1_ListNetworksResponse__Output>
  Prune: MethodDefinition<_tsnet_v1_PruneNetworksRequest, _tsnet_v1_PruneNetworksResponse, _tsnet_v1_PruneNetworksRequest__Output, _tsnet_v1_PruneNetworksResponse__Output>
  Remove: MethodDefinition<_tsnet_v1_NetworkRef, _tsnet_v1_RemoveNetworkResponse, _tsnet_v1_NetworkRef__Output, _tsnet_v1_RemoveNetworkResponse__Output>
}
