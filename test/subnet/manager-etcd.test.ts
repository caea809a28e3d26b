import { randomBytes } from 'node:crypto';
import test from 'ava';
import { EtcdStore } from '../../pkg/store/etcd.ts';
import { saveNetworkConfig } from '../../pkg/subnet/config.ts';
import { type KeeperEvent, SubnetManager } from '../../pkg/subnet/manager.ts';
import { type EtcdInstance, startEtcd } from '../helpers/etcd.ts';
import { managerContract } from './manager-contract.ts';

let etcd: EtcdInstance | undefined;
test.before(async () => {
  etcd = await startEtcd();
});
test.after.always(async () => {
  await etcd?.stop();
});

function handleFor(keyPrefix: string): EtcdStore {
  if (!etcd) throw new Error('etcd not started');
  return new EtcdStore({ endpoints: [etcd.endpoint], keyPrefix, dialTimeoutMs: 1000 });
}

// Each world is its own key prefix in the shared etcd; each handle its own client, as separate nodes.
managerContract(test, 'etcd', async () => {
  const keyPrefix = `/t-${randomBytes(4).toString('hex')}`;
  return { handle: async () => handleFor(keyPrefix), ttl: 2, close: async () => {} };
});

test.serial(
  'etcd: an agent started while etcd is down acquires once it is up; renewal rides out a restart',
  async (t) => {
    const keyPrefix = `/t-${randomBytes(4).toString('hex')}`;
    const admin = handleFor(keyPrefix);
    const store = handleFor(keyPrefix);
    const warnings: string[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (obj: object, msg?: string) => warnings.push(`${msg} ${JSON.stringify(obj)}`),
    };
    try {
      await saveNetworkConfig(admin, { Network: '10.249.0.0/16' });
      await etcd?.halt();
      const m = new SubnetManager({
        store,
        leaseTtlSeconds: 3,
        renewIntervalMs: 250,
        logger,
        backoff: { maxMs: 500 },
      });
      const pending = m.acquire('198.18.1.1', { VtepMAC: '02:00:00:00:01:01' });
      while (warnings.length < 2) await new Promise((r) => setTimeout(r, 50));
      t.regex(warnings[0] ?? '', /store unreachable, retrying .*"reason":"store get .*etcd unix:/);
      await etcd?.start();
      const acquired = await pending;
      t.is(acquired.origin, 'new');
      const events: KeeperEvent[] = [];
      const keeper = m.keepAlive(acquired, (e) => events.push(e));
      try {
        await etcd?.restart();
        const before = events.length;
        while (events.slice(before).filter((e) => e.type === 'renewed').length < 3) {
          await new Promise((r) => setTimeout(r, 50));
        }
        t.is(keeper.current().subnet, acquired.subnet, 'same subnet across an etcd restart');
        t.is((await admin.get(acquired.key))?.lease, keeper.current().leaseId);
      } finally {
        await keeper.stop();
      }
    } finally {
      await store.close();
      await admin.close();
      if (etcd) await etcd.start().catch(() => undefined);
    }
  },
);
