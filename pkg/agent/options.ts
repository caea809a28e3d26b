// Agent options from the command line, validated at the edge with messages an operator can act on.

import { isIPv4 } from 'node:net';
import { hostname } from 'node:os';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { DEFAULT_CNI_SOCKET } from '../cni/serve.ts';
import { stateLocationProblem } from '../fsutil/paths.ts';
import { DEFAULT_PREFIX } from '../subnet/config.ts';
import { DEFAULT_SUBNET_FILE } from '../subnet/env.ts';

export interface EtcdOptions {
  readonly endpoints: string[];
  readonly tls?: { caFile: string; certFile?: string; keyFile?: string };
}

export interface AgentOptions {
  readonly nodeName: string;
  readonly publicIp: string;
  readonly etcd?: EtcdOptions;
  readonly prefix: string;
  readonly dataDir: string;
  readonly subnetFile: string;
  readonly leaseTtlSeconds: number;
  /** HOST:PORT of the health/metrics server; empty disables it. */
  readonly http: string;
  readonly vxlanName: string;
  readonly reconcileIntervalSeconds: number;
  readonly leaveOnExit: boolean;
  readonly masquerade: boolean;
  /** Unix socket on which the agent serves its node's CNI plugins; empty disables it. */
  readonly cniSocket: string;
}

export const DEFAULT_DATA_DIR = '/var/lib/tsnet';

/** A user mistake in flags: printed as one line, never with a stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Flags = Record<string, string | boolean | undefined>;

const str = (flags: Flags, key: string): string | undefined => {
  const v = flags[key];
  return typeof v === 'string' ? v : undefined;
};

function positiveInt(flags: Flags, key: string, fallback: number): number {
  const raw = str(flags, key);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`--${key} ${JSON.stringify(raw)}: expected a positive integer`);
  return n;
}

export function etcdOptions(flags: Flags): EtcdOptions | undefined {
  const raw = str(flags, 'etcd-endpoints');
  if (!raw) return undefined;
  const endpoints = raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const e of endpoints) {
    if (!/^(https?|unix):\/\//.test(e))
      throw new UsageError(`--etcd-endpoints: ${e} must start with http://, https:// or unix://`);
  }
  const caFile = str(flags, 'etcd-cafile');
  const certFile = str(flags, 'etcd-certfile');
  const keyFile = str(flags, 'etcd-keyfile');
  if ((certFile || keyFile) && !caFile)
    throw new UsageError('--etcd-certfile/--etcd-keyfile need --etcd-cafile');
  return { endpoints, ...(caFile ? { tls: { caFile, certFile, keyFile } } : {}) };
}

/** A flag naming where the agent keeps state: never on a kernel filesystem (/proc, /sys, /dev). */
export function statePath(flags: Flags, key: string, fallback: string): string {
  const path = str(flags, key) ?? fallback;
  const problem = stateLocationProblem(path, `--${key}`);
  if (problem) throw new UsageError(problem);
  return path;
}

export function agentOptions(flags: Flags): AgentOptions {
  const publicIp = str(flags, 'public-ip');
  if (!publicIp) throw new UsageError('--public-ip is required: the node address peers reach for VXLAN');
  if (!isIPv4(publicIp))
    throw new UsageError(`--public-ip ${JSON.stringify(publicIp)}: expected an IPv4 address`);
  const vxlanName = str(flags, 'vxlan-name') ?? 'tsnet.1';
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(vxlanName))
    throw new UsageError(`--vxlan-name ${JSON.stringify(vxlanName)}: not an interface name`);
  const nodeName = str(flags, 'node-name') ?? hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/.test(nodeName))
    throw new UsageError(`--node-name ${JSON.stringify(nodeName)}: letters, digits, '.', '_', '-'`);
  const cniSocket = str(flags, 'cni-socket') ?? DEFAULT_CNI_SOCKET;
  if (cniSocket !== '' && !cniSocket.startsWith('/'))
    throw new UsageError(
      `--cni-socket ${JSON.stringify(cniSocket)}: expected an absolute path, or '' to disable`,
    );
  const socketProblem = cniSocket === '' ? undefined : stateLocationProblem(cniSocket, '--cni-socket');
  if (socketProblem) throw new UsageError(socketProblem);
  return {
    nodeName,
    publicIp,
    etcd: etcdOptions(flags),
    prefix: str(flags, 'etcd-prefix') ?? DEFAULT_PREFIX,
    dataDir: statePath(flags, 'data-dir', DEFAULT_DATA_DIR),
    subnetFile: statePath(flags, 'subnet-file', DEFAULT_SUBNET_FILE),
    leaseTtlSeconds: positiveInt(flags, 'lease-ttl', 30),
    http: str(flags, 'http') ?? '127.0.0.1:9180',
    vxlanName,
    reconcileIntervalSeconds: positiveInt(flags, 'reconcile-interval', 60),
    leaveOnExit: flags['leave'] === true,
    masquerade: flags['no-masquerade'] !== true,
    cniSocket,
  };
}

/**
 * `COMMAND [flags]` for tsnet's CLIs: the command and its flags, or undefined after printing `usage` for
 * --help or no command. Bad flags are a UsageError (one line, no stack trace).
 */
export function parseCommandLine(
  options: NonNullable<ParseArgsConfig['options']>,
  usage: string,
  argv: string[] = process.argv.slice(2),
): { command: string; flags: Flags } | undefined {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [command] = parsed.positionals;
  const flags = parsed.values as Flags;
  if (flags['help'] || !command) {
    process.stdout.write(`${usage}\n`);
    return undefined;
  }
  return { command, flags };
}
