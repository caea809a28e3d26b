// The agent API's services, made from the descriptor generated out of pkg/api/proto (no .proto file is read
// at run time) with protobufjs's reflection, one service when it is first used.
// @grpc/proto-loader did this before, for every message and service at once: it resolved the whole tree and
// built protobuf descriptors of every file and message for gRPC reflection, which nothing here serves. That
// was about 40 ms of every tsnetctl call and a few MiB of the agent's heap. The calls' encoding is
// proto-loader's own: fromObject + encode out, decode + toObject with the options below in, so the generated
// types (its type generator, scripts/gen-api.ts) still describe what goes over the wire; a test holds the two
// equal.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';
import type { ProtoGrpcType as ClusterProto } from './generated/cluster.ts';
import type { ProtoGrpcType as ContainersProto } from './generated/containers.ts';
import { descriptor } from './generated/descriptor.ts';
import type { ProtoGrpcType as ImagesProto } from './generated/images.ts';
import type { ProtoGrpcType as NetworksProto } from './generated/networks.ts';
import type { ProtoGrpcType as SystemProto } from './generated/system.ts';
import type { ProtoGrpcType as VolumesProto } from './generated/volumes.ts';

/** Version of the API's contract; a client refuses an agent with another major. */
export const API_VERSION = '1.0';

/** How messages become objects: the option set the generated types were made for (keep them in step). */
export const LOADER_OPTIONS = { longs: Number, enums: String, defaults: true, oneofs: true } as const;

const PACKAGE = 'tsnet.v1';
type V1 = (SystemProto &
  ImagesProto &
  ContainersProto &
  NetworksProto &
  VolumesProto &
  ClusterProto)['tsnet']['v1'];
const SERVICE_NAMES = ['System', 'Images', 'Containers', 'Networks', 'Volumes', 'Cluster'] as const;
type ServiceName = (typeof SERVICE_NAMES)[number];
/** Each service's client constructor, with its definition (for servers) as `.service`. */
export type ApiServices = Pick<V1, ServiceName>;

let root: protobuf.Root | undefined;
const constructors = new Map<ServiceName, grpc.ServiceClientConstructor>();

function serializer(type: protobuf.Type): (value: object) => Buffer {
  return (value) => {
    if (Array.isArray(value))
      throw new Error(`cannot serialize ${type.fullName}: expected an object, got an array`);
    return Buffer.from(type.encode(type.fromObject(value)).finish());
  };
}

function deserializer(type: protobuf.Type): (bytes: Buffer) => object {
  return (bytes) => type.toObject(type.decode(bytes), LOADER_OPTIONS);
}

/**
 * The descriptor as a protobufjs tree, unresolved: Root.fromJSON would resolve every type and generate its
 * constructor (~25 ms); each type is resolved, and its codecs generated, on its first use instead.
 */
function loadRoot(): protobuf.Root {
  const json = descriptor as protobuf.INamespace;
  const tree = new protobuf.Root();
  if (json.options) tree.setOptions(json.options);
  tree.addJSON(json.nested ?? {});
  return tree;
}

/** proto-loader's name for a method's lower-camel alias: `ListImages` → `listImages`. */
export function originalNameOf(method: string): string {
  return method.charAt(0).toLowerCase() + method.slice(1);
}

/** One service's method definitions: paths, streaming, and the codecs of its request and response. */
export function serviceDefinition(name: string): grpc.ServiceDefinition {
  root ??= loadRoot();
  const service = root.lookupService(`${PACKAGE}.${name}`);
  service.resolveAll();
  const definition: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const method of service.methodsArray) {
    const request = method.resolvedRequestType;
    const response = method.resolvedResponseType;
    if (!request || !response)
      throw new Error(`${service.fullName}.${method.name}: unresolved message types`);
    definition[method.name] = {
      path: `/${PACKAGE}.${name}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: serializer(request),
      requestDeserialize: deserializer(request),
      responseSerialize: serializer(response),
      responseDeserialize: deserializer(response),
      originalName: originalNameOf(method.name),
    };
  }
  return definition;
}

function constructorOf(name: ServiceName): grpc.ServiceClientConstructor {
  let made = constructors.get(name);
  if (!made) {
    made = grpc.makeClientConstructor(serviceDefinition(name), name);
    constructors.set(name, made);
  }
  return made;
}

const services = Object.defineProperties(
  {},
  Object.fromEntries(
    SERVICE_NAMES.map((name) => [name, { get: () => constructorOf(name), enumerable: true }]),
  ),
) as ApiServices;

/** The tsnet.v1 services: client constructors, and their definitions (servers) as `.service`. */
export function api(): ApiServices {
  return services;
}
