// Original file: pkg/api/proto/tsnet/v1/containers.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ArchiveChunk as _tsnet_v1_ArchiveChunk, ArchiveChunk__Output as _tsnet_v1_ArchiveChunk__Output } from '../../tsnet/v1/ArchiveChunk.ts';
import type { AttachInput as _tsnet_v1_AttachInput, AttachInput__Output as _tsnet_v1_AttachInput__Output } from '../../tsnet/v1/AttachInput.ts';
import type { AttachOutput as _tsnet_v1_AttachOutput, AttachOutput__Output as _tsnet_v1_AttachOutput__Output } from '../../tsnet/v1/AttachOutput.ts';
import type { ContainerActionResponse as _tsnet_v1_ContainerActionResponse, ContainerActionResponse__Output as _tsnet_v1_ContainerActionResponse__Output } from '../../tsnet/v1/ContainerActionResponse.ts';
import type { ContainerRef as _tsnet_v1_ContainerRef, ContainerRef__Output as _tsnet_v1_ContainerRef__Output } from '../../tsnet/v1/ContainerRef.ts';
import type { ContainerStats as _tsnet_v1_ContainerStats, ContainerStats__Output as _tsnet_v1_ContainerStats__Output } from '../../tsnet/v1/ContainerStats.ts';
import type { CopyFromRequest as _tsnet_v1_CopyFromRequest, CopyFromRequest__Output as _tsnet_v1_CopyFromRequest__Output } from '../../tsnet/v1/CopyFromRequest.ts';
import type { CopyToChunk as _tsnet_v1_CopyToChunk, CopyToChunk__Output as _tsnet_v1_CopyToChunk__Output } from '../../tsnet/v1/CopyToChunk.ts';
import type { CopyToResponse as _tsnet_v1_CopyToResponse, CopyToResponse__Output as _tsnet_v1_CopyToResponse__Output } from '../../tsnet/v1/CopyToResponse.ts';
import type { CreateContainerRequest as _tsnet_v1_CreateContainerRequest, CreateContainerRequest__Output as _tsnet_v1_CreateContainerRequest__Output } from '../../tsnet/v1/CreateContainerRequest.ts';
import type { CreateContainerResponse as _tsnet_v1_CreateContainerResponse, CreateContainerResponse__Output as _tsnet_v1_CreateContainerResponse__Output } from '../../tsnet/v1/CreateContainerResponse.ts';
import type { ExecInput as _tsnet_v1_ExecInput, ExecInput__Output as _tsnet_v1_ExecInput__Output } from '../../tsnet/v1/ExecInput.ts';
import type { InspectContainerResponse as _tsnet_v1_InspectContainerResponse, InspectContainerResponse__Output as _tsnet_v1_InspectContainerResponse__Output } from '../../tsnet/v1/InspectContainerResponse.ts';
import type { KillContainerRequest as _tsnet_v1_KillContainerRequest, KillContainerRequest__Output as _tsnet_v1_KillContainerRequest__Output } from '../../tsnet/v1/KillContainerRequest.ts';
import type { ListContainersRequest as _tsnet_v1_ListContainersRequest, ListContainersRequest__Output as _tsnet_v1_ListContainersRequest__Output } from '../../tsnet/v1/ListContainersRequest.ts';
import type { ListContainersResponse as _tsnet_v1_ListContainersResponse, ListContainersResponse__Output as _tsnet_v1_ListContainersResponse__Output } from '../../tsnet/v1/ListContainersResponse.ts';
import type { LogEntry as _tsnet_v1_LogEntry, LogEntry__Output as _tsnet_v1_LogEntry__Output } from '../../tsnet/v1/LogEntry.ts';
import type { LogsRequest as _tsnet_v1_LogsRequest, LogsRequest__Output as _tsnet_v1_LogsRequest__Output } from '../../tsnet/v1/LogsRequest.ts';
import type { PortResponse as _tsnet_v1_PortResponse, PortResponse__Output as _tsnet_v1_PortResponse__Output } from '../../tsnet/v1/PortResponse.ts';
import type { PruneContainersRequest as _tsnet_v1_PruneContainersRequest, PruneContainersRequest__Output as _tsnet_v1_PruneContainersRequest__Output } from '../../tsnet/v1/PruneContainersRequest.ts';
import type { PruneContainersResponse as _tsnet_v1_PruneContainersResponse, PruneContainersResponse__Output as _tsnet_v1_PruneContainersResponse__Output } from '../../tsnet/v1/PruneContainersResponse.ts';
import type { RemoveContainerRequest as _tsnet_v1_RemoveContainerRequest, RemoveContainerRequest__Output as _tsnet_v1_RemoveContainerRequest__Output } from '../../tsnet/v1/RemoveContainerRequest.ts';
import type { RenameContainerRequest as _tsnet_v1_RenameContainerRequest, RenameContainerRequest__Output as _tsnet_v1_RenameContainerRequest__Output } from '../../tsnet/v1/RenameContainerRequest.ts';
import type { StatsRequest as _tsnet_v1_StatsRequest, StatsRequest__Output as _tsnet_v1_StatsRequest__Output } from '../../tsnet/v1/StatsRequest.ts';
import type { StopContainerRequest as _tsnet_v1_StopContainerRequest, StopContainerRequest__Output as _tsnet_v1_StopContainerRequest__Output } from '../../tsnet/v1/StopContainerRequest.ts';
import type { TopRequest as _tsnet_v1_TopRequest, TopRequest__Output as _tsnet_v1_TopRequest__Output } from '../../tsnet/v1/TopRequest.ts';
import type { TopResponse as _tsnet_v1_TopResponse, TopResponse__Output as _tsnet_v1_TopResponse__Output } from '../../tsnet/v1/TopResponse.ts';
import type { WaitContainerRequest as _tsnet_v1_WaitContainerRequest, WaitContainerRequest__Output as _tsnet_v1_WaitContainerRequest__Output } from '../../tsnet/v1/WaitContainerRequest.ts';
import type { WaitContainerResponse as _tsnet_v1_WaitContainerResponse, WaitContainerResponse__Output as _tsnet_v1_WaitContainerResponse__Output } from '../../tsnet/v1/WaitContainerResponse.ts';

