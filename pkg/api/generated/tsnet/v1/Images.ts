// Original file: pkg/api/proto/tsnet/v1/images.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ArchiveChunk as _tsnet_v1_ArchiveChunk, ArchiveChunk__Output as _tsnet_v1_ArchiveChunk__Output } from '../../tsnet/v1/ArchiveChunk.ts';
import type { BuildChunk as _tsnet_v1_BuildChunk, BuildChunk__Output as _tsnet_v1_BuildChunk__Output } from '../../tsnet/v1/BuildChunk.ts';
import type { BuildMessage as _tsnet_v1_BuildMessage, BuildMessage__Output as _tsnet_v1_BuildMessage__Output } from '../../tsnet/v1/BuildMessage.ts';
import type { CommitRequest as _tsnet_v1_CommitRequest, CommitRequest__Output as _tsnet_v1_CommitRequest__Output } from '../../tsnet/v1/CommitRequest.ts';
import type { CommitResponse as _tsnet_v1_CommitResponse, CommitResponse__Output as _tsnet_v1_CommitResponse__Output } from '../../tsnet/v1/CommitResponse.ts';
import type { ImageHistoryRequest as _tsnet_v1_ImageHistoryRequest, ImageHistoryRequest__Output as _tsnet_v1_ImageHistoryRequest__Output } from '../../tsnet/v1/ImageHistoryRequest.ts';
import type { ImageHistoryResponse as _tsnet_v1_ImageHistoryResponse, ImageHistoryResponse__Output as _tsnet_v1_ImageHistoryResponse__Output } from '../../tsnet/v1/ImageHistoryResponse.ts';
import type { ImportChunk as _tsnet_v1_ImportChunk, ImportChunk__Output as _tsnet_v1_ImportChunk__Output } from '../../tsnet/v1/ImportChunk.ts';
import type { ImportImageResponse as _tsnet_v1_ImportImageResponse, ImportImageResponse__Output as _tsnet_v1_ImportImageResponse__Output } from '../../tsnet/v1/ImportImageResponse.ts';
import type { InspectImageRequest as _tsnet_v1_InspectImageRequest, InspectImageRequest__Output as _tsnet_v1_InspectImageRequest__Output } from '../../tsnet/v1/InspectImageRequest.ts';
import type { InspectImageResponse as _tsnet_v1_InspectImageResponse, InspectImageResponse__Output as _tsnet_v1_InspectImageResponse__Output } from '../../tsnet/v1/InspectImageResponse.ts';
import type { ListImagesRequest as _tsnet_v1_ListImagesRequest, ListImagesRequest__Output as _tsnet_v1_ListImagesRequest__Output } from '../../tsnet/v1/ListImagesRequest.ts';
import type { ListImagesResponse as _tsnet_v1_ListImagesResponse, ListImagesResponse__Output as _tsnet_v1_ListImagesResponse__Output } from '../../tsnet/v1/ListImagesResponse.ts';
import type { LoginRequest as _tsnet_v1_LoginRequest, LoginRequest__Output as _tsnet_v1_LoginRequest__Output } from '../../tsnet/v1/LoginRequest.ts';
import type { LoginResponse as _tsnet_v1_LoginResponse, LoginResponse__Output as _tsnet_v1_LoginResponse__Output } from '../../tsnet/v1/LoginResponse.ts';
import type { LogoutRequest as _tsnet_v1_LogoutRequest, LogoutRequest__Output as _tsnet_v1_LogoutRequest__Output } from '../../tsnet/v1/LogoutRequest.ts';
import type { LogoutResponse as _tsnet_v1_LogoutResponse, LogoutResponse__Output as _tsnet_v1_LogoutResponse__Output } from '../../tsnet/v1/LogoutResponse.ts';
import type { ProgressMessage as _tsnet_v1_ProgressMessage, ProgressMessage__Output as _tsnet_v1_ProgressMessage__Output } from '../../tsnet/v1/ProgressMessage.ts';
import type { PruneImagesRequest as _tsnet_v1_PruneImagesRequest, PruneImagesRequest__Output as _tsnet_v1_PruneImagesRequest__Output } from '../../tsnet/v1/PruneImagesRequest.ts';
import type { PruneImagesResponse as _tsnet_v1_PruneImagesResponse, PruneImagesResponse__Output as _tsnet_v1_PruneImagesResponse__Output } from '../../tsnet/v1/PruneImagesResponse.ts';
import type { PullImageRequest as _tsnet_v1_PullImageRequest, PullImageRequest__Output as _tsnet_v1_PullImageRequest__Output } from '../../tsnet/v1/PullImageRequest.ts';
import type { PushImageRequest as _tsnet_v1_PushImageRequest, PushImageRequest__Output as _tsnet_v1_PushImageRequest__Output } from '../../tsnet/v1/PushImageRequest.ts';
import type { RemoveImageRequest as _tsnet_v1_RemoveImageRequest, RemoveImageRequest__Output as _tsnet_v1_RemoveImageRequest__Output } from '../../tsnet/v1/RemoveImageRequest.ts';
import type { RemoveImageResponse as _tsnet_v1_RemoveImageResponse, RemoveImageResponse__Output as _tsnet_v1_RemoveImageResponse__Output } from '../../tsnet/v1/RemoveImageResponse.ts';
import type { SaveImagesRequest as _tsnet_v1_SaveImagesRequest, SaveImagesRequest__Output as _tsnet_v1_SaveImagesRequest__Output } from '../../tsnet/v1/SaveImagesRequest.ts';
import type { TagImageRequest as _tsnet_v1_TagImageRequest, TagImageRequest__Output as _tsnet_v1_TagImageRequest__Output } from '../../tsnet/v1/TagImageRequest.ts';
import type { TagImageResponse as _tsnet_v1_TagImageResponse, TagImageResponse__Output as _tsnet_v1_TagImageResponse__Output } from '../../tsnet/v1/TagImageResponse.ts';

