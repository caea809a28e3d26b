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
      child() {
        return this;
      },
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

test.serial(
  'etcd: watchLeases lists again after etcd restarts and after compaction, then keeps watching',
  async (t) => {
    const keyPrefix = `/t-${randomBytes(4).toString('hex')}`;
    const admin = handleFor(keyPrefix);
    const store = handleFor(keyPrefix);
    const abort = new AbortController();
    try {
      await saveNetworkConfig(admin, { Network: '10.248.0.0/16' });
      const m = new SubnetManager({ store, leaseTtlSeconds: 30, backoff: { maxMs: 500 } });
      const peers = new SubnetManager({ store: admin, leaseTtlSeconds: 30 });
      const a = await peers.acquire('198.18.2.1', { VtepMAC: '02:00:00:00:02:01' });
      const seen: string[] = [];
      const consumer = (async () => {
        for await (const ev of m.watchLeases({ signal: abort.signal })) {
          seen.push(
            ev.type === 'snapshot'
              ? `snapshot:${ev.leases.map((l) => l.subnet).join(',')}`
              : `${ev.type}:${ev.type === 'removed' ? ev.subnet : ev.lease.subnet}`,
          );
        }
      })();
      const waitSeen = async (entry: string): Promise<void> => {
        for (let i = 0; i < 400 && !seen.includes(entry); i++) await new Promise((r) => setTimeout(r, 50));
        t.true(seen.includes(entry), `${entry} in ${JSON.stringify(seen)}`);
      };
      await waitSeen(`snapshot:${a.subnet}`);
      await etcd?.restart();
      const b = await peers.acquire('198.18.2.2', { VtepMAC: '02:00:00:00:02:02' });
      // The watch either saw b live or in the relisting that followed the restart; both end with b known.
      for (let i = 0; i < 400 && !seen.some((s) => s.includes(b.subnet)); i++)
        await new Promise((r) => setTimeout(r, 50));
      t.true(seen.filter((s) => s.startsWith('snapshot:')).length >= 2, JSON.stringify(seen));
      t.true(
        seen.some((s) => s.includes(b.subnet)),
        JSON.stringify(seen),
      );
      const snapshotsBefore = seen.filter((s) => s.startsWith('snapshot:')).length;
      await peers.leave(b);
      await waitSeen(`removed:${b.subnet}`);
      // A compaction past the watch's revision does not lose events: etcd keeps the watch going, or it relists.
      const rev = await admin.put('/unrelated', 'x');
      await admin.compact(rev);
      const c = await peers.acquire('198.18.2.3', { VtepMAC: '02:00:00:00:02:03' });
      await waitSeen(`added:${c.subnet}`);
      t.true(seen.filter((s) => s.startsWith('snapshot:')).length >= snapshotsBefore);
      abort.abort();
      await consumer;
    } finally {
      abort.abort();
      await store.close();
      await admin.close();
      if (etcd) await etcd.start().catch(() => undefined);
    }
  },
);
