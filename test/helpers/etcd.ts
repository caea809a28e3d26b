// A real etcd (Debian's /usr/bin/etcd) for one test, isolated in a network namespace the helper creates.
//
// How tests reach it: etcd listens for clients (and peers) on unix sockets in the helper's temp dir, not on
// TCP. A unix socket is a file, reachable from any network namespace, so the test process (in the host
// namespace) connects with `unix:///tmp/.../localhost:2379` through etcd3/grpc-js without entering the
// namespace, and nothing listens on the host's network. etcd insists on host:port URLs, so the socket file is
// named `localhost:2379` and etcd runs with the temp dir as its working directory. The namespace (loopback up)
// is where `extraClientUrls` such as http://127.0.0.1:2379 listen, and where a test can add an underlay.
//
// With `tls: true` the client socket speaks TLS (etcd's `unixs://` listener) and etcd demands a client
// certificate, all from a throwaway CA that `openssl` makes in the temp dir (`makeTestPki`). grpc-js names a
// unix socket's server `localhost`, so that is the server certificate's SAN (with 127.0.0.1 for TCP inside the
// namespace). etcd3's endpoint stays `unix://...`: TLS comes from the credentials, not the scheme.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { etcdctlTlsArgs, etcdServerTlsArgs } from '../../pkg/cluster/etcd.ts';
import { makeTestPki, type TestPki } from '../../pkg/cluster/pki.ts';
import { createNamedNetns, deleteNamedNetns } from '../../pkg/netns/index.ts';

export { makeTestPki, type TestPki };

const run = promisify(execFile);

export interface EtcdInstance {
  /** Client endpoint for etcd3: `unix:///tmp/tsnt-etcd-.../localhost:2379`. */
  endpoint: string;
  netnsName: string;
  netnsPath: string;
  dir: string;
  /** With `tls: true`: the throwaway CA and the certificates etcd and its clients use. */
  pki?: TestPki;
  /** Stops the server, keeping its data (the store is unreachable until start()). */
  halt(): Promise<void>;
  /** Starts the server again on the same data and socket. */
  start(): Promise<void>;
  /** halt() then start(). */
  restart(): Promise<void>;
  /** Runs etcdctl against this server; returns stdout. */
  etcdctl(...args: string[]): Promise<string>;
  /** Kills etcd, deletes the namespace and the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface EtcdHelperOptions {
  /** More client URLs, listened on inside the namespace (e.g. `http://127.0.0.1:2379`). */
  extraClientUrls?: string[];
  /**
   * Serve clients over TLS only, with client-certificate auth, from a throwaway CA (see `pki`). Extra
   * client URLs then need the `https://` scheme.
   */
  tls?: boolean;
}

export async function startEtcd(options: EtcdHelperOptions = {}): Promise<EtcdInstance> {
  const suffix = randomBytes(4).toString('hex');
  const netnsName = `tsnt-etcd-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), `tsnt-etcd-${suffix}-`));
  const clientSocket = 'localhost:2379';
  const peerSocket = 'localhost:2380';
  const clientScheme = options.tls ? 'unixs' : 'unix';
  const clientUrls = [`${clientScheme}://${clientSocket}`, ...(options.extraClientUrls ?? [])].join(',');
  const endpoint = `unix://${join(dir, clientSocket)}`;
  let netnsPath: string;
  let pki: TestPki | undefined;
  try {
    // etcdctl (Go) names a unix socket's server by its path, without the port: it matches a SAN exactly.
    if (options.tls) pki = await makeTestPki(join(dir, 'pki'), { serverNames: [join(dir, 'localhost')] });
    netnsPath = createNamedNetns(netnsName);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const etcdctlTarget = [
    pki ? `--endpoints=unixs://${join(dir, clientSocket)}` : `--endpoints=${endpoint}`,
    ...etcdctlTlsArgs(pki),
  ];
  let child: ChildProcess | undefined;
  let stopped = false;

  const etcdctl = async (...args: string[]): Promise<string> => {
    const { stdout } = await run('etcdctl', [...etcdctlTarget, '--dial-timeout=2s', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
    });
    return stdout;
  };

  const start = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) return; // already running
    for (const s of [clientSocket, peerSocket]) rmSync(join(dir, s), { force: true });
    const log = openSync(join(dir, 'etcd.log'), 'a');
    try {
      child = spawn(
        'nsenter',
        [
          `--net=${netnsPath}`,
          '/usr/bin/etcd',
          '--name=test',
          `--data-dir=${join(dir, 'data')}`,
          `--listen-client-urls=${clientUrls}`,
          `--advertise-client-urls=${clientScheme}://${clientSocket}`,
          ...etcdServerTlsArgs(pki),
          `--listen-peer-urls=unix://${peerSocket}`,
          `--initial-advertise-peer-urls=unix://${peerSocket}`,
          `--initial-cluster=test=unix://${peerSocket}`,
          '--heartbeat-interval=50',
          '--election-timeout=250',
        ],
        { cwd: dir, stdio: ['ignore', log, log] },
      );
    } finally {
      closeSync(log);
    }
    const proc = child;
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code, signal) =>
        reject(new Error(`etcd exited early (${code ?? signal}); see ${dir}/etcd.log`)),
      ),
    );
    exited.catch(() => undefined);
    for (let i = 0; i < 200; i++) {
      if (existsSync(join(dir, clientSocket))) {
        try {
          await Promise.race([etcdctl('endpoint', 'health'), exited]);
          return;
        } catch (err) {
          if (proc.exitCode !== null || proc.signalCode !== null) throw err;
        }
      }
      await Promise.race([sleep(50), exited]);
    }
    throw new Error(`etcd did not become healthy; see ${dir}/etcd.log`);
  };

  const halt = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      await halt();
    } finally {
      deleteNamedNetns(netnsName);
      rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    await run('nsenter', [`--net=${netnsPath}`, 'ip', 'link', 'set', 'lo', 'up']);
    await start();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    endpoint,
    netnsName,
    netnsPath,
    dir,
    ...(pki ? { pki } : {}),
    halt,
    start,
    restart: async () => {
      await halt();
      await start();
    },
    etcdctl,
    stop,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
