import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ArchiveChunk as _tsnet_v1_ArchiveChunk, ArchiveChunk__Output as _tsnet_v1_ArchiveChunk__Output } from './tsnet/v1/ArchiveChunk.ts';
import type { BuildChunk as _tsnet_v1_BuildChunk, BuildChunk__Output as _tsnet_v1_BuildChunk__Output } from './tsnet/v1/BuildChunk.ts';
import type { BuildMessage as _tsnet_v1_BuildMessage, BuildMessage__Output as _tsnet_v1_BuildMessage__Output } from './tsnet/v1/BuildMessage.ts';
import type { BuildOptions as _tsnet_v1_BuildOptions, BuildOptions__Output as _tsnet_v1_BuildOptions__Output } from './tsnet/v1/BuildOptions.ts';
import type { CommitRequest as _tsnet_v1_CommitRequest, CommitRequest__Output as _tsnet_v1_CommitRequest__Output } from './tsnet/v1/CommitRequest.ts';
import type { CommitResponse as _tsnet_v1_CommitResponse, CommitResponse__Output as _tsnet_v1_CommitResponse__Output } from './tsnet/v1/CommitResponse.ts';
import type { HistoryEntry as _tsnet_v1_HistoryEntry, HistoryEntry__Output as _tsnet_v1_HistoryEntry__Output } from './tsnet/v1/HistoryEntry.ts';
import type { ImageHistoryRequest as _tsnet_v1_ImageHistoryRequest, ImageHistoryRequest__Output as _tsnet_v1_ImageHistoryRequest__Output } from './tsnet/v1/ImageHistoryRequest.ts';
import type { ImageHistoryResponse as _tsnet_v1_ImageHistoryResponse, ImageHistoryResponse__Output as _tsnet_v1_ImageHistoryResponse__Output } from './tsnet/v1/ImageHistoryResponse.ts';
import type { ImageSummary as _tsnet_v1_ImageSummary, ImageSummary__Output as _tsnet_v1_ImageSummary__Output } from './tsnet/v1/ImageSummary.ts';
import type { ImagesClient as _tsnet_v1_ImagesClient, ImagesDefinition as _tsnet_v1_ImagesDefinition } from './tsnet/v1/Images.ts';
import type { ImportChunk as _tsnet_v1_ImportChunk, ImportChunk__Output as _tsnet_v1_ImportChunk__Output } from './tsnet/v1/ImportChunk.ts';
import type { ImportImageResponse as _tsnet_v1_ImportImageResponse, ImportImageResponse__Output as _tsnet_v1_ImportImageResponse__Output } from './tsnet/v1/ImportImageResponse.ts';
import type { InspectImageRequest as _tsnet_v1_InspectImageRequest, InspectImageRequest__Output as _tsnet_v1_InspectImageRequest__Output } from './tsnet/v1/InspectImageRequest.ts';
import type { InspectImageResponse as _tsnet_v1_InspectImageResponse, InspectImageResponse__Output as _tsnet_v1_InspectImageResponse__Output } from './tsnet/v1/InspectImageResponse.ts';
import type { ListImagesRequest as _tsnet_v1_ListImagesRequest, ListImagesRequest__Output as _tsnet_v1_ListImagesRequest__Output } from './tsnet/v1/ListImagesRequest.ts';
import type { ListImagesResponse as _tsnet_v1_ListImagesResponse, ListImagesResponse__Output as _tsnet_v1_ListImagesResponse__Output } from './tsnet/v1/ListImagesResponse.ts';
import type { LoginRequest as _tsnet_v1_LoginRequest, LoginRequest__Output as _tsnet_v1_LoginRequest__Output } from './tsnet/v1/LoginRequest.ts';
import type { LoginResponse as _tsnet_v1_LoginResponse, LoginResponse__Output as _tsnet_v1_LoginResponse__Output } from './tsnet/v1/LoginResponse.ts';
import type { LogoutRequest as _tsnet_v1_LogoutRequest, LogoutRequest__Output as _tsnet_v1_LogoutRequest__Output } from './tsnet/v1/LogoutRequest.ts';
import type { LogoutResponse as _tsnet_v1_LogoutResponse, LogoutResponse__Output as _tsnet_v1_LogoutResponse__Output } from './tsnet/v1/LogoutResponse.ts';
import type { ProgressMessage as _tsnet_v1_ProgressMessage, ProgressMessage__Output as _tsnet_v1_ProgressMessage__Output } from './tsnet/v1/ProgressMessage.ts';
import type { PruneImagesRequest as _tsnet_v1_PruneImagesRequest, PruneImagesRequest__Output as _tsnet_v1_PruneImagesRequest__Output } from './tsnet/v1/PruneImagesRequest.ts';
import type { PruneImagesResponse as _tsnet_v1_PruneImagesResponse, PruneImagesResponse__Output as _tsnet_v1_PruneImagesResponse__Output } from './tsnet/v1/PruneImagesResponse.ts';
import type { PullImageRequest as _tsnet_v1_PullImageRequest, PullImageRequest__Output as _tsnet_v1_PullImageRequest__Output } from './tsnet/v1/PullImageRequest.ts';
import type { PushImageRequest as _tsnet_v1_PushImageRequest, PushImageRequest__Output as _tsnet_v1_PushImageRequest__Output } from './tsnet/v1/PushImageRequest.ts';
import type { RemoveImageRequest as _tsnet_v1_RemoveImageRequest, RemoveImageRequest__Output as _tsnet_v1_RemoveImageRequest__Output } from './tsnet/v1/RemoveImageRequest.ts';
import type { RemoveImageResponse as _tsnet_v1_RemoveImageResponse, RemoveImageResponse__Output as _tsnet_v1_RemoveImageResponse__Output } from './tsnet/v1/RemoveImageResponse.ts';
import type { SaveImagesRequest as _tsnet_v1_SaveImagesRequest, SaveImagesRequest__Output as _tsnet_v1_SaveImagesRequest__Output } from './tsnet/v1/SaveImagesRequest.ts';
import type { TagImageRequest as _tsnet_v1_TagImageRequest, TagImageRequest__Output as _tsnet_v1_TagImageRequest__Output } from './tsnet/v1/TagImageRequest.ts';
import type { TagImageResponse as _tsnet_v1_TagImageResponse, TagImageResponse__Output as _tsnet_v1_TagImageResponse__Output } from './tsnet/v1/TagImageResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tsnet: {
    v1: {
      ArchiveChunk: MessageTypeDefinition<_tsnet_v1_ArchiveChunk, _tsnet_v1_ArchiveChunk__Output>
      BuildChunk: MessageTypeDefinition<_tsnet_v1_BuildChunk, _tsnet_v1_BuildChunk__Output>
      BuildMessage: MessageTypeDefinition<_tsnet_v1_BuildMessage, _tsnet_v1_BuildMessage__Output>
      BuildOptions: MessageTypeDefinition<_tsnet_v1_BuildOptions, _tsnet_v1_BuildOptions__Output>
      CommitRequest: MessageTypeDefinition<_tsnet_v1_CommitRequest, _tsnet_v1_CommitRequest__Output>
      CommitResponse: MessageTypeDefinition<_tsnet_v1_CommitResponse, _tsnet_v1_CommitResponse__Output>
      HistoryEntry: MessageTypeDefinition<_tsnet_v1_HistoryEntry, _tsnet_v1_HistoryEntry__Output>
      ImageHistoryRequest: MessageTypeDefinition<_tsnet_v1_ImageHistoryRequest, _tsnet_v1_ImageHistoryRequest__Output>
      ImageHistoryResponse: MessageTypeDefinition<_tsnet_v1_ImageHistoryResponse, _tsnet_v1_ImageHistoryResponse__Output>
      ImageSummary: MessageTypeDefinition<_tsnet_v1_ImageSummary, _tsnet_v1_ImageSummary__Output>
      Images: SubtypeConstructor<typeof grpc.Client, _tsnet_v1_ImagesClient> & { service: _tsnet_v1_ImagesDefinition }
      ImportChunk: MessageTypeDefinition<_tsnet_v1_ImportChunk, _tsnet_v1_ImportChunk__Output>
      ImportImageResponse: MessageTypeDefinition<_tsnet_v1_ImportImageResponse, _tsnet_v1_ImportImageResponse__Output>
      InspectImageRequest: MessageTypeDefinition<_tsnet_v1_InspectImageRequest, _tsnet_v1_InspectImageRequest__Output>
      InspectImageResponse: MessageTypeDefinition<_tsnet_v1_InspectImageResponse, _tsnet_v1_InspectImageResponse__Output>
      ListImagesRequest: MessageTypeDefinition<_tsnet_v1_ListImagesRequest, _tsnet_v1_ListImagesRequest__Output>
      ListImagesResponse: MessageTypeDefinition<_tsnet_v1_ListImagesResponse, _tsnet_v1_ListImagesResponse__Output>
      LoginRequest: MessageTypeDefinition<_tsnet_v1_LoginRequest, _tsnet_v1_LoginRequest__Output>
      LoginResponse: MessageTypeDefinition<_tsnet_v1_LoginResponse, _tsnet_v1_LoginResponse__Output>
      LogoutRequest: MessageTypeDefinition<_tsnet_v1_LogoutRequest, _tsnet_v1_LogoutRequest__Output>
      LogoutResponse: MessageTypeDefinition<_tsnet_v1_LogoutResponse, _tsnet_v1_LogoutResponse__Output>
      ProgressMessage: MessageTypeDefinition<_tsnet_v1_ProgressMessage, _tsnet_v1_ProgressMessage__Output>
      PruneImagesRequest: MessageTypeDefinition<_tsnet_v1_PruneImagesRequest, _tsnet_v1_PruneImagesRequest__Output>
      PruneImagesResponse: MessageTypeDefinition<_tsnet_v1_PruneImagesResponse, _tsnet_v1_PruneImagesResponse__Output>
      PullImageRequest: MessageTypeDefinition<_tsnet_v1_PullImageRequest, _tsnet_v1_PullImageRequest__Output>
      PushImageRequest: MessageTypeDefinition<_tsnet_v1_PushImageRequest, _tsnet_v1_PushImageRequest__Output>
      RemoveImageRequest: MessageTypeDefinition<_tsnet_v1_RemoveImageRequest, _tsnet_v1_RemoveImageRequest__Output>
      RemoveImageResponse: MessageTypeDefinition<_tsnet_v1_RemoveImageResponse, _tsnet_v1_RemoveImageResponse__Output>
      SaveImagesRequest: MessageTypeDefinition<_tsnet_v1_SaveImagesRequest, _tsnet_v1_SaveImagesRequest__Output>
      TagImageRequest: MessageTypeDefinition<_tsnet_v1_TagImageRequest, _tsnet_v1_TagImageRequest__Output>
      TagImageResponse: MessageTypeDefinition<_tsnet_v1_TagImageResponse, _tsnet_v1_TagImageResponse__Output>
    }
  }
}

