import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ArchiveChunk as _tsnet_v1_ArchiveChunk, ArchiveChunk__Output as _tsnet_v1_ArchiveChunk__Output } from './tsnet/v1/ArchiveChunk.ts';
import type { AttachInput as _tsnet_v1_AttachInput, AttachInput__Output as _tsnet_v1_AttachInput__Output } from './tsnet/v1/AttachInput.ts';
import type { AttachOutput as _tsnet_v1_AttachOutput, AttachOutput__Output as _tsnet_v1_AttachOutput__Output } from './tsnet/v1/AttachOutput.ts';
import type { AttachStart as _tsnet_v1_AttachStart, AttachStart__Output as _tsnet_v1_AttachStart__Output } from './tsnet/v1/AttachStart.ts';
import type { BuildChunk as _tsnet_v1_BuildChunk, BuildChunk__Output as _tsnet_v1_BuildChunk__Output } from './tsnet/v1/BuildChunk.ts';
import type { BuildMessage as _tsnet_v1_BuildMessage, BuildMessage__Output as _tsnet_v1_BuildMessage__Output } from './tsnet/v1/BuildMessage.ts';
import type { BuildOptions as _tsnet_v1_BuildOptions, BuildOptions__Output as _tsnet_v1_BuildOptions__Output } from './tsnet/v1/BuildOptions.ts';
import type { CommitRequest as _tsnet_v1_CommitRequest, CommitRequest__Output as _tsnet_v1_CommitRequest__Output } from './tsnet/v1/CommitRequest.ts';
import type { CommitResponse as _tsnet_v1_CommitResponse, CommitResponse__Output as _tsnet_v1_CommitResponse__Output } from './tsnet/v1/CommitResponse.ts';
import type { ContainerActionResponse as _tsnet_v1_ContainerActionResponse, ContainerActionResponse__Output as _tsnet_v1_ContainerActionResponse__Output } from './tsnet/v1/ContainerActionResponse.ts';
import type { ContainerRef as _tsnet_v1_ContainerRef, ContainerRef__Output as _tsnet_v1_ContainerRef__Output } from './tsnet/v1/ContainerRef.ts';
import type { ContainerStats as _tsnet_v1_ContainerStats, ContainerStats__Output as _tsnet_v1_ContainerStats__Output } from './tsnet/v1/ContainerStats.ts';
import type { ContainerSummary as _tsnet_v1_ContainerSummary, ContainerSummary__Output as _tsnet_v1_ContainerSummary__Output } from './tsnet/v1/ContainerSummary.ts';
import type { ContainersClient as _tsnet_v1_ContainersClient, ContainersDefinition as _tsnet_v1_ContainersDefinition } from './tsnet/v1/Containers.ts';
import type { CopyFromRequest as _tsnet_v1_CopyFromRequest, CopyFromRequest__Output as _tsnet_v1_CopyFromRequest__Output } from './tsnet/v1/CopyFromRequest.ts';
import type { CopyToChunk as _tsnet_v1_CopyToChunk, CopyToChunk__Output as _tsnet_v1_CopyToChunk__Output } from './tsnet/v1/CopyToChunk.ts';
import type { CopyToOptions as _tsnet_v1_CopyToOptions, CopyToOptions__Output as _tsnet_v1_CopyToOptions__Output } from './tsnet/v1/CopyToOptions.ts';
import type { CopyToResponse as _tsnet_v1_CopyToResponse, CopyToResponse__Output as _tsnet_v1_CopyToResponse__Output } from './tsnet/v1/CopyToResponse.ts';
import type { CreateContainerRequest as _tsnet_v1_CreateContainerRequest, CreateContainerRequest__Output as _tsnet_v1_CreateContainerRequest__Output } from './tsnet/v1/CreateContainerRequest.ts';
import type { CreateContainerResponse as _tsnet_v1_CreateContainerResponse, CreateContainerResponse__Output as _tsnet_v1_CreateContainerResponse__Output } from './tsnet/v1/CreateContainerResponse.ts';
import type { ExecInput as _tsnet_v1_ExecInput, ExecInput__Output as _tsnet_v1_ExecInput__Output } from './tsnet/v1/ExecInput.ts';
import type { ExecStart as _tsnet_v1_ExecStart, ExecStart__Output as _tsnet_v1_ExecStart__Output } from './tsnet/v1/ExecStart.ts';
import type { HistoryEntry as _tsnet_v1_HistoryEntry, HistoryEntry__Output as _tsnet_v1_HistoryEntry__Output } from './tsnet/v1/HistoryEntry.ts';
import type { ImageHistoryRequest as _tsnet_v1_ImageHistoryRequest, ImageHistoryRequest__Output as _tsnet_v1_ImageHistoryRequest__Output } from './tsnet/v1/ImageHistoryRequest.ts';
import type { ImageHistoryResponse as _tsnet_v1_ImageHistoryResponse, ImageHistoryResponse__Output as _tsnet_v1_ImageHistoryResponse__Output } from './tsnet/v1/ImageHistoryResponse.ts';
import type { ImageSummary as _tsnet_v1_ImageSummary, ImageSummary__Output as _tsnet_v1_ImageSummary__Output } from './tsnet/v1/ImageSummary.ts';
import type { ImagesClient as _tsnet_v1_ImagesClient, ImagesDefinition as _tsnet_v1_ImagesDefinition } from './tsnet/v1/Images.ts';
import type { ImportChunk as _tsnet_v1_ImportChunk, ImportChunk__Output as _tsnet_v1_ImportChunk__Output } from './tsnet/v1/ImportChunk.ts';
import type { ImportImageResponse as _tsnet_v1_ImportImageResponse, ImportImageResponse__Output as _tsnet_v1_ImportImageResponse__Output } from './tsnet/v1/ImportImageResponse.ts';
import type { InspectContainerResponse as _tsnet_v1_InspectContainerResponse, InspectContainerResponse__Output as _tsnet_v1_InspectContainerResponse__Output } from './tsnet/v1/InspectContainerResponse.ts';
import type { InspectImageRequest as _tsnet_v1_InspectImageRequest, InspectImageRequest__Output as _tsnet_v1_InspectImageRequest__Output } from './tsnet/v1/InspectImageRequest.ts';
import type { InspectImageResponse as _tsnet_v1_InspectImageResponse, InspectImageResponse__Output as _tsnet_v1_InspectImageResponse__Output } from './tsnet/v1/InspectImageResponse.ts';
import type { KillContainerRequest as _tsnet_v1_KillContainerRequest, KillContainerRequest__Output as _tsnet_v1_KillContainerRequest__Output } from './tsnet/v1/KillContainerRequest.ts';
import type { ListContainersRequest as _tsnet_v1_ListContainersRequest, ListContainersRequest__Output as _tsnet_v1_ListContainersRequest__Output } from './tsnet/v1/ListContainersRequest.ts';
import type { ListContainersResponse as _tsnet_v1_ListContainersResponse, ListContainersResponse__Output as _tsnet_v1_ListContainersResponse__Output } from './tsnet/v1/ListContainersResponse.ts';
import type { ListImagesRequest as _tsnet_v1_ListImagesRequest, ListImagesRequest__Output as _tsnet_v1_ListImagesRequest__Output } from './tsnet/v1/ListImagesRequest.ts';
import type { ListImagesResponse as _tsnet_v1_ListImagesResponse, ListImagesResponse__Output as _tsnet_v1_ListImagesResponse__Output } from './tsnet/v1/ListImagesResponse.ts';
import type { LogEntry as _tsnet_v1_LogEntry, LogEntry__Output as _tsnet_v1_LogEntry__Output } from './tsnet/v1/LogEntry.ts';
import type { LoginRequest as _tsnet_v1_LoginRequest, LoginRequest__Output as _tsnet_v1_LoginRequest__Output } from './tsnet/v1/LoginRequest.ts';
import type { LoginResponse as _tsnet_v1_LoginResponse, LoginResponse__Output as _tsnet_v1_LoginResponse__Output } from './tsnet/v1/LoginResponse.ts';
import type { LogoutRequest as _tsnet_v1_LogoutRequest, LogoutRequest__Output as _tsnet_v1_LogoutRequest__Output } from './tsnet/v1/LogoutRequest.ts';
import type { LogoutResponse as _tsnet_v1_LogoutResponse, LogoutResponse__Output as _tsnet_v1_LogoutResponse__Output } from './tsnet/v1/LogoutResponse.ts';
import type { LogsRequest as _tsnet_v1_LogsRequest, LogsRequest__Output as _tsnet_v1_LogsRequest__Output } from './tsnet/v1/LogsRequest.ts';
import type { PortBinding as _tsnet_v1_PortBinding, PortBinding__Output as _tsnet_v1_PortBinding__Output } from './tsnet/v1/PortBinding.ts';
import type { PortResponse as _tsnet_v1_PortResponse, PortResponse__Output as _tsnet_v1_PortResponse__Output } from './tsnet/v1/PortResponse.ts';
import type { ProgressMessage as _tsnet_v1_ProgressMessage, ProgressMessage__Output as _tsnet_v1_ProgressMessage__Output } from './tsnet/v1/ProgressMessage.ts';
import type { PruneContainersRequest as _tsnet_v1_PruneContainersRequest, PruneContainersRequest__Output as _tsnet_v1_PruneContainersRequest__Output } from './tsnet/v1/PruneContainersRequest.ts';
import type { PruneContainersResponse as _tsnet_v1_PruneContainersResponse, PruneContainersResponse__Output as _tsnet_v1_PruneContainersResponse__Output } from './tsnet/v1/PruneContainersResponse.ts';
import type { PruneImagesRequest as _tsnet_v1_PruneImagesRequest, PruneImagesRequest__Output as _tsnet_v1_PruneImagesRequest__Output } from './tsnet/v1/PruneImagesRequest.ts';
import type { PruneImagesResponse as _tsnet_v1_PruneImagesResponse, PruneImagesResponse__Output as _tsnet_v1_PruneImagesResponse__Output } from './tsnet/v1/PruneImagesResponse.ts';
import type { PullImageRequest as _tsnet_v1_PullImageRequest, PullImageRequest__Output as _tsnet_v1_PullImageRequest__Output } from './tsnet/v1/PullImageRequest.ts';
import type { PushImageRequest as _tsnet_v1_PushImageRequest, PushImageRequest__Output as _tsnet_v1_PushImageRequest__Output } from './tsnet/v1/PushImageRequest.ts';
import type { RemoveContainerRequest as _tsnet_v1_RemoveContainerRequest, RemoveContainerRequest__Output as _tsnet_v1_RemoveContainerRequest__Output } from './tsnet/v1/RemoveContainerRequest.ts';
import type { RemoveImageRequest as _tsnet_v1_RemoveImageRequest, RemoveImageRequest__Output as _tsnet_v1_RemoveImageRequest__Output } from './tsnet/v1/RemoveImageRequest.ts';
import type { RemoveImageResponse as _tsnet_v1_RemoveImageResponse, RemoveImageResponse__Output as _tsnet_v1_RemoveImageResponse__Output } from './tsnet/v1/RemoveImageResponse.ts';
import type { RenameContainerRequest as _tsnet_v1_RenameContainerRequest, RenameContainerRequest__Output as _tsnet_v1_RenameContainerRequest__Output } from './tsnet/v1/RenameContainerRequest.ts';
import type { SaveImagesRequest as _tsnet_v1_SaveImagesRequest, SaveImagesRequest__Output as _tsnet_v1_SaveImagesRequest__Output } from './tsnet/v1/SaveImagesRequest.ts';
import type { StatsRequest as _tsnet_v1_StatsRequest, StatsRequest__Output as _tsnet_v1_StatsRequest__Output } from './tsnet/v1/StatsRequest.ts';
import type { StopContainerRequest as _tsnet_v1_StopContainerRequest, StopContainerRequest__Output as _tsnet_v1_StopContainerRequest__Output } from './tsnet/v1/StopContainerRequest.ts';
import type { TagImageRequest as _tsnet_v1_TagImageRequest, TagImageRequest__Output as _tsnet_v1_TagImageRequest__Output } from './tsnet/v1/TagImageRequest.ts';
import type { TagImageResponse as _tsnet_v1_TagImageResponse, TagImageResponse__Output as _tsnet_v1_TagImageResponse__Output } from './tsnet/v1/TagImageResponse.ts';
import type { TerminalSize as _tsnet_v1_TerminalSize, TerminalSize__Output as _tsnet_v1_TerminalSize__Output } from './tsnet/v1/TerminalSize.ts';
import type { TopRequest as _tsnet_v1_TopRequest, TopRequest__Output as _tsnet_v1_TopRequest__Output } from './tsnet/v1/TopRequest.ts';
import type { TopResponse as _tsnet_v1_TopResponse, TopResponse__Output as _tsnet_v1_TopResponse__Output } from './tsnet/v1/TopResponse.ts';
import type { TopRow as _tsnet_v1_TopRow, TopRow__Output as _tsnet_v1_TopRow__Output } from './tsnet/v1/TopRow.ts';
import type { WaitContainerRequest as _tsnet_v1_WaitContainerRequest, WaitContainerRequest__Output as _tsnet_v1_WaitContainerRequest__Output } from './tsnet/v1/WaitContainerRequest.ts';
import type { WaitContainerResponse as _tsnet_v1_WaitContainerResponse, WaitContainerResponse__Output as _tsnet_v1_WaitContainerResponse__Output } from './tsnet/v1/WaitContainerResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  tsnet: {
    v1: {
      ArchiveChunk: MessageTypeDefinition<_tsnet_v1_ArchiveChunk, _tsnet_v1_ArchiveChunk__Output>
      AttachInput: MessageTypeDefinition<_tsnet_v1_AttachInput, _tsnet_v1_AttachInput__Output>
      AttachOutput: MessageTypeDefinition<_tsnet_v1_AttachOutput, _tsnet_v1_AttachOutput__Output>
      AttachStart: MessageTypeDefinition<_tsnet_v1_AttachStart, _tsnet_v1_AttachStart__Output>
      BuildChunk: MessageTypeDefinition<_tsnet_v1_BuildChunk, _tsnet_v1_BuildChunk__Output>
      BuildMessage: MessageTypeDefinition<_tsnet_v1_BuildMessage, _tsnet_v1_BuildMessage__Output>
      BuildOptions: MessageTypeDefinition<_tsnet_v1_BuildOptions, _tsnet_v1_BuildOptions__Output>
      CommitRequest: MessageTypeDefinition<_tsnet_v1_CommitRequest, _tsnet_v1_CommitRequest__Output>
      CommitResponse: MessageTypeDefinition<_tsnet_v1_CommitResponse, _tsnet_v1_CommitResponse__Output>
      ContainerActionResponse: MessageTypeDefinition<_tsnet_v1_ContainerActionResponse, _tsnet_v1_ContainerActionResponse__Output>
      ContainerRef: MessageTypeDefinition<_tsnet_v1_ContainerRef, _tsnet_v1_ContainerRef__Output>
      ContainerStats: MessageTypeDefinition<_tsnet_v1_ContainerStats, _tsnet_v1_ContainerStats__Output>
      ContainerSummary: MessageTypeDefinition<_tsnet_v1_ContainerSummary, _tsnet_v1_ContainerSummary__Output>
      Containers: SubtypeConstructor<typeof grpc.Client, _tsnet_v1_ContainersClient> & { service: _tsnet_v1_ContainersDefinition }
      CopyFromRequest: MessageTypeDefinition<_tsnet_v1_CopyFromRequest, _tsnet_v1_CopyFromRequest__Output>
      CopyToChunk: MessageTypeDefinition<_tsnet_v1_CopyToChunk, _tsnet_v1_CopyToChunk__Output>
      CopyToOptions: MessageTypeDefinition<_tsnet_v1_CopyToOptions, _tsnet_v1_CopyToOptions__Output>
      CopyToResponse: MessageTypeDefinition<_tsnet_v1_CopyToResponse, _tsnet_v1_CopyToResponse__Output>
      CreateContainerRequest: MessageTypeDefinition<_tsnet_v1_CreateContainerRequest, _tsnet_v1_CreateContainerRequest__Output>
      CreateContainerResponse: MessageTypeDefinition<_tsnet_v1_CreateContainerResponse, _tsnet_v1_CreateContainerResponse__Output>
      ExecInput: MessageTypeDefinition<_tsnet_v1_ExecInput, _tsnet_v1_ExecInput__Output>
      ExecStart: MessageTypeDefinition<_tsnet_v1_ExecStart, _tsnet_v1_ExecStart__Output>
      HistoryEntry: MessageTypeDefinition<_tsnet_v1_HistoryEntry, _tsnet_v1_HistoryEntry__Output>
      ImageHistoryRequest: MessageTypeDefinition<_tsnet_v1_ImageHistoryRequest, _tsnet_v1_ImageHistoryRequest__Output>
      ImageHistoryResponse: MessageTypeDefinition<_tsnet_v1_ImageHistoryResponse, _tsnet_v1_ImageHistoryResponse__Output>
      ImageSummary: MessageTypeDefinition<_tsnet_v1_ImageSummary, _tsnet_v1_ImageSummary__Output>
      Images: SubtypeConstructor<typeof grpc.Client, _tsnet_v1_ImagesClient> & { service: _tsnet_v1_ImagesDefinition }
      ImportChunk: MessageTypeDefinition<_tsnet_v1_ImportChunk, _tsnet_v1_ImportChunk__Output>
      ImportImageResponse: MessageTypeDefinition<_tsnet_v1_ImportImageResponse, _tsnet_v1_ImportImageResponse__Output>
      InspectContainerResponse: MessageTypeDefinition<_tsnet_v1_InspectContainerResponse, _tsnet_v1_InspectContainerResponse__Output>
      InspectImageRequest: MessageTypeDefinition<_tsnet_v1_InspectImageRequest, _tsnet_v1_InspectImageRequest__Output>
      InspectImageResponse: MessageTypeDefinition<_tsnet_v1_InspectImageResponse, _tsnet_v1_InspectImageResponse__Output>
      KillContainerRequest: MessageTypeDefinition<_tsnet_v1_KillContainerRequest, _tsnet_v1_KillContainerRequest__Output>
      ListContainersRequest: MessageTypeDefinition<_tsnet_v1_ListContainersRequest, _tsnet_v1_ListContainersRequest__Output>
      ListContainersResponse: MessageTypeDefinition<_tsnet_v1_ListContainersResponse, _tsnet_v1_ListContainersResponse__Output>
      ListImagesRequest: MessageTypeDefinition<_tsnet_v1_ListImagesRequest, _tsnet_v1_ListImagesRequest__Output>
      ListImagesResponse: MessageTypeDefinition<_tsnet_v1_ListImagesResponse, _tsnet_v1_ListImagesResponse__Output>
      LogEntry: MessageTypeDefinition<_tsnet_v1_LogEntry, _tsnet_v1_LogEntry__Output>
      LoginRequest: MessageTypeDefinition<_tsnet_v1_LoginRequest, _tsnet_v1_LoginRequest__Output>
      LoginResponse: MessageTypeDefinition<_tsnet_v1_LoginResponse, _tsnet_v1_LoginResponse__Output>
      LogoutRequest: MessageTypeDefinition<_tsnet_v1_LogoutRequest, _tsnet_v1_LogoutRequest__Output>
      LogoutResponse: MessageTypeDefinition<_tsnet_v1_LogoutResponse, _tsnet_v1_LogoutResponse__Output>
      LogsRequest: MessageTypeDefinition<_tsnet_v1_LogsRequest, _tsnet_v1_LogsRequest__Output>
      PortBinding: MessageTypeDefinition<_tsnet_v1_PortBinding, _tsnet_v1_PortBinding__Output>
      PortResponse: MessageTypeDefinition<_tsnet_v1_PortResponse, _tsnet_v1_PortResponse__Output>
      ProgressMessage: MessageTypeDefinition<_tsnet_v1_ProgressMessage, _tsnet_v1_ProgressMessage__Output>
      PruneContainersRequest: MessageTypeDefinition<_tsnet_v1_PruneContainersRequest, _tsnet_v1_PruneContainersRequest__Output>
      PruneContainersResponse: MessageTypeDefinition<_tsnet_v1_PruneContainersResponse, _tsnet_v1_PruneContainersResponse__Output>
      PruneImagesRequest: MessageTypeDefinition<_tsnet_v1_PruneImagesRequest, _tsnet_v1_PruneImagesRequest__Output>
      PruneImagesResponse: MessageTypeDefinition<_tsnet_v1_PruneImagesResponse, _tsnet_v1_PruneImagesResponse__Output>
      PullImageRequest: MessageTypeDefinition<_tsnet_v1_PullImageRequest, _tsnet_v1_PullImageRequest__Output>
      PushImageRequest: MessageTypeDefinition<_tsnet_v1_PushImageRequest, _tsnet_v1_PushImageRequest__Output>
      RemoveContainerRequest: MessageTypeDefinition<_tsnet_v1_RemoveContainerRequest, _tsnet_v1_RemoveContainerRequest__Output>
      RemoveImageRequest: MessageTypeDefinition<_tsnet_v1_RemoveImageRequest, _tsnet_v1_RemoveImageRequest__Output>
      RemoveImageResponse: MessageTypeDefinition<_tsnet_v1_RemoveImageResponse, _tsnet_v1_RemoveImageResponse__Output>
      RenameContainerRequest: MessageTypeDefinition<_tsnet_v1_RenameContainerRequest, _tsnet_v1_RenameContainerRequest__Output>
      SaveImagesRequest: MessageTypeDefinition<_tsnet_v1_SaveImagesRequest, _tsnet_v1_SaveImagesRequest__Output>
      StatsRequest: MessageTypeDefinition<_tsnet_v1_StatsRequest, _tsnet_v1_StatsRequest__Output>
      StopContainerRequest: MessageTypeDefinition<_tsnet_v1_StopContainerRequest, _tsnet_v1_StopContainerRequest__Output>
      TagImageRequest: MessageTypeDefinition<_tsnet_v1_TagImageRequest, _tsnet_v1_TagImageRequest__Output>
      TagImageResponse: MessageTypeDefinition<_tsnet_v1_TagImageResponse, _tsnet_v1_TagImageResponse__Output>
      TerminalSize: MessageTypeDefinition<_tsnet_v1_TerminalSize, _tsnet_v1_TerminalSize__Output>
      TopRequest: MessageTypeDefinition<_tsnet_v1_TopRequest, _tsnet_v1_TopRequest__Output>
      TopResponse: MessageTypeDefinition<_tsnet_v1_TopResponse, _tsnet_v1_TopResponse__Output>
      TopRow: MessageTypeDefinition<_tsnet_v1_TopRow, _tsnet_v1_TopRow__Output>
      WaitContainerRequest: MessageTypeDefinition<_tsnet_v1_WaitContainerRequest, _tsnet_v1_WaitContainerRequest__Output>
      WaitContainerResponse: MessageTypeDefinition<_tsnet_v1_WaitContainerResponse, _tsnet_v1_WaitContainerResponse__Output>
    }
  }
}

