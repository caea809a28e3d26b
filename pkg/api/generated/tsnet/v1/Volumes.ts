// Original file: pkg/api/proto/tsnet/v1/volumes.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateVolumeRequest as _tsnet_v1_CreateVolumeRequest, CreateVolumeRequest__Output as _tsnet_v1_CreateVolumeRequest__Output } from '../../tsnet/v1/CreateVolumeRequest.ts';
import type { InspectVolumeResponse as _tsnet_v1_InspectVolumeResponse, InspectVolumeResponse__Output as _tsnet_v1_InspectVolumeResponse__Output } from '../../tsnet/v1/InspectVolumeResponse.ts';
import type { ListVolumesRequest as _tsnet_v1_ListVolumesRequest, ListVolumesRequest__Output as _tsnet_v1_ListVolumesRequest__Output } from '../../tsnet/v1/ListVolumesRequest.ts';
import type { ListVolumesResponse as _tsnet_v1_ListVolumesResponse, ListVolumesResponse__Output as _tsnet_v1_ListVolumesResponse__Output } from '../../tsnet/v1/ListVolumesResponse.ts';
import type { PruneVolumesRequest as _tsnet_v1_PruneVolumesRequest, PruneVolumesRequest__Output as _tsnet_v1_PruneVolumesRequest__Output } from '../../tsnet/v1/PruneVolumesRequest.ts';
import type { PruneVolumesResponse as _tsnet_v1_PruneVolumesResponse, PruneVolumesResponse__Output as _tsnet_v1_PruneVolumesResponse__Output } from '../../tsnet/v1/PruneVolumesResponse.ts';
import type { RemoveVolumeRequest as _tsnet_v1_RemoveVolumeRequest, RemoveVolumeRequest__Output as _tsnet_v1_RemoveVolumeRequest__Output } from '../../tsnet/v1/RemoveVolumeRequest.ts';
import type { RemoveVolumeResponse as _tsnet_v1_RemoveVolumeResponse, RemoveVolumeResponse__Output as _tsnet_v1_RemoveVolumeResponse__Output } from '../../tsnet/v1/RemoveVolumeResponse.ts';
import type { VolumeRef as _tsnet_v1_VolumeRef, VolumeRef__Output as _tsnet_v1_VolumeRef__Output } from '../../tsnet/v1/VolumeRef.ts';
import type { VolumeSummary as _tsnet_v1_VolumeSummary, VolumeSummary__Output as _tsnet_v1_VolumeSummary__Output } from '../../tsnet/v1/VolumeSummary.ts';

export interface VolumesClient extends grpc.Client {
  Create(argument: _tsnet_v1_CreateVolumeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_VolumeSummary__Output>): grpc.ClientUnaryCall;
  Create(argument: _tsnet_v1_CreateVolumeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_VolumeSummary__Output>): grpc.ClientUnaryCall;
  Create(argument: _tsnet_v1_CreateVolumeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_VolumeSummary__Output>): grpc.ClientUnaryCall;
  Create(argument: _tsnet_v1_CreateVolumeRequest, callback: grpc.requestCallback<_tsnet_v1_VolumeSummary__Output>): grpc.ClientUnaryCall;
  create(argument: _tsnet_v1_CreateVolumeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_VolumeSummary__Output>): grpc.ClientUnaryCall;
  create(argument: _tsnet_v1_CreateVolumeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_VolumeSummary__Output>): grpc.ClientUnaryCall;
  create(argument: _tsnet_v1_CreateVolumeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_VolumeSummary__Output>): grpc.ClientUnaryCall;
  create(argument: _tsnet_v1_CreateVolumeRequest, callback: grpc.requestCallback<_tsnet_v1_VolumeSummary__Output>): grpc.ClientUnaryCall;
  
  Inspect(argument: _tsnet_v1_VolumeRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectVolumeResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _tsnet_v1_VolumeRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_InspectVolumeResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _tsnet_v1_VolumeRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectVolumeResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _tsnet_v1_VolumeRef, callback: grpc.requestCallback<_tsnet_v1_InspectVolumeResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_VolumeRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectVolumeResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_VolumeRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_InspectVolumeResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_VolumeRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectVolumeResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_VolumeRef, callback: grpc.requestCallback<_tsnet_v1_InspectVolumeResponse__Output>): grpc.ClientUnaryCall;
  
