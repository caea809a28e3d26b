// pkg/api/proto.ts builds the services itself; @grpc/proto-loader, which the generated types were made for,
// is the oracle: the same methods, paths, streaming and aliases, and the same bytes and objects for every
// request and response type, each filled field by field.

import * as grpc from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import test from 'ava';
import protobuf from 'protobufjs/light.js';
import { descriptor } from '../../pkg/api/generated/descriptor.ts';
import { API_VERSION, api, LOADER_OPTIONS, serviceDefinition } from '../../pkg/api/proto.ts';

const reference = fromJSON(descriptor as Parameters<typeof fromJSON>[0], LOADER_OPTIONS);
const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
const SERVICES = ['System', 'Images', 'Containers', 'Networks', 'Volumes', 'Cluster'];

const SCALARS: Record<string, unknown> = {
  string: 'text ü',
  bool: true,
  bytes: Buffer.from([0, 1, 254, 255]),
  int32: -7,
  sint32: -7,
  sfixed32: -7,
  uint32: 7,
  fixed32: 7,
  int64: 2 ** 40,
  sint64: -(2 ** 40),
  sfixed64: 2 ** 40,
  uint64: 2 ** 41,
  fixed64: 2 ** 41,
  double: 1.5,
  float: 2.5,
};

/** An object with every field of `type` set (maps with one entry, repeated with two), down to `depth`. */
function filled(type: protobuf.Type, depth = 3): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    field.resolve();
    // one member per oneof: the first
    if (field.partOf && field.partOf.oneof[0] !== field.name) continue;
    const value = (): unknown => {
      if (field.resolvedType instanceof protobuf.Enum) return Object.keys(field.resolvedType.values).at(-1);
      if (field.resolvedType instanceof protobuf.Type)
        return depth > 0 ? filled(field.resolvedType, depth - 1) : {};
      return SCALARS[field.type];
    };
    if (field instanceof protobuf.MapField) out[field.name] = { k1: value() };
    else if (field.repeated) out[field.name] = [value(), value()];
    else out[field.name] = value();
  }
  return out;
}

test('the API version is a major.minor', (t) => {
  t.regex(API_VERSION, /^\d+\.\d+$/);
});

for (const name of SERVICES) {
  test(`${name}: the methods, paths, streaming and aliases of proto-loader`, (t) => {
    const ours = serviceDefinition(name);
    const theirs = reference[`tsnet.v1.${name}`] as grpc.ServiceDefinition;
    t.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort());
    for (const [method, def] of Object.entries(ours)) {
      const ref = theirs[method];
      if (!ref) throw new Error(`${method} missing from proto-loader's definition`);
      t.is(def.path, ref.path);
      t.is(def.requestStream, ref.requestStream, `${method} requestStream`);
      t.is(def.responseStream, ref.responseStream, `${method} responseStream`);
      t.is(def.originalName, ref.originalName, method);
    }
  });

  test(`${name}: every request and response is encoded and decoded as proto-loader does`, (t) => {
    const ours = serviceDefinition(name);
    const theirs = reference[`tsnet.v1.${name}`] as grpc.ServiceDefinition;
    const service = root.lookupService(`tsnet.v1.${name}`);
    service.resolveAll();
    for (const method of service.methodsArray) {
      const def = ours[method.name];
      const ref = theirs[method.name];
      if (!def || !ref) throw new Error(`${method.name} missing`);
      const sides = [
        [
          method.resolvedRequestType,
          def.requestSerialize,
          def.requestDeserialize,
          ref.requestSerialize,
          ref.requestDeserialize,
        ],
        [
          method.resolvedResponseType,
          def.responseSerialize,
          def.responseDeserialize,
          ref.responseSerialize,
          ref.responseDeserialize,
        ],
      ] as const;
      for (const [type, serialize, deserialize, refSerialize, refDeserialize] of sides) {
        if (!type) throw new Error(`${method.name}: unresolved type`);
        for (const value of [{}, filled(type)]) {
          const bytes = serialize(value);
          t.deepEqual(bytes, refSerialize(value), `${method.name} ${type.name} bytes`);
          t.deepEqual(deserialize(bytes), refDeserialize(bytes), `${method.name} ${type.name} object`);
        }
      }
      t.throws(() => def.requestSerialize([] as unknown as object), { message: /expected an object/ });
    }
  });
}

test('api() makes each client constructor once, with its definition as .service', (t) => {
  const first = api().Containers;
  t.is(api().Containers, first);
  t.deepEqual(Object.keys(first.service).sort(), Object.keys(serviceDefinition('Containers')).sort());
  const client = new first('unix:///nonexistent', grpc.credentials.createInsecure());
  t.is(typeof client.Create, 'function');
  t.is(typeof client.create, 'function');
  client.close();
});
