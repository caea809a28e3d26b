// etcd3's gRPC schema, parsed at build time for the bundles. etcd3 parses its rpc.proto (with kv.proto and
// auth.proto) when it is loaded, through @grpc/proto-loader's loadSync: 15-30 ms of every cluster agent's
// start, before the store opens. scripts/build.ts bundles etcd3 with this JSON in its place (proto-loader's
// fromJSON builds the same package definition from it), so the bundle neither parses .proto text nor
// reads etcd3's files at run time. test/store/etcd3-proto.test.ts holds the two definitions equal.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

type Protobuf = typeof import('protobufjs');

/** The .proto etcd3 loads, in the installed package. */
export function etcd3RpcProtoPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('etcd3/package.json')), 'proto', 'rpc.proto');
}

/** rpc.proto and its imports as protobufjs JSON, parsed with the options etcd3 gives loadSync. */
export function etcd3RpcJson(): Record<string, unknown> {
  const protobuf = createRequire(import.meta.url)('protobufjs') as Protobuf;
  const root = new protobuf.Root().loadSync(etcd3RpcProtoPath(), { keepCase: true });
  root.resolveAll();
  return root.toJSON() as Record<string, unknown>;
}
