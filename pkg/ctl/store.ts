// The store tsnetctl reads. tsnetctl only looks: it never creates a store, so a mistyped --data-dir (or a
// machine without an agent) is an error naming the path, not an empty store that answers "no node holds a
// lease".
import { join } from 'node:path';
import { type Flags, flagString, UsageError } from '../cli/command-line.ts';
import { DEFAULT_DATA_DIR, openStoreFromFlags, storePrefix } from '../cli/store-flags.ts';
import { EMBEDDED_STORE_FILE } from '../store/embedded.ts';
import { isStoreError, openStore, type Store } from '../store/index.ts';

/** Moves the default data dir (the agent's default --data-dir): for a node laid out differently, and tests. */
export const DATA_DIR_ENV = 'TSNET_DATA_DIR';

/** Where the embedded store is looked for, and whether the operator named it with --data-dir. */
export interface DataDirChoice {
  readonly dataDir: string;
  readonly fromFlag: boolean;
}

export function chooseDataDir(flags: Flags, env: NodeJS.ProcessEnv = process.env): DataDirChoice {
  const fromFlag = flags['data-dir'];
  if (typeof fromFlag === 'string') return { dataDir: nonEmpty(fromFlag, '--data-dir'), fromFlag: true };
  const fromEnv = env[DATA_DIR_ENV];
  return {
    dataDir: fromEnv === undefined ? DEFAULT_DATA_DIR : nonEmpty(fromEnv, DATA_DIR_ENV),
    fromFlag: false,
  };
}

function nonEmpty(dir: string, source: string): string {
  if (dir === '') throw new UsageError(`${source} is empty: give the agent's data directory`);
  return dir;
}

/** The embedded store under `dataDir`, or the path of the store file that is not there (nothing is created). */
async function openExistingEmbeddedStore(dataDir: string): Promise<{ store: Store } | { missing: string }> {
  try {
    return { store: await openStore({ embedded: { dataDir, create: false } }) };
  } catch (err) {
    if (isStoreError(err, 'not-found')) return { missing: join(dataDir, EMBEDDED_STORE_FILE) };
    throw err;
  }
}

/** What the local agent's /healthz says about its store, or undefined when nothing answers. */
export type AgentProbe = (url: string) => Promise<{ store?: string } | undefined>;

async function probeAgentHealth(url: string): Promise<{ store?: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as unknown;
    if (typeof body !== 'object' || body === null) return {};
    const store = (body as Record<string, unknown>)['store'];
    return typeof store === 'string' ? { store } : {};
  } catch {
    return undefined;
  }
}

/**
 * etcd when --etcd-endpoints is given, else the existing embedded store. A missing embedded store is an error:
 * a UsageError naming the path when the operator chose the directory, else one that says no agent or store
 * was found (asking the local agent at `agentUrl` which store it uses, to say what to pass instead).
 */
export async function openExistingStore(
  flags: Flags,
  options: { agentUrl: string; dialTimeoutMs?: number; probe?: AgentProbe; env?: NodeJS.ProcessEnv },
): Promise<Store> {
  if (typeof flags['etcd-endpoints'] === 'string') return openStoreFromFlags(flags, options.dialTimeoutMs);
  const { dataDir, fromFlag } = chooseDataDir(flags, options.env);
  const opened = await openExistingEmbeddedStore(dataDir);
  if ('store' in opened) return opened.store;
  const file = opened.missing;
  if (fromFlag) throw new UsageError(`no tsnet store at ${file} (--data-dir ${dataDir}): is the path right?`);
  const agent = await (options.probe ?? probeAgentHealth)(options.agentUrl);
  if (agent?.store === 'etcd')
    throw new Error(
      `no store at ${file}: the agent at ${options.agentUrl} uses etcd; pass its --etcd-endpoints (and --etcd-prefix)`,
    );
  if (agent)
    throw new Error(
      `no store at ${file}: the agent at ${options.agentUrl} keeps it elsewhere; pass its --data-dir`,
    );
  throw new Error(
    `no tsnet agent or store found: nothing answers at ${options.agentUrl} and ${file} does not exist; ` +
      'pass --etcd-endpoints or --data-dir',
  );
}

/** The local agent's /healthz, where --http points (its default address otherwise). */
export const agentUrl = (flags: Flags): string =>
  `http://${flagString(flags, 'http', '127.0.0.1:9180')}/healthz`;

/** Runs `fn` on the store the flags name (never created) and its key prefix; closes the store after. */
export async function withStore<T>(
  flags: Flags,
  fn: (store: Store, prefix: string) => Promise<T>,
): Promise<T> {
  const store = await openExistingStore(flags, { agentUrl: agentUrl(flags), dialTimeoutMs: 3000 });
  try {
    return await fn(store, storePrefix(flags));
  } finally {
    await store.close();
  }
}