export interface ContainersClient extends grpc.Client {
  /**
   * The first message is an AttachStart; then stdin data and resizes. Output frames until the process ends,
   * then one frame with the exit code (when the container exits while attached).
   */
  Attach(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_AttachInput, _tsnet_v1_AttachOutput__Output>;
  Attach(options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_AttachInput, _tsnet_v1_AttachOutput__Output>;
  /**
   * The first message is an AttachStart; then stdin data and resizes. Output frames until the process ends,
   * then one frame with the exit code (when the container exits while attached).
   */
  attach(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_AttachInput, _tsnet_v1_AttachOutput__Output>;
  attach(options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_AttachInput, _tsnet_v1_AttachOutput__Output>;
  
  /**
   * A tar of a path in the container (docker cp CONTAINER:PATH -).
   */
  CopyFrom(argument: _tsnet_v1_CopyFromRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ArchiveChunk__Output>;
  CopyFrom(argument: _tsnet_v1_CopyFromRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ArchiveChunk__Output>;
  /**
   * A tar of a path in the container (docker cp CONTAINER:PATH -).
   */
  copyFrom(argument: _tsnet_v1_CopyFromRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ArchiveChunk__Output>;
  copyFrom(argument: _tsnet_v1_CopyFromRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ArchiveChunk__Output>;
  
  /**
   * The client streams a tar to extract at a path in the container; the first chunk carries the options.
   */
  CopyTo(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CopyToResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_CopyToChunk>;
  CopyTo(metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_CopyToResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_CopyToChunk>;
  CopyTo(options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CopyToResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_CopyToChunk>;
  CopyTo(callback: grpc.requestCallback<_tsnet_v1_CopyToResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_CopyToChunk>;
  /**
   * The client streams a tar to extract at a path in the container; the first chunk carries the options.
   */
  copyTo(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CopyToResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_CopyToChunk>;
  copyTo(metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_CopyToResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_CopyToChunk>;
  copyTo(options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CopyToResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_CopyToChunk>;
  copyTo(callback: grpc.requestCallback<_tsnet_v1_CopyToResponse__Output>): grpc.ClientWritableStream<_tsnet_v1_CopyToChunk>;
  
  Create(argument: _tsnet_v1_CreateContainerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CreateContainerResponse__Output>): grpc.ClientUnaryCall;
  Create(argument: _tsnet_v1_CreateContainerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_CreateContainerResponse__Output>): grpc.ClientUnaryCall;
  Create(argument: _tsnet_v1_CreateContainerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CreateContainerResponse__Output>): grpc.ClientUnaryCall;
  Create(argument: _tsnet_v1_CreateContainerRequest, callback: grpc.requestCallback<_tsnet_v1_CreateContainerResponse__Output>): grpc.ClientUnaryCall;
  create(argument: _tsnet_v1_CreateContainerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CreateContainerResponse__Output>): grpc.ClientUnaryCall;
  create(argument: _tsnet_v1_CreateContainerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_CreateContainerResponse__Output>): grpc.ClientUnaryCall;
  create(argument: _tsnet_v1_CreateContainerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_CreateContainerResponse__Output>): grpc.ClientUnaryCall;
  create(argument: _tsnet_v1_CreateContainerRequest, callback: grpc.requestCallback<_tsnet_v1_CreateContainerResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The first message is an ExecStart; then stdin data and resizes; the last output frame has the exit code.
   */
  Exec(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_ExecInput, _tsnet_v1_AttachOutput__Output>;
  Exec(options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_ExecInput, _tsnet_v1_AttachOutput__Output>;
  /**
   * The first message is an ExecStart; then stdin data and resizes; the last output frame has the exit code.
   */
  exec(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_ExecInput, _tsnet_v1_AttachOutput__Output>;
  exec(options?: grpc.CallOptions): grpc.ClientDuplexStream<_tsnet_v1_ExecInput, _tsnet_v1_AttachOutput__Output>;
  
  /**
   * The container's filesystem as a tar.
   */
  Export(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ArchiveChunk__Output>;
  Export(argument: _tsnet_v1_ContainerRef, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ArchiveChunk__Output>;
  /**
   * The container's filesystem as a tar.
   */
  export(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ArchiveChunk__Output>;
  export(argument: _tsnet_v1_ContainerRef, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ArchiveChunk__Output>;
  
  Inspect(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectContainerResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_InspectContainerResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _tsnet_v1_ContainerRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectContainerResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _tsnet_v1_ContainerRef, callback: grpc.requestCallback<_tsnet_v1_InspectContainerResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectContainerResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_InspectContainerResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_ContainerRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_InspectContainerResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _tsnet_v1_ContainerRef, callback: grpc.requestCallback<_tsnet_v1_InspectContainerResponse__Output>): grpc.ClientUnaryCall;
  
  Kill(argument: _tsnet_v1_KillContainerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Kill(argument: _tsnet_v1_KillContainerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Kill(argument: _tsnet_v1_KillContainerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Kill(argument: _tsnet_v1_KillContainerRequest, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  kill(argument: _tsnet_v1_KillContainerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  kill(argument: _tsnet_v1_KillContainerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  kill(argument: _tsnet_v1_KillContainerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  kill(argument: _tsnet_v1_KillContainerRequest, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  
  List(argument: _tsnet_v1_ListContainersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListContainersResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _tsnet_v1_ListContainersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ListContainersResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _tsnet_v1_ListContainersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListContainersResponse__Output>): grpc.ClientUnaryCall;
  List(argument: _tsnet_v1_ListContainersRequest, callback: grpc.requestCallback<_tsnet_v1_ListContainersResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListContainersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListContainersResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListContainersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ListContainersResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListContainersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ListContainersResponse__Output>): grpc.ClientUnaryCall;
  list(argument: _tsnet_v1_ListContainersRequest, callback: grpc.requestCallback<_tsnet_v1_ListContainersResponse__Output>): grpc.ClientUnaryCall;
  
  Logs(argument: _tsnet_v1_LogsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_LogEntry__Output>;
  Logs(argument: _tsnet_v1_LogsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_LogEntry__Output>;
  logs(argument: _tsnet_v1_LogsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_LogEntry__Output>;
  logs(argument: _tsnet_v1_LogsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_LogEntry__Output>;
  
  Pause(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Pause(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Pause(argument: _tsnet_v1_ContainerRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Pause(argument: _tsnet_v1_ContainerRef, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  pause(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  pause(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  pause(argument: _tsnet_v1_ContainerRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  pause(argument: _tsnet_v1_ContainerRef, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  
  Port(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PortResponse__Output>): grpc.ClientUnaryCall;
  Port(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_PortResponse__Output>): grpc.ClientUnaryCall;
  Port(argument: _tsnet_v1_ContainerRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PortResponse__Output>): grpc.ClientUnaryCall;
  Port(argument: _tsnet_v1_ContainerRef, callback: grpc.requestCallback<_tsnet_v1_PortResponse__Output>): grpc.ClientUnaryCall;
  port(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PortResponse__Output>): grpc.ClientUnaryCall;
  port(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_PortResponse__Output>): grpc.ClientUnaryCall;
  port(argument: _tsnet_v1_ContainerRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PortResponse__Output>): grpc.ClientUnaryCall;
  port(argument: _tsnet_v1_ContainerRef, callback: grpc.requestCallback<_tsnet_v1_PortResponse__Output>): grpc.ClientUnaryCall;
  
  Prune(argument: _tsnet_v1_PruneContainersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneContainersResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _tsnet_v1_PruneContainersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_PruneContainersResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _tsnet_v1_PruneContainersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneContainersResponse__Output>): grpc.ClientUnaryCall;
  Prune(argument: _tsnet_v1_PruneContainersRequest, callback: grpc.requestCallback<_tsnet_v1_PruneContainersResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneContainersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneContainersResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneContainersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_PruneContainersResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneContainersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_PruneContainersResponse__Output>): grpc.ClientUnaryCall;
  prune(argument: _tsnet_v1_PruneContainersRequest, callback: grpc.requestCallback<_tsnet_v1_PruneContainersResponse__Output>): grpc.ClientUnaryCall;
  
  Remove(argument: _tsnet_v1_RemoveContainerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Remove(argument: _tsnet_v1_RemoveContainerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Remove(argument: _tsnet_v1_RemoveContainerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Remove(argument: _tsnet_v1_RemoveContainerRequest, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_RemoveContainerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_RemoveContainerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_RemoveContainerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  remove(argument: _tsnet_v1_RemoveContainerRequest, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  
  Rename(argument: _tsnet_v1_RenameContainerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Rename(argument: _tsnet_v1_RenameContainerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Rename(argument: _tsnet_v1_RenameContainerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Rename(argument: _tsnet_v1_RenameContainerRequest, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  rename(argument: _tsnet_v1_RenameContainerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  rename(argument: _tsnet_v1_RenameContainerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  rename(argument: _tsnet_v1_RenameContainerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  rename(argument: _tsnet_v1_RenameContainerRequest, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  
  Restart(argument: _tsnet_v1_StopContainerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Restart(argument: _tsnet_v1_StopContainerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Restart(argument: _tsnet_v1_StopContainerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Restart(argument: _tsnet_v1_StopContainerRequest, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  restart(argument: _tsnet_v1_StopContainerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  restart(argument: _tsnet_v1_StopContainerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  restart(argument: _tsnet_v1_StopContainerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  restart(argument: _tsnet_v1_StopContainerRequest, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  
  Start(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Start(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Start(argument: _tsnet_v1_ContainerRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Start(argument: _tsnet_v1_ContainerRef, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  start(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  start(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  start(argument: _tsnet_v1_ContainerRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  start(argument: _tsnet_v1_ContainerRef, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  
  Stats(argument: _tsnet_v1_StatsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ContainerStats__Output>;
  Stats(argument: _tsnet_v1_StatsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ContainerStats__Output>;
  stats(argument: _tsnet_v1_StatsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ContainerStats__Output>;
  stats(argument: _tsnet_v1_StatsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_tsnet_v1_ContainerStats__Output>;
  
  Stop(argument: _tsnet_v1_StopContainerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Stop(argument: _tsnet_v1_StopContainerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Stop(argument: _tsnet_v1_StopContainerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Stop(argument: _tsnet_v1_StopContainerRequest, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  stop(argument: _tsnet_v1_StopContainerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  stop(argument: _tsnet_v1_StopContainerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  stop(argument: _tsnet_v1_StopContainerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  stop(argument: _tsnet_v1_StopContainerRequest, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  
  Top(argument: _tsnet_v1_TopRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_TopResponse__Output>): grpc.ClientUnaryCall;
  Top(argument: _tsnet_v1_TopRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_TopResponse__Output>): grpc.ClientUnaryCall;
  Top(argument: _tsnet_v1_TopRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_TopResponse__Output>): grpc.ClientUnaryCall;
  Top(argument: _tsnet_v1_TopRequest, callback: grpc.requestCallback<_tsnet_v1_TopResponse__Output>): grpc.ClientUnaryCall;
  top(argument: _tsnet_v1_TopRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_TopResponse__Output>): grpc.ClientUnaryCall;
  top(argument: _tsnet_v1_TopRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_TopResponse__Output>): grpc.ClientUnaryCall;
  top(argument: _tsnet_v1_TopRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_TopResponse__Output>): grpc.ClientUnaryCall;
  top(argument: _tsnet_v1_TopRequest, callback: grpc.requestCallback<_tsnet_v1_TopResponse__Output>): grpc.ClientUnaryCall;
  
  Unpause(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Unpause(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Unpause(argument: _tsnet_v1_ContainerRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  Unpause(argument: _tsnet_v1_ContainerRef, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  unpause(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  unpause(argument: _tsnet_v1_ContainerRef, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  unpause(argument: _tsnet_v1_ContainerRef, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  unpause(argument: _tsnet_v1_ContainerRef, callback: grpc.requestCallback<_tsnet_v1_ContainerActionResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Waits until the container is not running (condition "not-running", the default), has exited
   * ("next-exit") or is removed ("removed"); answers its exit code.
   */
  Wait(argument: _tsnet_v1_WaitContainerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_WaitContainerResponse__Output>): grpc.ClientUnaryCall;
  Wait(argument: _tsnet_v1_WaitContainerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_WaitContainerResponse__Output>): grpc.ClientUnaryCall;
  Wait(argument: _tsnet_v1_WaitContainerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_WaitContainerResponse__Output>): grpc.ClientUnaryCall;
  Wait(argument: _tsnet_v1_WaitContainerRequest, callback: grpc.requestCallback<_tsnet_v1_WaitContainerResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Waits until the container is not running (condition "not-running", the default), has exited
   * ("next-exit") or is removed ("removed"); answers its exit code.
   */
  wait(argument: _tsnet_v1_WaitContainerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_WaitContainerResponse__Output>): grpc.ClientUnaryCall;
  wait(argument: _tsnet_v1_WaitContainerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_tsnet_v1_WaitContainerResponse__Output>): grpc.ClientUnaryCall;
  wait(argument: _tsnet_v1_WaitContainerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_tsnet_v1_WaitContainerResponse__Output>): grpc.ClientUnaryCall;
  wait(argument: _tsnet_v1_WaitContainerRequest, callback: grpc.requestCallback<_tsnet_v1_WaitContainerResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ContainersHandlers extends grpc.UntypedServiceImplementation {
  /**
   * The first message is an AttachStart; then stdin data and resizes. Output frames until the process ends,
   * then one frame with the exit code (when the container exits while attached).
   */
  Attach: grpc.handleBidiStreamingCall<_tsnet_v1_AttachInput__Output, _tsnet_v1_AttachOutput>;
  
  /**
   * A tar of a path in the container (docker cp CONTAINER:PATH -).
   */
  CopyFrom: grpc.handleServerStreamingCall<_tsnet_v1_CopyFromRequest__Output, _tsnet_v1_ArchiveChunk>;
  
  /**
   * The client streams a tar to extract at a path in the container; the first chunk carries the options.
   */
  CopyTo: grpc.handleClientStreamingCall<_tsnet_v1_CopyToChunk__Output, _tsnet_v1_CopyToResponse>;
  
  Create: grpc.handleUnaryCall<_tsnet_v1_CreateContainerRequest__Output, _tsnet_v1_CreateContainerResponse>;
  
  /**
   * The first message is an ExecStart; then stdin data and resizes; the last output frame has the exit code.
   */
  Exec: grpc.handleBidiStreamingCall<_tsnet_v1_ExecInput__Output, _tsnet_v1_AttachOutput>;
  
  /**
   * The container's filesystem as a tar.
   */
  Export: grpc.handleServerStreamingCall<_tsnet_v1_ContainerRef__Output, _tsnet_v1_ArchiveChunk>;
  
  Inspect: grpc.handleUnaryCall<_tsnet_v1_ContainerRef__Output, _tsnet_v1_InspectContainerResponse>;
  
  Kill: grpc.handleUnaryCall<_tsnet_v1_KillContainerRequest__Output, _tsnet_v1_ContainerActionResponse>;
  
  List: grpc.handleUnaryCall<_tsnet_v1_ListContainersRequest__Output, _tsnet_v1_ListContainersResponse>;
  
  Logs: grpc.handleServerStreamingCall<_tsnet_v1_LogsRequest__Output, _tsnet_v1_LogEntry>;
  
  Pause: grpc.handleUnaryCall<_tsnet_v1_ContainerRef__Output, _tsnet_v1_ContainerActionResponse>;
  
  Port: grpc.handleUnaryCall<_tsnet_v1_ContainerRef__Output, _tsnet_v1_PortResponse>;
  
  Prune: grpc.handleUnaryCall<_tsnet_v1_PruneContainersRequest__Output, _tsnet_v1_PruneContainersResponse>;
  
  Remove: grpc.handleUnaryCall<_tsnet_v1_RemoveContainerRequest__Output, _tsnet_v1_ContainerActionResponse>;
  
  Rename: grpc.handleUnaryCall<_tsnet_v1_RenameContainerRequest__Output, _tsnet_v1_ContainerActionResponse>;
  
  Restart: grpc.handleUnaryCall<_tsnet_v1_StopContainerRequest__Output, _tsnet_v1_ContainerActionResponse>;
  
  Start: grpc.handleUnaryCall<_tsnet_v1_ContainerRef__Output, _tsnet_v1_ContainerActionResponse>;
  
  Stats: grpc.handleServerStreamingCall<_tsnet_v1_StatsRequest__Output, _tsnet_v1_ContainerStats>;
  
  Stop: grpc.handleUnaryCall<_tsnet_v1_StopContainerRequest__Output, _tsnet_v1_ContainerActionResponse>;
  
  Top: grpc.handleUnaryCall<_tsnet_v1_TopRequest__Output, _tsnet_v1_TopResponse>;
  
  Unpause: grpc.handleUnaryCall<_tsnet_v1_ContainerRef__Output, _tsnet_v1_ContainerActionResponse>;
  
  /**
   * Waits until the container is not running (condition "not-running", the default), has exited
   * ("next-exit") or is removed ("removed"); answers its exit code.
   */
  Wait: grpc.handleUnaryCall<_tsnet_v1_WaitContainerRequest__Output, _tsnet_v1_WaitContainerResponse>;
  
}

export interface ContainersDefinition extends grpc.ServiceDefinition {
  Attach: MethodDefinition<_tsnet_v1_AttachInput, _tsnet_v1_AttachOutput, _tsnet_v1_AttachInput__Output, _tsnet_v1_AttachOutput__Output>
  CopyFrom: MethodDefinition<_tsnet_v1_CopyFromRequest, _tsnet_v1_ArchiveChunk, _tsnet_v1_CopyFromRequest__Output, _tsnet_v1_ArchiveChunk__Output>
  CopyTo: MethodDefinition<_tsnet_v1_CopyToChunk, _tsnet_v1_CopyToResponse, _tsnet_v1_CopyToChunk__Output, _tsnet_v1_CopyToResponse__Output>
  Create: MethodDefinition<_tsnet_v1_CreateContainerRequest, _tsnet_v1_CreateContainerResponse, _tsnet_v1_CreateContainerRequest__Output, _tsnet_v1_CreateContainerResponse__Output>
  Exec: MethodDefinition<_tsnet_v1_ExecInput, _tsnet_v1_AttachOutput, _tsnet_v1_ExecInput__Output, _tsnet_v1_AttachOutput__Output>
  Export: MethodDefinition<_tsnet_v1_ContainerRef, _tsnet_v1_ArchiveChunk, _tsnet_v1_ContainerRef__Output, _tsnet_v1_ArchiveChunk__Output>
  Inspect: MethodDefinition<_tsnet_v1_ContainerRef, _tsnet_v1_InspectContainerResponse, _tsnet_v1_ContainerRef__Output, _tsnet_v1_InspectContainerResponse__Output>
  Kill: MethodDefinition<_tsnet_v1_KillContainerRequest, _tsnet_v1_ContainerActionResponse, _tsnet_v1_KillContainerRequest__Output, _tsnet_v1_ContainerActionResponse__Output>
  List: MethodDefinition<_tsnet_v1_ListContainersRequest, _tsnet_v1_ListContainersResponse, _tsnet_v1_ListContainersRequest__Output, _tsnet_v1_ListContainersResponse__Output>
  Logs: MethodDefinition<_tsnet_v1_LogsRequest, _tsnet_v1_LogEntry, _tsnet_v1_LogsRequest__Output, _tsnet_v1_LogEntry__Output>
  Pause: MethodDefinition<_tsnet_v1_ContainerRef, _tsnet_v1_ContainerActionResponse, _tsnet_v1_ContainerRef__Output, _tsnet_v1_ContainerActionResponse__Output>
  Port: MethodDefinition<_tsnet_v1_ContainerRef, _tsnet_v1_PortResponse, _tsnet_v1_ContainerRef__Output, _tsnet_v1_PortResponse__Output>
  Prune: MethodDefinition<_tsnet_v1_PruneContainersRequest, _tsnet_v1_PruneContainersResponse, _tsnet_v1_PruneContainersRequest__Output, _tsnet_v1_PruneContainersResponse__Output>
  Remove: MethodDefinition<_tsnet_v1_RemoveContainerRequest, _tsnet_v1_ContainerActionResponse, _tsnet_v1_RemoveContainerRequest__Output, _tsnet_v1_ContainerActionResponse__Output>
  Rename: MethodDefinition<_tsnet_v1_RenameContainerRequest, _tsnet_v1_ContainerActionResponse, _tsnet_v1_RenameContainerRequest__Output, _tsnet_v1_ContainerActionResponse__Output>
  Restart: MethodDefinition<_tsnet_v1_StopContainerRequest, _tsnet_v1_ContainerActionResponse, _tsnet_v1_StopContainerRequest__Output, _tsnet_v1_ContainerActionResponse__Output>
  Start: MethodDefinition<_tsnet_v1_ContainerRef, _tsnet_v1_ContainerActionResponse, _tsnet_v1_ContainerRef__Output, _tsnet_v1_ContainerActionResponse__Output>
  Stats: MethodDefinition<_tsnet_v1_StatsRequest, _tsnet_v1_ContainerStats, _tsnet_v1_StatsRequest__Output, _tsnet_v1_ContainerStats__Output>
  Stop: MethodDefinition<_tsnet_v1_StopContainerRequest, _tsnet_v1_ContainerActionResponse, _tsnet_v1_StopContainerRequest__Output, _tsnet_v1_ContainerActionResponse__Output>
  Top: MethodDefinition<_tsnet_v1_TopRequest, _tsnet_v1_TopResponse, _tsnet_v1_TopRequest__Output, _tsnet_v1_TopResponse__Output>
  Unpause: MethodDefinition<_tsnet_v1_ContainerRef, _tsnet_v1_ContainerActionResponse, _tsnet_v1_ContainerRef__Output, _tsnet_v1_ContainerActionResponse__Output>
  Wait: MethodDefinition<_tsnet_v1_WaitContainerRequest, _tsnet_v1_WaitContainerResponse, _tsnet_v1_WaitContainerRequest__Output, _tsnet_v1_WaitContainerResponse__Output>
}