  List(argument: _tsnet_v1_ListVolumesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _tsnet_v1_ListVolumesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _tsnet_v1_ListVolumesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _tsnet_v1_ListVolumesRequest, callback: grpc.requestCallback<_tsnet_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListVolumesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListVolumesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListVolumesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListVolumesRequest, callback: grpc.requestCallback<_tsnet_v1_ListVolumesResponse__Output>): grpc.ClientUnaryCall;
  
  Prune(argument: _tsnet_v1_PruneVolumesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneVolumesResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _tsnet_v1_PruneVolumesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_PruneVolumesResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _tsnet_v1_PruneVolumesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneVolumesResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _tsnet_v1_PruneVolumesRequest, callback: grpc.requestCallback<_tsnet_v1_PruneVolumesResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneVolumesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneVolumesResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneVolumesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_PruneVolumesResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneVolumesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneVolumesResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneVolumesRequest, callback: grpc.requestCallback<_tsnet_v1_PruneVolumesResponse__Output>): grpc.ClientUnaryCall;
  
  Remove(argument: _tsnet_v1_RemoveVolumeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_RemoveVolumeResponse__Output>): grpc.ClientUnaryCall;
  Remove(argument: _tsnet_v1_RemoveVolumeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_RemoveVolumeResponse__Output>): grpc.ClientUnaryCall;
  Remove(argument: _tsnet_v1_RemoveVolumeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_RemoveVolumeResponse__Output>): grpc.ClientUnaryCall;
  Remove(argument: _tsnet_v1_RemoveVolumeRequest, callback: grpc.requestCallback<_tsnet_v1_RemoveVolumeResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_RemoveVolumeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_RemoveVolumeResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_RemoveVolumeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_RemoveVolumeResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_RemoveVolumeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_RemoveVolumeResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_RemoveVolumeRequest, callback: grpc.requestCallback<_tsnet_v1_RemoveVolumeResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface VolumesHandlers extends grpc.UntypedServiceImplementation {
  Create: grpc.handleUnaryCall<_tsnet_v1_CreateVolumeRequest__Output, _tsnet_v1_VolumeSummary>;
  
  Inspect: grpc.handleUnaryCall<_tsnet_v1_VolumeRef__Output, _tsnet_v1_InspectVolumeResponse>;
  
  List: grpc.handleUnaryCall<_tsnet_v1_ListVolumesRequest__Output, _tsnet_v1_ListVolumesResponse>;
  
  Prune: grpc.handleUnaryCall<_tsnet_v1_PruneVolumesRequest__Output, _tsnet_v1_PruneVolumesResponse>;
  
  Remove: grpc.handleUnaryCall<_tsnet_v1_RemoveVolumeRequest__Output, _tsnet_v1_RemoveVolumeResponse>;
  
}

export interface VolumesDefinition extends grpc.ServiceDefinition {
  Create: MethodDefinition<_tsnet_v1_CreateVolumeRequest, _tsnet_v1_VolumeSummary, _tsnet_v1_CreateVolumeRequest__Output, _tsnet_v1_VolumeSummary__Output>
  Inspect: MethodDefinition<_tsnet_v1_VolumeRef, _tsnet_v1_InspectVolumeResponse, _tsnet_v1_VolumeRef__Output, _tsnet_v1_InspectVolumeResponse__Output>
  List: MethodDefinition<_tsnet_v1_ListVolumesRequest, _tsnet_v1_ListVolumesResponse, _tsnet_v1_ListVolumesRequest__Output, _tsnet_v1_ListVolumesResponse__Output>
  Prune: MethodDefinition<_tsnet_v1_PruneVolumesRequest, _tsnet_v1_PruneVolumesResponse, _tsnet_v1_PruneVolumesRequest__Output, _tsnet_v1_PruneVolumesResponse__Output>
  Remove: MethodDefinition<_tsnet_v1_RemoveVolumeRequest, _tsnet_v1_RemoveVolumeResponse, _tsnet_v1_RemoveVolumeRequest__Output, _tsnet_v1_RemoveVolumeResponse__Output>
}
