import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ConnectNetworkRequest as _tsnet_v1_ConnectNetworkRequest, ConnectNetworkRequest__Output as _tsnet_v1_ConnectNetworkRequest__Output } from './tsnet/v1/ConnectNetworkRequest.ts';
import type { ConnectNetworkResponse as _tsnet_v1_ConnectNetworkResponse, ConnectNetworkResponse__Output as _tsnet_v1_ConnectNetworkResponse__Output } from './tsnet/v1/ConnectNetworkResponse.ts';
import type { CreateNetworkRequest as _tsnet_v1_CreateNetworkRequest, CreateNetworkRequest__Output as _tsnet_v1_CreateNetworkRequest__Output } from './tsnet/v1/CreateNetworkRequest.ts';
import type { CreateNetworkResponse as _tsnet_v1_CreateNetworkResponse, CreateNetworkResponse__Output as _tsnet_v1_CreateNetworkResponse__Output } from './tsnet/v1/CreateNetworkResponse.ts';
import type { DisconnectNetworkRequest as _tsnet_v1_DisconnectNetworkRequest, DisconnectNetworkRequest__Output as _tsnet_v1_DisconnectNetworkRequest__Output } from './tsnet/v1/DisconnectNetworkRequest.ts';
import type { DisconnectNetworkResponse as _tsnet_v1_DisconnectNetworkResponse, DisconnectNetworkResponse__Output as _tsnet_v1_DisconnectNetworkResponse__Output } from './tsnet/v1/DisconnectNetworkResponse.ts';
import type { InspectNetworkResponse as _tsnet_v1_InspectNetworkResponse, InspectNetworkResponse__Output as _tsnet_v1_InspectNetworkResponse__Output } from './tsnet/v1/InspectNetworkResponse.ts';
import type { IpamPool as _tsnet_v1_IpamPool, IpamPool__Output as _tsnet_v1_IpamPool__Output } from './tsnet/v1/IpamPool.ts';
import type { ListNetworksRequest as _tsnet_v1_ListNetworksRequest, ListNetworksRequest__Output as _tsnet_v1_ListNetworksRequest__Output } from './tsnet/v1/ListNetworksRequest.ts';
import type { ListNetworksResponse as _tsnet_v1_ListNetworksResponse, ListNetworksResponse__Output as _tsnet_v1_ListNetworksResponse__Output } from './tsnet/v1/ListNetworksResponse.ts';
import type { NetworkRef as _tsnet_v1_NetworkRef, NetworkRef__Output as _tsnet_v1_NetworkRef__Output } from './tsnet/v1/NetworkRef.ts';
import type { NetworkSummary as _tsnet_v1_NetworkSummary, NetworkSummary__Output as _tsnet_v1_NetworkSummary__Output } from './tsnet/v1/NetworkSummary.ts';
import type { NetworksClient as _tsnet_v1_NetworksClient, NetworksDefinition as _tsnet_v1_NetworksDefinition } from './tsnet/v1/Networks.ts';
import type { PruneNetworksRequest as _tsnet_v1_PruneNetworksRequest, PruneNetworksRequest__Output as _tsnet_v1_PruneNetworksRequest__Output } from './tsnet/v1/PruneNetworksRequest.ts';
import type { PruneNetworksResponse as _tsnet_v1_PruneNetworksResponse, PruneNetworksResponse__Output as _tsnet_v1_PruneNetworksResponse__Output } from './tsnet/v1/PruneNetworksResponse.ts';
import type { RemoveNetworkResponse as _tsnet_v1_RemoveNetworkResponse, RemoveNetworkResponse__Output as _tsnet_v1_RemoveNetworkResponse__Output } from './tsnet/v1/RemoveNetworkResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tsnet: {
    v1: {
      ConnectNetworkRequest: MessageTypeDefinition<_tsnet_v1_ConnectNetworkRequest, _tsnet_v1_ConnectNetworkRequest__Output>
      ConnectNetworkResponse: MessageTypeDefinition<_tsnet_v1_ConnectNetworkResponse, _tsnet_v1_ConnectNetworkResponse__Output>
      CreateNetworkRequest: MessageTypeDefinition<_tsnet_v1_CreateNetworkRequest, _tsnet_v1_CreateNetworkRequest__Output>
      CreateNetworkResponse: MessageTypeDefinition<_tsnet_v1_CreateNetworkResponse, _tsnet_v1_CreateNetworkResponse__Output>
      DisconnectNetworkRequest: MessageTypeDefinition<_tsnet_v1_DisconnectNetworkRequest, _tsnet_v1_DisconnectNetworkRequest__Output>
      DisconnectNetworkResponse: MessageTypeDefinition<_tsnet_v1_DisconnectNetworkResponse, _tsnet_v1_DisconnectNetworkResponse__Output>
      InspectNetworkResponse: MessageTypeDefinition<_tsnet_v1_InspectNetworkResponse, _tsnet_v1_InspectNetworkResponse__Output>
      IpamPool: MessageTypeDefinition<_tsnet_v1_IpamPool, _tsnet_v1_IpamPool__Output>
      ListNetworksRequest: MessageTypeDefinition<_tsnet_v1_ListNetworksRequest, _tsnet_v1_ListNetworksRequest__Output>
      ListNetworksResponse: MessageTypeDefinition<_tsnet_v1_ListNetworksResponse, _tsnet_v1_ListNetworksResponse__Output>
      NetworkRef: MessageTypeDefinition<_tsnet_v1_NetworkRef, _tsnet_v1_NetworkRef__Output>
      NetworkSummary: MessageTypeDefinition<_tsnet_v1_NetworkSummary, _tsnet_v1_NetworkSummary__Output>
      Networks: SubtypeConstructor<typeof grpc.Client, _tsnet_v1_NetworksClient> & { service: _tsnet_v1_NetworksDefinition }
      PruneNetworksRequest: MessageTypeDefinition<_tsnet_v1_PruneNetworksRequest, _tsnet_v1_PruneNetworksRequest__Output>
      PruneNetworksResponse: MessageTypeDefinition<_tsnet_v1_PruneNetworksResponse, _tsnet_v1_PruneNetworksResponse__Output>
      RemoveNetworkResponse: MessageTypeDefinition<_tsnet_v1_RemoveNetworkResponse, _tsnet_v1_RemoveNetworkResponse__Output>
    }
  }
}

