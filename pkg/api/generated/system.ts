import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Event as _tsnet_v1_Event, Event__Output as _tsnet_v1_Event__Output } from './tsnet/v1/Event.ts';
import type { EventsRequest as _tsnet_v1_EventsRequest, EventsRequest__Output as _tsnet_v1_EventsRequest__Output } from './tsnet/v1/EventsRequest.ts';
import type { InfoRequest as _tsnet_v1_InfoRequest, InfoRequest__Output as _tsnet_v1_InfoRequest__Output } from './tsnet/v1/InfoRequest.ts';
import type { InfoResponse as _tsnet_v1_InfoResponse, InfoResponse__Output as _tsnet_v1_InfoResponse__Output } from './tsnet/v1/InfoResponse.ts';
import type { SystemClient as _tsnet_v1_SystemClient, SystemDefinition as _tsnet_v1_SystemDefinition } from './tsnet/v1/System.ts';
import type { VersionRequest as _tsnet_v1_VersionRequest, VersionRequest__Output as _tsnet_v1_VersionRequest__Output } from './tsnet/v1/VersionRequest.ts';
import type { VersionResponse as _tsnet_v1_VersionResponse, VersionResponse__Output as _tsnet_v1_VersionResponse__Output } from './tsnet/v1/VersionResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tsnet: {
    v1: {
      Event: MessageTypeDefinition<_tsnet_v1_Event, _tsnet_v1_Event__Output>
      EventsRequest: MessageTypeDefinition<_tsnet_v1_EventsRequest, _tsnet_v1_EventsRequest__Output>
      InfoRequest: MessageTypeDefinition<_tsnet_v1_InfoRequest, _tsnet_v1_InfoRequest__Output>
      InfoResponse: MessageTypeDefinition<_tsnet_v1_InfoResponse, _tsnet_v1_InfoResponse__Output>
      System: SubtypeConstructor<typeof grpc.Client, _tsnet_v1_SystemClient> & { service: _tsnet_v1_SystemDefinition }
      VersionRequest: MessageTypeDefinition<_tsnet_v1_VersionRequest, _tsnet_v1_VersionRequest__Output>
      VersionResponse: MessageTypeDefinition<_tsnet_v1_VersionResponse, _tsnet_v1_VersionResponse__Output>
    }
  }
}

