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

/** Starts etcd and returns its pid once it answers a health check. */
export async function startEtcdServer(paths: EtcdPaths): Promise<number> {
  mkdirSync(paths.dir, { recursive: true });
  for (const s of [CLIENT_SOCKET, PEER_SOCKET]) rmSync(join(paths.dir, s), { force: true });
  const child = await spawnLogged(
    'nsenter',
    [
      `--net=${paths.netnsPath}`,
      '/usr/bin/etcd',
      '--name=tsnet',
      `--data-dir=${join(paths.dir, 'data')}`,
      `--listen-client-urls=unix://${CLIENT_SOCKET},${ETCD_URL}`,
      `--advertise-client-urls=${ETCD_URL}`,
      `--listen-peer-urls=unix://${PEER_SOCKET}`,
      `--initial-advertise-peer-urls=unix://${PEER_SOCKET}`,
      `--initial-cluster=tsnet=unix://${PEER_SOCKET}`,
      '--heartbeat-interval=50',
      '--election-timeout=250',
    ],
    { logFile: join(paths.dir, 'etcd.log'), cwd: paths.dir },
  );
  const pid = child.pid ?? 0;
  child.unref();
  await pollUntil(
    'etcd to become healthy',
    async () => {
      if (!isAlive(pid)) throw new PollAbort(`etcd exited; see ${join(paths.dir, 'etcd.log')}`);
      await etcdctl(paths.dir, 'endpoint', 'health');
      return true;
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );
  return pid;
}
