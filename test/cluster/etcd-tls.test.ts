// The cluster harness with etcdTls: etcd serves its clients only over TLS at https://198.18.0.254:2379 (its
// underlay address, an IP SAN of its certificate) and demands a client certificate from the cluster's throwaway
// CA. Both agents lease their subnets through it, containers on the two nodes ping each other, and tsnetctl's
// cluster view reads it from a node's namespace with the same flags. The server's name is verified: a name
// that reaches the same etcd but is not in the certificate fails in one line, and so does a client without a
// certificate (or with one from another CA). etcdctl, over etcd's unixs:// socket, is the oracle for the store.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import {
  agentCommand,
  type Cluster,
  type CtlResult,
  ETCD_PREFIX,
  ETCD_UNDERLAY_IP,
  pingAllPairs,
  startCluster,
  subnetNetwork,
  tsnetctl,
} from '../../pkg/cluster/index.ts';
import { makeTestPki } from '../../pkg/cluster/pki.ts';
import { configKey, parseNetworkConfig } from '../../pkg/subnet/config.ts';
import { subnetKey, subnetsPrefix } from '../../pkg/subnet/lease.ts';
import { inPrivateMounts } from '../helpers/private-mounts.ts';

let world: Cluster | undefined;

test.before(async () => {
  world = await startCluster({ nodes: 2, etcdTls: true });
});
test.after.always(async () => {
  await world?.teardown();
});

function tlsCluster(): Cluster & { etcdPki: NonNullable<Cluster['etcdPki']> } {
  if (!world?.etcdPki) throw new Error('cluster with etcd TLS not started');
  return world as Cluster & { etcdPki: NonNullable<Cluster['etcdPki']> };
}

/** Keys under `prefix` and their values, as etcdctl reads them. */
async function etcdKeys(cluster: Cluster, prefix: string): Promise<Map<string, string>> {
  const out = JSON.parse(await cluster.etcdctl(['get', '--prefix', prefix, '-w', 'json'])) as {
    kvs?: { key: string; value: string }[];
  };
  const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
  return new Map((out.kvs ?? []).map((kv) => [decode(kv.key), decode(kv.value)]));
}

/** A process's argv from /proc (nsenter execs the agent, so its pid is the agent's). */
async function argvOf(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
}

