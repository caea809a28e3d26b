// tsnetctl's store: an existing one is read, a missing one is an error that says what to pass, and nothing is
// ever created.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { UsageError } from '../../pkg/cli/command-line.ts';
import { chooseDataDir, openExistingStore } from '../../pkg/ctl/store.ts';
import { EmbeddedStore } from '../../pkg/store/embedded.ts';
import { withTempDir } from '../helpers/tmp.ts';

const AGENT = 'http://127.0.0.1:9180/healthz';

test('an existing embedded store is opened and read', async (t) => {
  await withTempDir(async (dir) => {
    const seed = await EmbeddedStore.open({ dataDir: dir });
    await seed.put('/k', 'v');
    await seed.close();
    const store = await openExistingStore(
      { 'data-dir': dir },
      { agentUrl: AGENT, probe: async () => undefined },
    );
    try {
      t.is((await store.get('/k'))?.value, 'v');
    } finally {
      await store.close();
    }
  });
});

test('the default data dir: TSNET_DATA_DIR moves it, --data-dir overrides both, empty is refused', (t) => {
  t.deepEqual(chooseDataDir({}, {}), { dataDir: '/var/lib/tsnet', fromFlag: false });
  t.deepEqual(chooseDataDir({}, { TSNET_DATA_DIR: '/srv/tsnet' }), {
    dataDir: '/srv/tsnet',
    fromFlag: false,
  });
  t.deepEqual(chooseDataDir({ 'data-dir': '/x' }, { TSNET_DATA_DIR: '/srv/tsnet' }), {
    dataDir: '/x',
    fromFlag: true,
  });
  t.throws(() => chooseDataDir({ 'data-dir': '' }, {}), {
    instanceOf: UsageError,
    message: /--data-dir is empty/,
  });
});

test('without a store at the default, the error says what the local agent uses', async (t) => {
  await withTempDir(async (dir) => {
    const missing = join(dir, 'none');
    const open = (agent: { store?: string } | undefined) =>
      openExistingStore({}, { agentUrl: AGENT, env: { TSNET_DATA_DIR: missing }, probe: async () => agent });
    await t.throwsAsync(open(undefined), {
      message: `no tsnet agent or store found: nothing answers at ${AGENT} and ${missing}/store.json does not exist; pass --etcd-endpoints or --data-dir`,
    });
    await t.throwsAsync(open({ store: 'etcd' }), {
      message: /the agent at .* uses etcd; pass its --etcd-endpoints/,
    });
    await t.throwsAsync(open({ store: 'embedded' }), { message: /keeps it elsewhere; pass its --data-dir/ });
    t.false(existsSync(missing));
    t.deepEqual(readdirSync(dir), [], 'nothing created');
  });
});
