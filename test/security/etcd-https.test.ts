// etcd over TLS on TCP (`https://host:2379`), not only `unixs://`: the test's etcd (test/helpers/etcd.ts, a
// throwaway CA from openssl, client-certificate auth) also listens on https://0.0.0.0:2379 inside its
// namespace, and tsnet-agent runs there (nsenter --net) as an operator would run it against a TLS etcd. Its
// server certificate names `localhost` and 127.0.0.1: those endpoints work end to end (the agent writes the
// network config, etcdctl reads it back), while an address or a host name the certificate does not name, a
// CA that did not sign it, or no client certificate fail in one line saying why, and write nothing.
import { execFile } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { configKey, parseNetworkConfig } from '../../pkg/subnet/config.ts';
import { type EtcdInstance, makeTestPki, startEtcd, type TestPki } from '../helpers/etcd.ts';

const run = promisify(execFile);
const AGENT = join(import.meta.dirname, '../../cmd/agent/main.ts');

let etcd: EtcdInstance | undefined;
let stranger: TestPki | undefined;

test.before(async () => {
  etcd = await startEtcd({ tls: true, extraClientUrls: ['https://0.0.0.0:2379'] });
  stranger = await makeTestPki(join(etcd.dir, 'stranger-pki'), { caName: 'tsnet-stranger-ca' });
});
test.after.always(async () => {
  await etcd?.stop();
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** `tsnet-agent init-network` in etcd's namespace against `endpoint`, with the given TLS files. */
async function initNetwork(endpoint: string, prefix: string, tls: string[]): Promise<Outcome> {
  if (!etcd) throw new Error('etcd not started');
  const argv = [
    `--net=${etcd.netnsPath}`,
    process.execPath,
    '--import=tsx',
    AGENT,
    'init-network',
    '--network=10.98.0.0/16',
    `--etcd-endpoints=${endpoint}`,
    `--etcd-prefix=${prefix}`,
    ...tls,
  ];
  return run('nsenter', argv, { timeout: 120_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: e.code ?? -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  );
}

function tlsFlags(pki: { ca: string; cert?: string; key?: string }): string[] {
  return [
    `--etcd-cafile=${pki.ca}`,
    ...(pki.cert ? [`--etcd-certfile=${pki.cert}`] : []),
    ...(pki.key ? [`--etcd-keyfile=${pki.key}`] : []),
  ];
}

function server(): { etcd: EtcdInstance; pki: TestPki; stranger: TestPki } {
  if (!etcd?.pki || !stranger) throw new Error('etcd with TLS not started');
  return { etcd, pki: etcd.pki, stranger };
}

const goodFlags = () => {
  const { pki } = server();
  return tlsFlags({ ca: pki.caFile, cert: pki.clientCertFile, key: pki.clientKeyFile });
};

let prefixes = 0;
const newPrefix = () => `/https-${process.pid}-${prefixes++}/network`;

for (const endpoint of ['https://localhost:2379', 'https://127.0.0.1:2379']) {
  test.serial(`tsnet-agent init-network over ${endpoint} with client certificates`, async (t) => {
    const prefix = newPrefix();
    const out = await initNetwork(endpoint, prefix, goodFlags());
    t.is(out.code, 0, out.stderr);
    t.notRegex(out.stderr, /Warning/, 'no warning on stderr (an IP endpoint made grpc-js set an IP as SNI)');
    const printed = parseNetworkConfig(out.stdout.trim());
    t.is(printed.Network, '10.98.0.0/16');
    // etcdctl (Go's TLS stack) as the independent oracle, over the unixs:// socket
    t.deepEqual(
      parseNetworkConfig(await server().etcd.etcdctl('get', '--print-value-only', configKey(prefix))),
      printed,
    );
  });
}

/** A refused init-network: exit 1, one line naming the endpoint and why, and nothing written. */
async function assertRefused(
  t: import('ava').ExecutionContext,
  endpoint: string,
  flags: string[],
  why: RegExp,
): Promise<void> {
  const prefix = newPrefix();
  const out = await initNetwork(endpoint, prefix, flags);
  t.log(out.stderr.trim());
  t.is(out.code, 1, `${out.stdout}${out.stderr}`);
  t.is(out.stderr.trimEnd().split('\n').length, 1, 'one line');
  t.regex(
    out.stderr,
    new RegExp(`^tsnet-agent: store get ${prefix}/config: etcd ${endpoint.replace(/[.]/g, '\\.')}`),
  );
  t.regex(out.stderr, why);
  t.is(await server().etcd.etcdctl('get', '--print-value-only', configKey(prefix)), '');
}

test.serial('an address the server certificate does not name is refused (IP verification)', async (t) => {
  // 127.0.0.2 reaches the same etcd on the namespace's loopback, but the certificate names only 127.0.0.1
  await assertRefused(
    t,
    'https://127.0.0.2:2379',
    goodFlags(),
    /not trusted \(Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.2 is not in the cert's list: 127\.0\.0\.1\): check the CA file/,
  );
});

test.serial(
  'a host name the server certificate does not name is refused (host name verification)',
  async (t) => {
    // The machine's own name resolves to loopback in /etc/hosts here; the certificate names only localhost.
    const name = hostname();
    const address = await lookup(name, 4).catch(() => undefined);
    if (name === 'localhost' || !address?.address.startsWith('127.')) {
      t.log(`${name} does not resolve to a loopback address: no second name to try`);
      t.pass('skipped: no name that reaches etcd other than localhost');
      return;
    }
    await assertRefused(
      t,
      `https://${name}:2379`,
      goodFlags(),
      new RegExp(
        `Hostname/IP does not match certificate's altnames: Host: ${name}\\. is not in the cert's altnames`,
      ),
    );
  },
);

test.serial('a CA that did not sign the server certificate is refused', async (t) => {
  const { pki, stranger } = server();
  await assertRefused(
    t,
    'https://localhost:2379',
    tlsFlags({ ca: stranger.caFile, cert: pki.clientCertFile, key: pki.clientKeyFile }),
    /etcd's server certificate is not trusted/,
  );
});

test.serial('no client certificate, or one from another CA: etcd refuses the handshake', async (t) => {
  const { pki, stranger } = server();
  await assertRefused(
    t,
    'https://localhost:2379',
    tlsFlags({ ca: pki.caFile }),
    /TLS handshake refused by etcd/,
  );
  await assertRefused(
    t,
    'https://127.0.0.1:2379',
    tlsFlags({ ca: pki.caFile, cert: stranger.clientCertFile, key: stranger.clientKeyFile }),
    /TLS handshake refused by etcd/,
  );
});
