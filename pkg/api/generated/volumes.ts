import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CreateVolumeRequest as _tsnet_v1_CreateVolumeRequest, CreateVolumeRequest__Output as _tsnet_v1_CreateVolumeRequest__Output } from './tsnet/v1/CreateVolumeRequest.ts';
import type { InspectVolumeResponse as _tsnet_v1_InspectVolumeResponse, InspectVolumeResponse__Output as _tsnet_v1_InspectVolumeResponse__Output } from './tsnet/v1/InspectVolumeResponse.ts';
import type { ListVolumesRequest as _tsnet_v1_ListVolumesRequest, ListVolumesRequest__Output as _tsnet_v1_ListVolumesRequest__Output } from './tsnet/v1/ListVolumesRequest.ts';
import type { ListVolumesResponse as _tsnet_v1_ListVolumesResponse, ListVolumesResponse__Output as _tsnet_v1_ListVolumesResponse__Output } from './tsnet/v1/ListVolumesResponse.ts';
import type { PruneVolumesRequest as _tsnet_v1_PruneVolumesRequest, PruneVolumesRequest__Output as _tsnet_v1_PruneVolumesRequest__Output } from './tsnet/v1/PruneVolumesRequest.ts';
import type { PruneVolumesResponse as _tsnet_v1_PruneVolumesResponse, PruneVolumesResponse__Output as _tsnet_v1_PruneVolumesResponse__Output } from './tsnet/v1/PruneVolumesResponse.ts';
import type { RemoveVolumeRequest as _tsnet_v1_RemoveVolumeRequest, RemoveVolumeRequest__Output as _tsnet_v1_RemoveVolumeRequest__Output } from './tsnet/v1/RemoveVolumeRequest.ts';
import type { RemoveVolumeResponse as _tsnet_v1_RemoveVolumeResponse, RemoveVolumeResponse__Output as _tsnet_v1_RemoveVolumeResponse__Output } from './tsnet/v1/RemoveVolumeResponse.ts';
import type { VolumeRef as _tsnet_v1_VolumeRef, VolumeRef__Output as _tsnet_v1_VolumeRef__Output } from './tsnet/v1/VolumeRef.ts';
import type { VolumeSummary as _tsnet_v1_VolumeSummary, VolumeSummary__Output as _tsnet_v1_VolumeSummary__Output } from './tsnet/v1/VolumeSummary.ts';
import type { VolumesClient as _tsnet_v1_VolumesClient, VolumesDefinition as _tsnet_v1_VolumesDefinition } from './tsnet/v1/Volumes.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tsnet: {
    v1: {
      CreateVolumeRequest: MessageTypeDefinition<_tsnet_v1_CreateVolumeRequest, _tsnet_v1_CreateVolumeRequest__Output>
      InspectVolumeResponse: MessageTypeDefinition<_tsnet_v1_InspectVolumeResponse, _tsnet_v1_InspectVolumeResponse__Output>
      ListVolumesRequest: MessageTypeDefinition<_tsnet_v1_ListVolumesRequest, _tsnet_v1_ListVolumesRequest__Output>
      ListVolumesResponse: MessageTypeDefinition<_tsnet_v1_ListVolumesResponse, _tsnet_v1_ListVolumesResponse__Output>
      PruneVolumesRequest: MessageTypeDefinition<_tsnet_v1_PruneVolumesRequest, _tsnet_v1_PruneVolumesRequest__Output>
      PruneVolumesResponse: MessageTypeDefinition<_tsnet_v1_PruneVolumesResponse, _tsnet_v1_PruneVolumesResponse__Output>
      RemoveVolumeRequest: MessageTypeDefinition<_tsnet_v1_RemoveVolumeRequest, _tsnet_v1_RemoveVolumeRequest__Output>
      RemoveVolumeResponse: MessageTypeDefinition<_tsnet_v1_RemoveVolumeResponse, _tsnet_v1_RemoveVolumeResponse__Output>
      VolumeRef: MessageTypeDefinition<_tsnet_v1_VolumeRef, _tsnet_v1_VolumeRef__Output>
      VolumeSummary: MessageTypeDefinition<_tsnet_v1_VolumeSummary, _tsnet_v1_VolumeSummary__Output>
      Volumes: SubtypeConstructor<typeof grpc.Client, _tsnet_v1_VolumesClient> & { service: _tsnet_v1_VolumesDefinition }
    }
  }
}

