import { randomBytes } from 'node:crypto';
import test from 'ava';
import { EtcdStore } from '../../pkg/store/etcd.ts';
import { isStoreError } from '../../pkg/store/index.ts';
import { type EtcdInstance, startEtcd } from '../helpers/etcd.ts';
import { nextEvents, storeContract } from './contract.ts';

let etcd: EtcdInstance | undefined;

test.before(async () => {
  etcd = await startEtcd();
});
test.after.always(async () => {
  await etcd?.stop();
});

function open(): EtcdStore {
  if (!etcd) throw new Error('etcd not started');
  return new EtcdStore({
    endpoints: [etcd.endpoint],
    keyPrefix: `/t-${randomBytes(4).toString('hex')}`,
    dialTimeoutMs: 2000,
  });
}

storeContract(test, 'etcd', () => ({ open: async () => open(), shortTtl: 2 }));

test.serial('etcd: keyPrefix isolates keys; etcdctl sees the full key', async (t) => {
  const s = open();
  try {
    await s.put('/p/k', 'v');
    t.deepEqual(
      (await s.list('/p/')).items.map((i) => i.key),
      ['/p/k'],
    );
    const out = await etcd?.etcdctl('get', '--prefix', '/t-', '--keys-only');
    t.regex(out ?? '', /\/t-[0-9a-f]{8}\/p\/k/);
  } finally {
    await s.close();
  }
});

test.serial(
  'etcd: unreachable is typed, watches resync, and the store recovers after a restart',
  async (t) => {
    const s = open();
    try {
      await s.put('/u/k', '1');
      const listed = await s.list('/u/');
      const watch = s.watch('/u/', { fromRevision: listed.revision + 1 });
      await s.put('/u/k', '2');
      await etcd?.halt();
      const err = await t.throwsAsync(s.get('/u/k'));
      t.true(isStoreError(err, 'unreachable'), String(err));
      t.regex(String(err?.message), /store get \/u\/k: etcd unix:/);
      const events = await nextEvents(watch, 3);
      t.is(events.at(-1)?.type, 'resync', JSON.stringify(events));
      await etcd?.start();
      let value: string | undefined;
      for (let i = 0; i < 50 && value === undefined; i++) {
        try {
          value = (await s.get('/u/k'))?.value;
        } catch (e) {
          if (!isStoreError(e, 'unreachable')) throw e;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      t.is(value, '2');
    } finally {
      await s.close();
    }
  },
);

test.serial('etcd: TLS files that cannot be read are a clear error', (t) => {
  const err = t.throws(
    () => new EtcdStore({ endpoints: ['https://127.0.0.1:2379'], tls: { caFile: '/nonexistent/ca.pem' } }),
  );
  t.regex(String(err?.message), /cannot read etcd TLS CA \/nonexistent\/ca\.pem/);
});
