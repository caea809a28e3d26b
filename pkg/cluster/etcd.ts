// The cluster's etcd (Debian's /usr/bin/etcd) in its own namespace on the underlay. Agents reach it over TCP at
// ETCD_UNDERLAY_IP:2379. It also listens on a unix socket in the cluster's directory: a socket is a file, so a
// process in any namespace (the test process, in the host's) reaches it with `unix://...` and nothing listens
// on the host's network. etcd wants host:port URLs, so the socket is named `localhost:2379` and etcd runs with
// its directory as working directory.
//
// With `tls` (the harness's etcdTls mode) both listeners speak TLS only and etcd demands a client certificate
// signed by the cluster's throwaway CA (pki.ts): agents dial `https://<underlay IP>:2379`, which the server
// certificate names, and etcdctl dials `unixs://<dir>/localhost:2379` (Go names a unix socket's server by its
// path without the port, so that path is a SAN too). Peers stay plain: only the client side is under test.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PollAbort, pollUntil, run } from './exec.ts';
import type { TestPki } from './pki.ts';
import { isAlive, spawnLogged } from './process.ts';

export const ETCD_UNDERLAY_IP = '198.18.0.254';
export const ETCD_URL = `http://${ETCD_UNDERLAY_IP}:2379`;
const CLIENT_SOCKET = 'localhost:2379';
const PEER_SOCKET = 'localhost:2380';

export interface EtcdPaths {
  /** Working directory: data, sockets, log. */
  dir: string;
  netnsPath: string;
  /** Serve clients over TLS only, with client-certificate auth, from these files. */
  tls?: TestPki;
}

/** An etcd server for etcdctl: its directory (where its socket is), with its TLS files when it has them. */
export type EtcdctlTarget = string | { dir: string; tls?: TestPki | undefined };

/** `unix:///.../localhost:2379`, for etcd3 and etcdctl from any namespace. */
export function etcdSocketEndpoint(dir: string): string {
  return `unix://${join(dir, CLIENT_SOCKET)}`;
}

/** The path etcdctl names a TLS socket's server by: a SAN of the server certificate of the etcd in `dir`. */
export function etcdSocketServerName(dir: string): string {
  return join(dir, 'localhost');
}

/** The URL scheme of a client URL: `http`/`unix`, or `https`/`unixs` with TLS. */
const scheme = (base: 'http' | 'unix', tls: boolean): string => (tls ? `${base}s` : base);

/** etcdctl's flags for a client certificate from `tls` (none without). */
export function etcdctlTlsArgs(tls: TestPki | undefined): string[] {
  return tls ? [`--cacert=${tls.caFile}`, `--cert=${tls.clientCertFile}`, `--key=${tls.clientKeyFile}`] : [];
}

/** etcd's flags to serve clients over TLS only, demanding a client certificate the CA signed (none without). */
export function etcdServerTlsArgs(tls: TestPki | undefined): string[] {
  return tls
    ? [
        `--cert-file=${tls.serverCertFile}`,
        `--key-file=${tls.serverKeyFile}`,
        '--client-cert-auth',
        `--trusted-ca-file=${tls.caFile}`,
      ]
    : [];
}

/** etcdctl against the etcd in the target's directory, with the client certificate when it serves TLS. */
export async function etcdctl(target: EtcdctlTarget, ...args: string[]): Promise<string> {
  const { dir, tls } = typeof target === 'string' ? { dir: target, tls: undefined } : target;
  const endpoint = `${scheme('unix', tls !== undefined)}://${join(dir, CLIENT_SOCKET)}`;
  return run('etcdctl', [`--endpoints=${endpoint}`, ...etcdctlTlsArgs(tls), '--dial-timeout=2s', ...args]);
}

/** The client URL member `ip` is dialled at from the underlay. */
export function etcdClientUrl(ip: string, tls: boolean): string {
  return `${scheme('http', tls)}://${ip}:2379`;
}

/** One member of a cluster of several: its name, underlay address and everyone's peer URLs. */
export interface EtcdMember {
  name: string;
  ip: string;
  /** `m0=http://IP:2380,m1=...`, the same for every member. */
  initialCluster: string;
  token: string;
}

/** The underlay address of member `i` of the cluster's etcd: 198.18.0.254, .253, ... */
export function etcdMemberIp(i: number): string {
  return `198.18.0.${254 - i}`;
}

/**
 * Starts etcd and returns its pid once it answers a health check. Alone it peers over a unix socket in its
 * directory; as a `member` of several it peers over the underlay (a relative socket name means nothing to the
 * other members) and is not waited for: a new cluster is healthy only once a quorum runs, see waitEtcdHealthy.
 */
export async function startEtcdServer(paths: EtcdPaths, member?: EtcdMember): Promise<number> {
  mkdirSync(paths.dir, { recursive: true });
  for (const s of [CLIENT_SOCKET, PEER_SOCKET]) rmSync(join(paths.dir, s), { force: true });
  const tls = paths.tls;
  const clientUrl = etcdClientUrl(member?.ip ?? ETCD_UNDERLAY_IP, tls !== undefined);
  const peer = member
    ? [
        `--name=${member.name}`,
        `--listen-peer-urls=http://${member.ip}:2380`,
        `--initial-advertise-peer-urls=http://${member.ip}:2380`,
        `--initial-cluster=${member.initialCluster}`,
        `--initial-cluster-token=${member.token}`,
      ]
    : [
        '--name=tsnet',
        `--listen-peer-urls=unix://${PEER_SOCKET}`,
        `--initial-advertise-peer-urls=unix://${PEER_SOCKET}`,
        `--initial-cluster=tsnet=unix://${PEER_SOCKET}`,
      ];
  const child = await spawnLogged(
    'nsenter',
    [
      `--net=${paths.netnsPath}`,
      '/usr/bin/etcd',
      `--data-dir=${join(paths.dir, 'data')}`,
      `--listen-client-urls=${scheme('unix', tls !== undefined)}://${CLIENT_SOCKET},${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      ...etcdServerTlsArgs(tls),
      ...peer,
      '--heartbeat-interval=50',
      '--election-timeout=250',
    ],
    { logFile: join(paths.dir, 'etcd.log'), cwd: paths.dir },
  );
  const pid = child.pid ?? 0;
  child.unref();
  if (!member) await waitEtcdHealthy(paths, pid);
  return pid;
}

/** Waits until the etcd running in `target`'s dir as `pid` answers a health check (it needs a quorum). */
export async function waitEtcdHealthy(target: EtcdctlTarget, pid: number, timeoutMs = 20_000): Promise<void> {
  const dir = typeof target === 'string' ? target : target.dir;
  await pollUntil(
    'etcd to become healthy',
    async () => {
      if (!isAlive(pid)) throw new PollAbort(`etcd exited; see ${join(dir, 'etcd.log')}`);
      await etcdctl(target, 'endpoint', 'health');
      return true;
    },
    { timeoutMs, intervalMs: 100 },
  );
}
