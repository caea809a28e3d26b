// Agent options from the command line, validated at the edge with messages an operator can act on.

import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type Flags,
  integerFlag,
  ipv4Flag,
  type ListenAddress,
  listenFlag,
  positiveInt,
  statePath,
  stringFlag as str,
  UsageError,
} from '../cli/command-line.ts';
import { type EtcdOptions, etcdOptions } from '../cli/etcd-flags.ts';
import { DEFAULT_DATA_DIR } from '../cli/store-flags.ts';
import { DEFAULT_CNI_SOCKET } from '../cni/socket-protocol.ts';
import { stateLocationProblem } from '../fsutil/paths.ts';
import { DEFAULT_RUNC } from '../runtime/runc.ts';
import { DEFAULT_PREFIX } from '../subnet/config.ts';
import { DEFAULT_SUBNET_FILE } from '../subnet/env.ts';

export interface AgentOptions {
  readonly nodeName: string;
  /** Undefined: the default route's interface address, looked up when the overlay needs it. */
  readonly publicIp: string | undefined;
  readonly etcd?: EtcdOptions;
  readonly prefix: string;
  readonly dataDir: string;
  readonly subnetFile: string;
  readonly leaseTtlSeconds: number;
  /** Where the health/metrics server listens; undefined disables it. */
  readonly http: ListenAddress | undefined;
  readonly vxlanName: string;
  readonly reconcileIntervalSeconds: number;
  readonly leaveOnExit: boolean;
  readonly masquerade: boolean;
  /** Unix socket on which the agent serves its node's CNI plugins; empty disables it. */
  readonly cniSocket: string;
  /** Volatile state: sockets, bundles, runc's root (persistent state is under dataDir). */
  readonly runDir: string;
  /** Unix socket of the agent's gRPC API (tsnetctl's); empty disables it. */
  readonly apiSocket: string;
  /** Registries (`host[:port]`) pulled from and pushed to over plain HTTP (loopback ones always are). */
  readonly insecureRegistries: readonly string[];
  /** Where the runtime's networks are kept as CNI conflists (other CNI runtimes read them there too). */
  readonly cniConfDir: string;
  /** Where CNI plugins are looked up first (the agent's own dist/cni after it). */
  readonly cniBinDir: string;
  /** The OCI runtime that executes containers (--runtime). */
  readonly runtime: string;
  /** The resolv.conf whose nameservers the cluster DNS forwards other names to (kubelet's --resolv-conf). */
  readonly resolvConf: string;
  /** The least severe log records written (dockerd's --log-level). */
  readonly logLevel: LogLevel;
  /** Warm tsnetctl processes kept ready for the native tsnetctl (0: none). */
  readonly warmClients: number;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function logLevelFlag(flags: Flags): LogLevel {
  const value = str(flags, 'log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(value))
    throw new UsageError(`--log-level ${JSON.stringify(value)}: one of ${LOG_LEVELS.join(', ')}`);
  return value as LogLevel;
}

export const DEFAULT_CNI_CONF_DIR = '/etc/cni/net.d';
export const DEFAULT_CNI_BIN_DIR = '/opt/cni/bin';

export const DEFAULT_RUN_DIR = '/run/tsnet';

/**
 * Two: a call takes one while the other, replaced during the call before, is ready for the next (one
 * would have a script's back-to-back calls wait for its replacement).
 */
export const DEFAULT_WARM_CLIENTS = 2;

export const DEFAULT_HTTP = '127.0.0.1:9180';

export function agentOptions(flags: Flags): AgentOptions {
  const publicIp = ipv4Flag(flags, 'public-ip');
  const vxlanName = str(flags, 'vxlan-name') ?? 'tsnet.1';
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(vxlanName))
    throw new UsageError(`--vxlan-name ${JSON.stringify(vxlanName)}: not an interface name`);
  const nodeName = str(flags, 'node-name') ?? hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/.test(nodeName))
    throw new UsageError(`--node-name ${JSON.stringify(nodeName)}: letters, digits, '.', '_', '-'`);
  const runDir = statePath(flags, 'run-dir', DEFAULT_RUN_DIR);
  // The plugins' defaults (/run/tsnet/cni.sock, /run/tsnet/subnet.env) follow the run dir.
  const defaultIn = (name: string, standard: string) =>
    runDir === DEFAULT_RUN_DIR ? standard : join(runDir, name);
  const cniSocket = socketFlag(flags, 'cni-socket', defaultIn('cni.sock', DEFAULT_CNI_SOCKET));
  const apiSocket = socketFlag(flags, 'api-socket', join(runDir, 'tsnet.sock'));
  return {
    nodeName,
    publicIp,
    etcd: etcdOptions(flags),
    prefix: str(flags, 'etcd-prefix') ?? DEFAULT_PREFIX,
    dataDir: statePath(flags, 'data-dir', DEFAULT_DATA_DIR),
    subnetFile: statePath(flags, 'subnet-file', defaultIn('subnet.env', DEFAULT_SUBNET_FILE)),
    leaseTtlSeconds: positiveInt(flags, 'lease-ttl', 30),
    http: listenFlag(flags, 'http', DEFAULT_HTTP),
    vxlanName,
    reconcileIntervalSeconds: positiveInt(flags, 'reconcile-interval', 60),
    leaveOnExit: flags['leave'] === true,
    masquerade: flags['no-masquerade'] !== true,
    cniSocket,
    runDir,
    apiSocket,
    insecureRegistries: insecureRegistriesFlag(flags),
    // Absolute: CNI_PATH entries must be, and the agent's cwd is nobody's business.
    cniConfDir: resolve(statePath(flags, 'cni-conf-dir', DEFAULT_CNI_CONF_DIR)),
    cniBinDir: resolve(statePath(flags, 'cni-bin-dir', DEFAULT_CNI_BIN_DIR)),
    runtime: runtimeFlag(flags),
    resolvConf: resolve(str(flags, 'resolv-conf') ?? '/etc/resolv.conf'),
    logLevel: logLevelFlag(flags),
    warmClients: integerFlag(flags, 'warm-clients', { min: 0, max: 16 }) ?? DEFAULT_WARM_CLIENTS,
  };
}

