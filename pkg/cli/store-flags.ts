// The command-line flags that pick and reach the cluster store, shared by tsnet-agent and tsnetctl.
import { openStore, type Store } from '../store/index.ts';
import { DEFAULT_PREFIX } from '../subnet/config.ts';
import { type Flags, flagString, statePath } from './command-line.ts';
import { etcdOptions } from './etcd-flags.ts';

export const DEFAULT_DATA_DIR = '/var/lib/tsnet';

export const STORE_FLAGS = {
  'etcd-endpoints': { type: 'string' },
  'etcd-prefix': { type: 'string' },
  'etcd-cafile': { type: 'string' },
  'etcd-certfile': { type: 'string' },
  'etcd-keyfile': { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

export function storePrefix(flags: Flags): string {
  return flagString(flags, 'etcd-prefix', DEFAULT_PREFIX);
}

/** etcd when --etcd-endpoints is given, else the embedded store under --data-dir. */
export function openStoreFromFlags(flags: Flags, dialTimeoutMs?: number): Promise<Store> {
  const etcd = etcdOptions(flags);
  return openStore({
    etcd: etcd ? { ...etcd, keyPrefix: '', ...(dialTimeoutMs ? { dialTimeoutMs } : {}) } : undefined,
    embedded: { dataDir: statePath(flags, 'data-dir', DEFAULT_DATA_DIR) },
  });
}
