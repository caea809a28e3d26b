// The etcd flags (endpoints and TLS files), validated into the options the etcd store takes.
import { type Flags, stringFlag, UsageError } from './command-line.ts';

export interface EtcdOptions {
  readonly endpoints: string[];
  readonly tls?: { caFile: string; certFile?: string; keyFile?: string };
}

export function etcdOptions(flags: Flags): EtcdOptions | undefined {
  const raw = stringFlag(flags, 'etcd-endpoints');
  if (!raw) return undefined;
  const endpoints = raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const e of endpoints) {
    if (!/^(https?|unix):\/\//.test(e))
      throw new UsageError(`--etcd-endpoints: ${e} must start with http://, https:// or unix://`);
  }
  const caFile = stringFlag(flags, 'etcd-cafile');
  const certFile = stringFlag(flags, 'etcd-certfile');
  const keyFile = stringFlag(flags, 'etcd-keyfile');
  if ((certFile || keyFile) && !caFile)
    throw new UsageError('--etcd-certfile/--etcd-keyfile need --etcd-cafile');
  return { endpoints, ...(caFile ? { tls: { caFile, certFile, keyFile } } : {}) };
}
