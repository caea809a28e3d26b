// The agent API's services, loaded from the descriptor generated out of pkg/api/proto (no .proto file is read
// at run time). The option set is the one the generated types were made for: keep them in step.
import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import type { ProtoGrpcType as ClusterProto } from './generated/cluster.ts';
import type { ProtoGrpcType as ContainersProto } from './generated/containers.ts';
import { descriptor } from './generated/descriptor.ts';
import type { ProtoGrpcType as ImagesProto } from './generated/images.ts';
import type { ProtoGrpcType as NetworksProto } from './generated/networks.ts';
import type { ProtoGrpcType as SystemProto } from './generated/system.ts';
import type { ProtoGrpcType as VolumesProto } from './generated/volumes.ts';

/** Version of the API's contract; a client refuses an agent with another major. */
export const API_VERSION = '1.0';

export const LOADER_OPTIONS = { longs: Number, enums: String, defaults: true, oneofs: true } as const;

type ApiProto = SystemProto & ImagesProto & ContainersProto & NetworksProto & VolumesProto & ClusterProto;

let loaded: ApiProto['tsnet']['v1'] | undefined;

/** The tsnet.v1 package: service constructors (clients) and their definitions (servers). */
export function api(): ApiProto['tsnet']['v1'] {
  loaded ??= (
    grpc.loadPackageDefinition(
      fromJSON(descriptor as Parameters<typeof fromJSON>[0], LOADER_OPTIONS),
    ) as unknown as ApiProto
  ).tsnet.v1;
  return loaded;
}
