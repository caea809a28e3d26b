// EtcdStore over a real TLS connection: Debian's etcd serving clients on a TLS unix socket (`unixs://`) with
// client-certificate auth, certificates from throwaway CAs made by openssl (test/helpers/etcd.ts). The right CA
// and client certificate pass the whole store contract; a missing client certificate, an untrusted server and
// a client certificate from another CA are refused with a typed StoreError. tsnet-agent's --etcd-cafile,
// --etcd-certfile and --etcd-keyfile are exercised through init-network.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { EtcdStore, type EtcdTlsFiles } from '../../pkg/store/etcd.ts';
import { isStoreError } from '../../pkg/store/index.ts';
import { configKey, parseNetworkConfig } from '../../pkg/subnet/config.ts';
import { type EtcdInstance, makeTestPki, startEtcd, type TestPki } from '../helpers/etcd.ts';
import { nextEvents, storeContract } from './contract.ts';

const run = promisify(execFile);
const AGENT = join(import.meta.dirname, '../../cmd/agent/main.ts');

let etcd: EtcdInstance | undefined;
/** Certificates from a CA etcd does not know (and that does not know etcd's server certificate). */
let stranger: TestPki | undefined;

test.before(async () => {
  etcd = await startEtcd({ tls: true });
  stranger = await makeTestPki(join(etcd.dir, 'stranger-pki'), { caName: 'tsnet-stranger-ca' });
});
test.after.always(async () => {
  await etcd?.stop(); // also removes the stranger's PKI (inside etcd's temp dir)
});

function server(): { etcd: EtcdInstance; pki: TestPki; stranger: TestPki } {
  if (!etcd?.pki || !stranger) throw new Error('etcd with TLS not started');
  return { etcd, pki: etcd.pki, stranger };
}

function clientTls(): EtcdTlsFiles {
  const { pki } = server();
  return { caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile };
}

function open(
  tls: EtcdTlsFiles | undefined,
  keyPrefix = `/tls-${randomBytes(4).toString('hex')}`,
): EtcdStore {
  return new EtcdStore({
    endpoints: [server().etcd.endpoint],
    keyPrefix,
    ...(tls ? { tls } : {}),
    dialTimeoutMs: 3000,
  });
}

storeContract(test, 'etcd over TLS', () => ({ open: async () => open(clientTls()), shortTtl: 2 }));

test.serial('etcd over TLS: put/get/list/lease/watch, and etcdctl sees the writes', async (t) => {
  const prefix = `/tls-${randomBytes(4).toString('hex')}`;
  const s = open(clientTls(), prefix);
  try {
    const listed = await s.list('/w/');
    t.deepEqual(listed.items, []);
    const watch = s.watch('/w/', { fromRevision: listed.revision + 1 });
    const rev = await s.put('/w/a', '1');
    t.is((await s.get('/w/a'))?.value, '1');
    const lease = await s.grantLease(30);
    await s.put('/w/leased', 'x', { lease: lease.id });
    t.is((await s.get('/w/leased'))?.lease, lease.id);
    t.true((await lease.keepAliveOnce()) > 0);
    t.deepEqual(
      (await s.list('/w/')).items.map((i) => i.key),
      ['/w/a', '/w/leased'],
    );
    await lease.revoke();
    t.is(await s.get('/w/leased'), undefined);
    const events = await nextEvents(watch, 3);
    watch.close();
    t.deepEqual(
      events.map((e) => [e.type, 'key' in e ? e.key : e.reason]),
      [
        ['put', '/w/a'],
        ['put', '/w/leased'],
        ['delete', '/w/leased'],
      ],
    );
    t.is(events[0]?.type === 'put' ? events[0].modRevision : undefined, rev);
    // Independent oracle: etcdctl, over the same TLS socket with its own TLS stack (Go).
    t.is(await server().etcd.etcdctl('get', '--print-value-only', `${prefix}/w/a`), '1\n');
  } finally {
    await s.close();
  }
});

/** The refusal a client gets: a StoreError, or whatever else the put threw (which fails the test). */
async function refused(tls: EtcdTlsFiles | undefined): Promise<unknown> {
  const s = open(tls);
  try {
    return await s.put('/refused', 'x').then(
      () => undefined,
      (e: unknown) => e,
    );
  } finally {
    await s.close();
  }
}

const CLIENT_CERT_REFUSED =
  /^store put \/refused: etcd unix:\/\/\/\S+: TLS handshake refused by etcd \((?:bad certificate|certificate required)\): it did not accept the client certificate/;

