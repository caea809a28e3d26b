// Original file: pkg/api/proto/tsnet/v1/system.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Event as _tsnet_v1_Event, Event__Output as _tsnet_v1_Event__Output } from '../../tsnet/v1/Event.ts';
import type { EventsRequest as _tsnet_v1_EventsRequest, EventsRequest__Output as _tsnet_v1_EventsRequest__Output } from '../../tsnet/v1/EventsRequest.ts';
import type { InfoRequest as _tsnet_v1_InfoRequest, InfoRequest__Output as _tsnet_v1_InfoRequest__Output } from '../../tsnet/v1/InfoRequest.ts';
import type { InfoResponse as _tsnet_v1_InfoResponse, InfoResponse__Output as _tsnet_v1_InfoResponse__Output } from '../../tsnet/v1/InfoResponse.ts';
import type { VersionRequest as _tsnet_v1_VersionRequest, VersionRequest__Output as _tsnet_v1_VersionRequest__Output } from '../../tsnet/v1/VersionRequest.ts';
import type { VersionResponse as _tsnet_v1_VersionResponse, VersionResponse__Output as _tsnet_v1_VersionResponse__Output } from '../../tsnet/v1/VersionResponse.ts';

export interface SystemClient extends grpc.Client {
  /**
   * Every event from the call on (and, with `since`, the recent ones the agent still holds), until cancelled.
   */
  Events(argument: _tsnet_v1_EventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_Event__Output>;
  Events(argument: _tsnet_v1_EventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_Event__Output>;
  /**
   * Every event from the call on (and, with `since`, the recent ones the agent still holds), until cancelled.
   */
  events(argument: _tsnet_v1_EventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_Event__Output>;
  events(argument: _tsnet_v1_EventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_Event__Output>;
  
  Info(argument: _tsnet_v1_InfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _tsnet_v1_InfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _tsnet_v1_InfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _tsnet_v1_InfoRequest, callback: grpc.requestCallback<_tsnet_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _tsnet_v1_InfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _tsnet_v1_InfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _tsnet_v1_InfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _tsnet_v1_InfoRequest, callback: grpc.requestCallback<_tsnet_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  
  Version(argument: _tsnet_v1_VersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  Version(argument: _tsnet_v1_VersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  Version(argument: _tsnet_v1_VersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  Version(argument: _tsnet_v1_VersionRequest, callback: grpc.requestCallback<_tsnet_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _tsnet_v1_VersionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _tsnet_v1_VersionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _tsnet_v1_VersionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  version(argument: _tsnet_v1_VersionRequest, callback: grpc.requestCallback<_tsnet_v1_VersionResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface SystemHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Every event from the call on (and, with `since`, the recent ones the agent still holds), until cancelled.
   */
  Events: grpc.handleServerStreamingCall<_tsnet_v1_EventsRequest__Output, _tsnet_v1_Event>;
  
  Info: grpc.handleUnaryCall<_tsnet_v1_InfoRequest__Output, _tsnet_v1_InfoResponse>;
  
  Version: grpc.handleUnaryCall<_tsnet_v1_VersionRequest__Output, _tsnet_v1_VersionResponse>;
  
}

export interface SystemDefinition extends grpc.ServiceDefinition {
  Events: MethodDefinition<_tsnet_v1_EventsRequest, _tsnet_v1_Event, _tsnet_v1_EventsRequest__Output, _tsnet_v1_Event__Output>
  Info: MethodDefinition<_tsnet_v1_InfoRequest, _tsnet_v1_InfoResponse, _tsnet_v1_InfoRequest__Output, _tsnet_v1_InfoResponse__Output>
  Version: MethodDefinition<_tsnet_v1_VersionRequest, _tsnet_v1_VersionResponse, _tsnet_v1_VersionRequest__Output, _tsnet_v1_VersionResponse__Output>
}