export interface ImagesClient extends grpc.Client {
  /**
   * The client streams the build context as a tar (the first chunk carries the options); the agent answers
   * with the build's output line by line as Docker's classic builder prints it, and the image's ID last.
   */
  Build(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_BuildChunk, _tsnet_v1_BuildMessage__Output>;
  Build(options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_BuildChunk, _tsnet_v1_BuildMessage__Output>;
  /**
   * The client streams the build context as a tar (the first chunk carries the options); the agent answers
   * with the build's output line by line as Docker's classic builder prints it, and the image's ID last.
   */
  build(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_BuildChunk, _tsnet_v1_BuildMessage__Output>;
  build(options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_BuildChunk, _tsnet_v1_BuildMessage__Output>;
  
  /**
   * A container's changes (its writable layer) as a new image over the container's image.
   */
  Commit(argument: _tsnet_v1_CommitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  Commit(argument: _tsnet_v1_CommitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  Commit(argument: _tsnet_v1_CommitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  Commit(argument: _tsnet_v1_CommitRequest, callback: grpc.requestCallback<_tsnet_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  /**
   * A container's changes (its writable layer) as a new image over the container's image.
   */
  commit(argument: _tsnet_v1_CommitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  commit(argument: _tsnet_v1_CommitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  commit(argument: _tsnet_v1_CommitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  commit(argument: _tsnet_v1_CommitRequest, callback: grpc.requestCallback<_tsnet_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  
  History(argument: _tsnet_v1_ImageHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ImageHistoryResponse__Output>): grpc.ClientUnaryCall;
  History(argument: _tsnet_v1_ImageHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ImageHistoryResponse__Output>): grpc.ClientUnaryCall;
  History(argument: _tsnet_v1_ImageHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ImageHistoryResponse__Output>): grpc.ClientUnaryCall;
  History(argument: _tsnet_v1_ImageHistoryRequest, callback: grpc.requestCallback<_tsnet_v1_ImageHistoryResponse__Output>): grpc.ClientUnaryCall;
  history(argument: _tsnet_v1_ImageHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ImageHistoryResponse__Output>): grpc.ClientUnaryCall;
  history(argument: _tsnet_v1_ImageHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ImageHistoryResponse__Output>): grpc.ClientUnaryCall;
  history(argument: _tsnet_v1_ImageHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ImageHistoryResponse__Output>): grpc.ClientUnaryCall;
  history(argument: _tsnet_v1_ImageHistoryRequest, callback: grpc.requestCallback<_tsnet_v1_ImageHistoryResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The client streams a root filesystem tar (the first chunk carries the options).
   */
  Import(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ImportImageResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_ImportChunk>;
  Import(metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ImportImageResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_ImportChunk>;
  Import(options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ImportImageResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_ImportChunk>;
  Import(callback: grpc.requestCallback<_tsnet_v1_ImportImageResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_ImportChunk>;
  /**
   * The client streams a root filesystem tar (the first chunk carries the options).
   */
  import(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ImportImageResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_ImportChunk>;
  import(metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ImportImageResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_ImportChunk>;
  import(options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ImportImageResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_ImportChunk>;
  import(callback: grpc.requestCallback<_tsnet_v1_ImportImageResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_ImportChunk>;
  
  Inspect(argument: _tsnet_v1_InspectImageRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectImageResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _tsnet_v1_InspectImageRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_InspectImageResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _tsnet_v1_InspectImageRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectImageResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _tsnet_v1_InspectImageRequest, callback: grpc.requestCallback<_tsnet_v1_InspectImageResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_InspectImageRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectImageResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_InspectImageRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_InspectImageResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_InspectImageRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectImageResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_InspectImageRequest, callback: grpc.requestCallback<_tsnet_v1_InspectImageResponse__Output>): grpc.ClientUnaryCall;
  
  List(argument: _tsnet_v1_ListImagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListImagesResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _tsnet_v1_ListImagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ListImagesResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _tsnet_v1_ListImagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListImagesResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _tsnet_v1_ListImagesRequest, callback: grpc.requestCallback<_tsnet_v1_ListImagesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListImagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListImagesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListImagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ListImagesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListImagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListImagesResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListImagesRequest, callback: grpc.requestCallback<_tsnet_v1_ListImagesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The client streams a docker-archive or OCI-layout tar; the agent answers with what it loaded.
   */
  Load(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_ArchiveChunk, _tsnet_v1_ProgressMessage__Output>;
  Load(options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_ArchiveChunk, _tsnet_v1_ProgressMessage__Output>;
  /**
   * The client streams a docker-archive or OCI-layout tar; the agent answers with what it loaded.
   */
  load(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_ArchiveChunk, _tsnet_v1_ProgressMessage__Output>;
  load(options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_ArchiveChunk, _tsnet_v1_ProgressMessage__Output>;
  
  Login(argument: _tsnet_v1_LoginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_LoginResponse__Output>): grpc.ClientUnaryCall;
  Login(argument: _tsnet_v1_LoginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_LoginResponse__Output>): grpc.ClientUnaryCall;
  Login(argument: _tsnet_v1_LoginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_LoginResponse__Output>): grpc.ClientUnaryCall;
  Login(argument: _tsnet_v1_LoginRequest, callback: grpc.requestCallback<_tsnet_v1_LoginResponse__Output>): grpc.ClientUnaryCall;
  login(argument: _tsnet_v1_LoginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_LoginResponse__Output>): grpc.ClientUnaryCall;
  login(argument: _tsnet_v1_LoginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_LoginResponse__Output>): grpc.ClientUnaryCall;
  login(argument: _tsnet_v1_LoginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_LoginResponse__Output>): grpc.ClientUnaryCall;
  login(argument: _tsnet_v1_LoginRequest, callback: grpc.requestCallback<_tsnet_v1_LoginResponse__Output>): grpc.ClientUnaryCall;
  
  Logout(argument: _tsnet_v1_LogoutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_LogoutResponse__Output>): grpc.ClientUnaryCall;
  Logout(argument: _tsnet_v1_LogoutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_LogoutResponse__Output>): grpc.ClientUnaryCall;
  Logout(argument: _tsnet_v1_LogoutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_LogoutResponse__Output>): grpc.ClientUnaryCall;
  Logout(argument: _tsnet_v1_LogoutRequest, callback: grpc.requestCallback<_tsnet_v1_LogoutResponse__Output>): grpc.ClientUnaryCall;
  logout(argument: _tsnet_v1_LogoutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_LogoutResponse__Output>): grpc.ClientUnaryCall;
  logout(argument: _tsnet_v1_LogoutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_LogoutResponse__Output>): grpc.ClientUnaryCall;
  logout(argument: _tsnet_v1_LogoutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_LogoutResponse__Output>): grpc.ClientUnaryCall;
  logout(argument: _tsnet_v1_LogoutRequest, callback: grpc.requestCallback<_tsnet_v1_LogoutResponse__Output>): grpc.ClientUnaryCall;
  
  Prune(argument: _tsnet_v1_PruneImagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneImagesResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _tsnet_v1_PruneImagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_PruneImagesResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _tsnet_v1_PruneImagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneImagesResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _tsnet_v1_PruneImagesRequest, callback: grpc.requestCallback<_tsnet_v1_PruneImagesResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneImagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneImagesResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneImagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_PruneImagesResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneImagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneImagesResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneImagesRequest, callback: grpc.requestCallback<_tsnet_v1_PruneImagesResponse__Output>): grpc.ClientUnaryCall;
  
  Pull(argument: _tsnet_v1_PullImageRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ProgressMessage__Output>;
  Pull(argument: _tsnet_v1_PullImageRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ProgressMessage__Output>;
  pull(argument: _tsnet_v1_PullImageRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ProgressMessage__Output>;
  pull(argument: _tsnet_v1_PullImageRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ProgressMessage__Output>;
  
  Push(argument: _tsnet_v1_PushImageRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ProgressMessage__Output>;
  Push(argument: _tsnet_v1_PushImageRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ProgressMessage__Output>;
  push(argument: _tsnet_v1_PushImageRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ProgressMessage__Output>;
  push(argument: _tsnet_v1_PushImageRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ProgressMessage__Output>;
  
  Remove(argument: _tsnet_v1_RemoveImageRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_RemoveImageResponse__Output>): grpc.ClientUnaryCall;
  Remove(argument: _tsnet_v1_RemoveImageRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_RemoveImageResponse__Output>): grpc.ClientUnaryCall;
  Remove(argument: _tsnet_v1_RemoveImageRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_RemoveImageResponse__Output>): grpc.ClientUnaryCall;
  Remove(argument: _tsnet_v1_RemoveImageRequest, callback: grpc.requestCallback<_tsnet_v1_RemoveImageResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_RemoveImageRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_RemoveImageResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_RemoveImageRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_RemoveImageResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_RemoveImageRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_RemoveImageResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_RemoveImageRequest, callback: grpc.requestCallback<_tsnet_v1_RemoveImageResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The agent streams a docker-archive tar of the named images.
   */
  Save(argument: _tsnet_v1_SaveImagesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ArchiveChunk__Output>;
  Save(argument: _tsnet_v1_SaveImagesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ArchiveChunk__Output>;
  /**
   * The agent streams a docker-archive tar of the named images.
   */
  save(argument: _tsnet_v1_SaveImagesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ArchiveChunk__Output>;
  save(argument: _tsnet_v1_SaveImagesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ArchiveChunk__Output>;
  
  Tag(argument: _tsnet_v1_TagImageRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_TagImageResponse__Output>): grpc.ClientUnaryCall;
  Tag(argument: _tsnet_v1_TagImageRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_TagImageResponse__Output>): grpc.ClientUnaryCall;
  Tag(argument: _tsnet_v1_TagImageRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_TagImageResponse__Output>): grpc.ClientUnaryCall;
  Tag(argument: _tsnet_v1_TagImageRequest, callback: grpc.requestCallback<_tsnet_v1_TagImageResponse__Output>): grpc.ClientUnaryCall;
  tag(argument: _tsnet_v1_TagImageRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_TagImageResponse__Output>): grpc.ClientUnaryCall;
  tag(argument: _tsnet_v1_TagImageRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_TagImageResponse__Output>): grpc.ClientUnaryCall;
  tag(argument: _tsnet_v1_TagImageRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_TagImageResponse__Output>): grpc.ClientUnaryCall;
  tag(argument: _tsnet_v1_TagImageRequest, callback: grpc.requestCallback<_tsnet_v1_TagImageResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ImagesHandlers extends grpc.UntypedServiceImplementation {
  /**
   * The client streams the build context as a tar (the first chunk carries the options); the agent answers
   * with the build's output line by line as Docker's classic builder prints it, and the image's ID last.
   */
  Build: grpc.handleBidiStreamingCall<_tsnet_v1_BuildChunk__Output, _tsnet_v1_BuildMessage>;
  
  /**
   * A container's changes (its writable layer) as a new image over the container's image.
   */
  Commit: grpc.handleUnaryCall<_tsnet_v1_CommitRequest__Output, _tsnet_v1_CommitResponse>;
  
  History: grpc.handleUnaryCall<_tsnet_v1_ImageHistoryRequest__Output, _tsnet_v1_ImageHistoryResponse>;
  
  /**
   * The client streams a root filesystem tar (the first chunk carries the options).
   */
  Import: grpc.handleClientStreamingCall<_tsnet_v1_ImportChunk__Output, _tsnet_v1_ImportImageResponse>;
  
  Inspect: grpc.handleUnaryCall<_tsnet_v1_InspectImageRequest__Output, _tsnet_v1_InspectImageResponse>;
  
  List: grpc.handleUnaryCall<_tsnet_v1_ListImagesRequest__Output, _tsnet_v1_ListImagesResponse>;
  
  /**
   * The client streams a docker-archive or OCI-layout tar; the agent answers with what it loaded.
   */
  Load: grpc.handleBidiStreamingCall<_tsnet_v1_ArchiveChunk__Output, _tsnet_v1_ProgressMessage>;
  
  Login: grpc.handleUnaryCall<_tsnet_v1_LoginRequest__Output, _tsnet_v1_LoginResponse>;
  
  Logout: grpc.handleUnaryCall<_tsnet_v1_LogoutRequest__Output, _tsnet_v1_LogoutResponse>;
  
  Prune: grpc.handleUnaryCall<_tsnet_v1_PruneImagesRequest__Output, _tsnet_v1_PruneImagesResponse>;
  
  Pull: grpc.handleServerStreamingCall<_tsnet_v1_PullImageRequest__Output, _tsnet_v1_ProgressMessage>;
  
  Push: grpc.handleServerStreamingCall<_tsnet_v1_PushImageRequest__Output, _tsnet_v1_ProgressMessage>;
  
  Remove: grpc.handleUnaryCall<_tsnet_v1_RemoveImageRequest__Output, _tsnet_v1_RemoveImageResponse>;
  
  /**
   * The agent streams a docker-archive tar of the named images.
   */
  Save: grpc.handleServerStreamingCall<_tsnet_v1_SaveImagesRequest__Output, _tsnet_v1_ArchiveChunk>;
  
  Tag: grpc.handleUnaryCall<_tsnet_v1_TagImageRequest__Output, _tsnet_v1_TagImageResponse>;
  
}

export interface ImagesDefinition extends grpc.ServiceDefinition {
  Build: MethodDefinition<_tsnet_v1_BuildChunk, _tsnet_v1_BuildMessage, _tsnet_v1_BuildChunk__Output, _tsnet_v1_BuildMessage__Output>
  Commit: MethodDefinition<_tsnet_v1_CommitRequest, _tsnet_v1_CommitResponse, _tsnet_v1_CommitRequest__Output, _tsnet_v1_CommitResponse__Output>
  History: MethodDefinition<_tsnet_v1_ImageHistoryRequest, _tsnet_v1_ImageHistoryResponse, _tsnet_v1_ImageHistoryRequest__Output, _tsnet_v1_ImageHistoryResponse__Output>
  Import: MethodDefinition<_tsnet_v1_ImportChunk, _tsnet_v1_ImportImageResponse, _tsnet_v1_ImportChunk__Output, _tsnet_v1_ImportImageResponse__Output>
  Inspect: MethodDefinition<_tsnet_v1_InspectImageRequest, _tsnet_v1_InspectImageResponse, _tsnet_v1_InspectImageRequest__Output, _tsnet_v1_InspectImageResponse__Output>
  List: MethodDefinition<_tsnet_v1_ListImagesRequest, _tsnet_v1_ListImagesResponse, _tsnet_v1_ListImagesRequest__Output, _tsnet_v1_ListImagesResponse__Output>
  Load: MethodDefinition<_tsnet_v1_ArchiveChunk, _tsnet_v1_ProgressMessage, _tsnet_v1_ArchiveChunk__Output, _tsnet_v1_ProgressMessage__Output>
  Login: MethodDefinition<_tsnet_v1_LoginRequest, _tsnet_v1_LoginResponse, _tsnet_v1_LoginRequest__Output, _tsnet_v1_LoginResponse__Output>
  Logout: MethodDefinition<_tsnet_v1_LogoutRequest, _tsnet_v1_LogoutResponse, _tsnet_v1_LogoutRequest__Output, _tsnet_v1_LogoutResponse__Output>
  Prune: MethodDefinition<_tsnet_v1_PruneImagesRequest, _tsnet_v1_PruneImagesResponse, _tsnet_v1_PruneImagesRequest__Output, _tsnet_v1_PruneImagesResponse__Output>
  Pull: MethodDefinition<_tsnet_v1_PullImageRequest, _tsnet_v1_ProgressMessage, _tsnet_v1_PullImageRequest__Output, _tsnet_v1_ProgressMessage__Output>
  Push: MethodDefinition<_tsnet_v1_PushImageRequest, _tsnet_v1_ProgressMessage, _tsnet_v1_PushImageRequest__Output, _tsnet_v1_ProgressMessage__Output>
  Remove: MethodDefinition<_tsnet_v1_RemoveImageRequest, _tsnet_v1_RemoveImageResponse, _tsnet_v1_RemoveImageRequest__Output, _tsnet_v1_RemoveImageResponse__Output>
  Save: MethodDefinition<_tsnet_v1_SaveImagesRequest, _tsnet_v1_ArchiveChunk, _tsnet_v1_SaveImagesRequest__Output, _tsnet_v1_ArchiveChunk__Output>
  Tag: MethodDefinition<_tsnet_v1_TagImageRequest, _tsnet_v1_TagImageResponse, _tsnet_v1_TagImageRequest__Output, _tsnet_v1_TagImageResponse__Output>
}