/** A refusal as it must be: non-zero, one line on stderr naming `why`, no stack trace. */
function assertOneLineRefusal(t: ExecutionContext, r: CtlResult, why: RegExp): void {
  t.log(r.stderr.trim());
  t.not(r.code, 0, `non-zero exit: ${r.stdout}${r.stderr}`);
  t.is(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  t.regex(r.stderr, why);
}

test.serial('both agents lease their subnets over https:// with client certificates', async (t) => {
  const cluster = tlsCluster();
  const pki = cluster.etcdPki;
  t.is(cluster.etcdUrl, `https://${ETCD_UNDERLAY_IP}:2379`);
  for (const n of cluster.nodes) {
    const pid = cluster.agentPid(n.index);
    if (pid === undefined) throw new Error(`node ${n.index}'s agent is not running`);
    const argv = (await argvOf(pid)).join(' ');
    t.true(argv.includes(`--etcd-endpoints ${cluster.etcdUrl}`), argv);
    t.true(argv.includes(`--etcd-cafile ${pki.caFile}`), argv);
    t.true(argv.includes(`--etcd-certfile ${pki.clientCertFile}`), argv);
    t.true(argv.includes(`--etcd-keyfile ${pki.clientKeyFile}`), argv);
  }
  const stored = await etcdKeys(cluster, ETCD_PREFIX);
  t.is(parseNetworkConfig(stored.get(configKey(ETCD_PREFIX)) ?? '').Network, cluster.network);
  const leases = [...stored]
    .filter(([key]) => key.startsWith(subnetsPrefix(ETCD_PREFIX)))
    .map(([key, value]) => `${key} ${(JSON.parse(value) as { PublicIP?: string }).PublicIP}`)
    .sort();
  t.deepEqual(
    leases,
    cluster.nodes
      .map((n) => `${subnetKey(ETCD_PREFIX, subnetNetwork(cluster.subnetOf(n.index) ?? ''))} ${n.publicIp}`)
      .sort(),
    "etcd holds one lease per node, for the subnet the node's subnet.env names",
  );
});

test.serial('containers on the two nodes ping each other', async (t) => {
  const cluster = tlsCluster();
  const a = await cluster.addContainer(0, 'a');
  const b = await cluster.addContainer(1, 'b');
  try {
    const results = await pingAllPairs([a, b], 5);
    t.deepEqual(
      results.filter((r) => !r.ok).map((r) => `${r.from.name} -> ${r.to.name}`),
      [],
      'every pair answers',
    );
  } finally {
    await cluster.removeContainer('a');
    await cluster.removeContainer('b');
  }
});

test.serial('tsnetctl nodes and leases over https:// list both nodes', async (t) => {
  const cluster = tlsCluster();
  const nodes = await cluster.clusterView(['nodes', '-o', 'json'], 1);
  t.is(nodes.code, 0, nodes.stderr);
  const listed = (JSON.parse(nodes.stdout) as { name: string; publicIp: string; subnet: string }[])
    .map((n) => ({ name: n.name, publicIp: n.publicIp, subnet: n.subnet }))
    .sort((x, y) => x.name.localeCompare(y.name));
  t.deepEqual(
    listed,
    cluster.nodes.map((n) => ({
      name: `node${n.index}`,
      publicIp: n.publicIp,
      subnet: subnetNetwork(cluster.subnetOf(n.index) ?? ''),
    })),
  );
  const leases = await cluster.clusterView(['leases', '-o', 'json'], 0);
  t.is(leases.code, 0, leases.stderr);
  for (const n of cluster.nodes)
    t.true(leases.stdout.includes(subnetNetwork(cluster.subnetOf(n.index) ?? '')));
});

test.serial(
  'a host name the server certificate does not name is refused (host name verification)',
  async (t) => {
    const cluster = tlsCluster();
    const pki = cluster.etcdPki;
    // The name resolves to etcd's own address, for this one process only: a mount namespace of its own with
    // /etc/hosts bound over (private propagation, gone when it exits). The handshake reaches etcd; the name
    // it verifies is not among the certificate's SANs (only the members' IPs, localhost and the socket paths).
    const name = 'etcd-unnamed.tsnet.test';
    const hosts = join(cluster.dir, 'hosts-unnamed');
    writeFileSync(hosts, `127.0.0.1 localhost\n${ETCD_UNDERLAY_IP} ${name}\n`);
    const [agent, ...agentArgs] = agentCommand();
    /** init-network from node 1 against `host`, with that /etc/hosts; returns the outcome and the prefix. */
    const initNetwork = async (host: string, tag: string) => {
      const prefix = `/${tag}-${process.pid}/network`;
      const out = await outcomeOf([
        'nsenter',
        `--net=${cluster.nodes[1]?.netnsPath ?? ''}`,
        ...inPrivateMounts(
          [{ bind: hosts, over: '/etc/hosts' }],
          [
            agent ?? '',
            ...agentArgs,
            'init-network',
            '--network=10.98.0.0/16',
            `--etcd-endpoints=https://${host}:2379`,
            `--etcd-prefix=${prefix}`,
            `--etcd-cafile=${pki.caFile}`,
            `--etcd-certfile=${pki.clientCertFile}`,
            `--etcd-keyfile=${pki.clientKeyFile}`,
          ],
        ),
      ]);
      return { out, prefix };
    };
    // The same process, the same /etc/hosts, by the address the certificate names: accepted and written.
    const control = await initNetwork(ETCD_UNDERLAY_IP, 'named');
    t.is(control.out.code, 0, control.out.stderr);
    t.is(
      parseNetworkConfig((await etcdKeys(cluster, control.prefix)).get(configKey(control.prefix)) ?? '')
        .Network,
      '10.98.0.0/16',
    );
    const refused = await initNetwork(name, 'unnamed');
    const quoted = (s: string) => s.replace(/[.]/g, '\\.');
    assertOneLineRefusal(
      t,
      refused.out,
      new RegExp(
        `^tsnet-agent: store get ${refused.prefix}/config: etcd https://${quoted(name)}:2379: .*` +
          `Hostname/IP does not match certificate's altnames: Host: ${quoted(name)}\\. is not in the cert's altnames`,
      ),
    );
    t.deepEqual([...(await etcdKeys(cluster, refused.prefix)).keys()], [], 'nothing written');
  },
);

test.serial('a client without a certificate, or with one from another CA, is refused', async (t) => {
  const cluster = tlsCluster();
  const pki = cluster.etcdPki;
  const view = (tls: string[]) =>
    tsnetctl(['nodes', '--etcd-endpoints', cluster.etcdUrl, '--etcd-prefix', ETCD_PREFIX, ...tls], {
      netnsPath: cluster.nodes[0]?.netnsPath ?? '',
    });
  assertOneLineRefusal(t, await view(['--etcd-cafile', pki.caFile]), /TLS handshake refused by etcd/);
  const stranger = await makeTestPki(join(cluster.dir, 'stranger-pki'), { caName: 'tsnet-stranger-ca' });
  assertOneLineRefusal(
    t,
    await view([
      '--etcd-cafile',
      pki.caFile,
      '--etcd-certfile',
      stranger.clientCertFile,
      '--etcd-keyfile',
      stranger.clientKeyFile,
    ]),
    /TLS handshake refused by etcd/,
  );
  // etcdctl agrees: without a client certificate etcd refuses it too.
  const socket = `unixs://${join(cluster.dir, 'etcd', 'localhost:2379')}`;
  const bare = await outcomeOf([
    'etcdctl',
    `--endpoints=${socket}`,
    `--cacert=${pki.caFile}`,
    '--dial-timeout=2s',
    '--command-timeout=5s',
    'get',
    ETCD_PREFIX,
    '--prefix',
  ]);
  t.not(bare.code, 0, `etcdctl without a certificate: ${bare.stdout}${bare.stderr}`);
});

/** Runs argv, collecting exit code and output like tsnetctl() (never throws for a non-zero exit). */
function outcomeOf(argv: string[]): Promise<CtlResult> {
  return new Promise((resolve) => {
    execFile(argv[0] ?? '', argv.slice(1), { timeout: 120_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
