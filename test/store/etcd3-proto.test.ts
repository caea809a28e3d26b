// The bundles build etcd3's gRPC package definition from the schema parsed at build time
// (pkg/store/etcd3-proto.ts, proto-loader's fromJSON) instead of parsing rpc.proto at every start: the two
// definitions must be the same, method by method and byte by byte.
import { createRequire } from 'node:module';
import test from 'ava';
import { etcd3RpcJson, etcd3RpcProtoPath } from '../../pkg/store/etcd3-proto.ts';

// etcd3's own proto-loader (its connection pool's), not the newer one tsnet's API types come from
const etcd3Require = createRequire(createRequire(import.meta.url).resolve('etcd3'));
const protoLoader = etcd3Require('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
// the options etcd3 passes (etcd3/lib/connection-pool.js)
const OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

type Method = import('@grpc/proto-loader').MethodDefinition<object, object>;

function methods(def: import('@grpc/proto-loader').PackageDefinition): Map<string, Method> {
  const out = new Map<string, Method>();
  for (const [name, value] of Object.entries(def)) {
    if ('format' in value) continue; // a message or enum type
    for (const [method, m] of Object.entries(value)) out.set(`${name}.${method}`, m as Method);
  }
  return out;
}

test('the build-time schema gives etcd3 the package definition its rpc.proto gives it', (t) => {
  const parsed = protoLoader.loadSync(etcd3RpcProtoPath(), OPTIONS);
  const built = protoLoader.fromJSON(etcd3RpcJson(), OPTIONS);
  t.deepEqual(Object.keys(built).sort(), Object.keys(parsed).sort());
  const ours = methods(built);
  const theirs = methods(parsed);
  t.true(theirs.size > 30, `etcd's services have their methods (${theirs.size})`);
  t.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
  const samples: Record<string, object> = {
    'etcdserverpb.KV.Range': {
      key: Buffer.from('/tsnet.io/network/subnets/'),
      range_end: Buffer.from('0'),
      limit: 5,
    },
    'etcdserverpb.KV.Put': { key: Buffer.from('k'), value: Buffer.from('v'), lease: '7587', prev_kv: true },
    'etcdserverpb.KV.Txn': {
      compare: [{ result: 'EQUAL', target: 'VERSION', key: Buffer.from('k'), version: '0' }],
      success: [{ request_put: { key: Buffer.from('k'), value: Buffer.from('v') } }],
    },
    'etcdserverpb.Lease.LeaseGrant': { TTL: '30', ID: '0' },
    'etcdserverpb.Watch.Watch': {
      create_request: { key: Buffer.from('a'), start_revision: '12', prev_kv: true },
    },
  };
  for (const [name, theirMethod] of theirs) {
    const ourMethod = ours.get(name);
    t.is(ourMethod?.path, theirMethod.path, name);
    t.is(ourMethod?.requestStream, theirMethod.requestStream, name);
    t.is(ourMethod?.responseStream, theirMethod.responseStream, name);
    const sample = samples[name] ?? {};
    const bytes = theirMethod.requestSerialize(sample);
    t.deepEqual(ourMethod?.requestSerialize(sample), bytes, `${name} request bytes`);
    t.deepEqual(
      ourMethod?.requestDeserialize(bytes),
      theirMethod.requestDeserialize(bytes),
      `${name} request`,
    );
    const response = theirMethod.responseSerialize({});
    t.deepEqual(ourMethod?.responseDeserialize(response), theirMethod.responseDeserialize(response), name);
  }
});
