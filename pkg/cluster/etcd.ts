// The cluster's etcd (Debian's /usr/bin/etcd) in its own namespace on the underlay. Agents reach it over TCP at
// ETCD_UNDERLAY_IP:2379. It also listens on a unix socket in the cluster's directory: a socket is a file, so a
// process in any namespace (the test process, in the host's) reaches it with `unix://...` and nothing listens
// on the host's network. etcd wants host:port URLs, so the socket is named `localhost:2379` and etcd runs with
// its directory as working directory.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PollAbort, pollUntil, run } from './exec.ts';
import { isAlive, spawnLogged } from './process.ts';

export const ETCD_UNDERLAY_IP = '198.18.0.254';
export const ETCD_URL = `http://${ETCD_UNDERLAY_IP}:2379`;
const CLIENT_SOCKET = 'localhost:2379';
const PEER_SOCKET = 'localhost:2380';

export interface EtcdPaths {
  /** Working directory: data, sockets, log. */
  dir: string;
  netnsPath: string;
}

/** `unix:///.../localhost:2379`, for etcd3 and etcdctl from any namespace. */
export function etcdSocketEndpoint(dir: string): string {
  return `unix://${join(dir, CLIENT_SOCKET)}`;
}

export async function etcdctl(dir: string, ...args: string[]): Promise<string> {
  return run('etcdctl', [`--endpoints=${etcdSocketEndpoint(dir)}`, '--dial-timeout=2s', ...args]);
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
  const clientUrl = member ? `http://${member.ip}:2379` : ETCD_URL;
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
      `--listen-client-urls=unix://${CLIENT_SOCKET},${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      ...peer,
      '--heartbeat-interval=50',
      '--election-timeout=250',
    ],
    { logFile: join(paths.dir, 'etcd.log'), cwd: paths.dir },
  );
  const pid = child.pid ?? 0;
  child.unref();
  if (!member) await waitEtcdHealthy(paths.dir, pid);
  return pid;
}

/** Waits until the etcd running in `dir` as `pid` answers a health check (it needs a quorum for that). */
export async function waitEtcdHealthy(dir: string, pid: number, timeoutMs = 20_000): Promise<void> {
  await pollUntil(
    'etcd to become healthy',
    async () => {
      if (!isAlive(pid)) throw new PollAbort(`etcd exited; see ${join(dir, 'etcd.log')}`);
      await etcdctl(dir, 'endpoint', 'health');
      return true;
    },
    { timeoutMs, intervalMs: 100 },
  );
}