/** `--runtime PATH`: an absolute path to runc (crun does not run on a hybrid cgroup layout). */
function runtimeFlag(flags: Flags): string {
  const path = str(flags, 'runtime') ?? DEFAULT_RUNC;
  if (!path.startsWith('/'))
    throw new UsageError(`--runtime ${JSON.stringify(path)}: expected an absolute path`);
  return path;
}

/** `--insecure-registry HOST[:PORT]`, repeatable. */
function insecureRegistriesFlag(flags: Flags): string[] {
  // Declared `multiple`: parseArgs gives an array, which the shared Flags type does not spell out.
  const raw = (flags as Record<string, unknown>)['insecure-registry'];
  const values = raw === undefined ? [] : Array.isArray(raw) ? (raw as unknown[]) : [raw];
  return values.map((v) => {
    const host = String(v);
    if (!/^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?$/.test(host))
      throw new UsageError(`--insecure-registry ${JSON.stringify(host)}: expected HOST[:PORT]`);
    return host;
  });
}

/** A unix socket path flag: absolute, not on a kernel filesystem, or '' to disable what serves on it. */
function socketFlag(flags: Flags, key: string, fallback: string): string {
  const path = str(flags, key) ?? fallback;
  if (path === '') return path;
  if (!path.startsWith('/'))
    throw new UsageError(`--${key} ${JSON.stringify(path)}: expected an absolute path, or '' to disable`);
  const problem = stateLocationProblem(path, `--${key}`);
  if (problem) throw new UsageError(problem);
  return path;
}