/** A refusal is a StoreError of kind 'unreachable' (callers retry it with backoff) in one line saying why. */
function assertRefused(t: ExecutionContext, err: unknown, why: RegExp): void {
  if (!isStoreError(err, 'unreachable')) {
    t.fail(`expected StoreError 'unreachable', got ${String(err)}`);
    return;
  }
  t.log(err.message);
  t.regex(err.message, why);
  t.notRegex(err.message, /\n/); // one line, for logs and the CLI
}

test.serial('etcd over TLS: a client without a client certificate is refused', async (t) => {
  assertRefused(t, await refused({ caFile: server().pki.caFile }), CLIENT_CERT_REFUSED);
  const keys = await server().etcd.etcdctl('get', '--prefix', '/', '--keys-only');
  t.notRegex(keys, /refused/);
});

test.serial('etcd over TLS: a client that trusts another CA refuses the server', async (t) => {
  const { pki, stranger } = server();
  const err = await refused({
    caFile: stranger.caFile,
    certFile: pki.clientCertFile,
    keyFile: pki.clientKeyFile,
  });
  assertRefused(
    t,
    err,
    /^store put \/refused: etcd unix:\/\/\/\S+: TLS handshake failed: etcd's server certificate is not trusted \(unable to verify the first certificate\)/,
  );
});

test.serial('etcd over TLS: a client certificate from another CA is refused by etcd', async (t) => {
  const { pki, stranger } = server();
  const err = await refused({
    caFile: pki.caFile,
    certFile: stranger.clientCertFile,
    keyFile: stranger.clientKeyFile,
  });
  assertRefused(t, err, CLIENT_CERT_REFUSED);
});

test.serial('etcd over TLS: a plaintext client is refused', async (t) => {
  // grpc-js only sees the connection fail: no TLS words to give.
  const err = await refused(undefined);
  if (!isStoreError(err, 'unreachable'))
    return t.fail(`expected StoreError 'unreachable', got ${String(err)}`);
  t.log(err.message);
  t.regex(err.message, /^store put \/refused: etcd unix:\/\/\/\S+: 14 UNAVAILABLE/);
});

test.serial('etcd over TLS: tsnet-agent init-network with --etcd-cafile/certfile/keyfile', async (t) => {
  const { etcd, pki } = server();
  const prefix = `/tls-${randomBytes(4).toString('hex')}/network`;
  const storeFlags = [
    `--etcd-endpoints=${etcd.endpoint}`,
    `--etcd-prefix=${prefix}`,
    `--etcd-cafile=${pki.caFile}`,
    `--etcd-certfile=${pki.clientCertFile}`,
    `--etcd-keyfile=${pki.clientKeyFile}`,
  ];
  const { stdout } = await run(process.execPath, [
    '--import=tsx',
    AGENT,
    'init-network',
    '--network=10.99.0.0/16',
    '--subnet-len=24',
    '--vni=7',
    ...storeFlags,
  ]);
  const printed = parseNetworkConfig(stdout.trim());
  t.is(printed.Network, '10.99.0.0/16');
  // Read back over TLS with EtcdStore (no key prefix: the agent's prefix is part of the key) and with etcdctl.
  const s = open(clientTls(), '');
  try {
    const stored = await s.get(configKey(prefix));
    t.truthy(stored, 'config written');
    const config = parseNetworkConfig(stored?.value ?? '');
    t.deepEqual(config, printed);
    t.is(config.SubnetLen, 24);
    t.is(config.Backend.VNI, 7);
  } finally {
    await s.close();
  }
  t.deepEqual(
    parseNetworkConfig(await etcd.etcdctl('get', '--print-value-only', configKey(prefix))),
    printed,
  );
});

test.serial(
  'etcd over TLS: tsnet-agent init-network without a client certificate fails in one line',
  async (t) => {
    const { etcd, pki } = server();
    const prefix = `/tls-${randomBytes(4).toString('hex')}/network`;
    const failed = await run(process.execPath, [
      '--import=tsx',
      AGENT,
      'init-network',
      '--network=10.99.0.0/16',
      `--etcd-endpoints=${etcd.endpoint}`,
      `--etcd-prefix=${prefix}`,
      `--etcd-cafile=${pki.caFile}`,
    ]).then(
      () => undefined,
      (e: unknown) => e as { code?: number; stderr?: string },
    );
    t.is(failed?.code, 1);
    const stderr = failed?.stderr ?? '';
    t.regex(
      stderr,
      /^tsnet-agent: store get \/tls-[0-9a-f]{8}\/network\/config: etcd unix:\S+: TLS handshake refused by etcd/,
    );
    t.is(stderr.trimEnd().split('\n').length, 1, stderr);
    t.is(await etcd.etcdctl('get', '--print-value-only', configKey(prefix)), '');
  },
);
