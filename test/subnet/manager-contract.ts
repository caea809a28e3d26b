// Lease manager behaviour, one test body run over each store implementation (see *.test.ts next to this file).
import type { TestFn } from 'ava';
import type { Store } from '../../pkg/store/index.ts';
import { saveNetworkConfig } from '../../pkg/subnet/config.ts';
import { encodeLeaseAttrs, subnetKey } from '../../pkg/subnet/lease.ts';
import {
  type KeeperEvent,
  type LeaseWatchEvent,
  SubnetExhaustedError,
  SubnetManager,
  type SubnetManagerOptions,
} from '../../pkg/subnet/manager.ts';

export interface ManagerWorld {
  /** A new handle on one shared store (a "node"); all handles of a world see the same data. */
  handle(): Promise<Store>;
  ttl: number;
  close(): Promise<void>;
}

const PREFIX = '/tsnet.io/network';
const mac = (i: number): string => `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`;
const nodeIP = (i: number): string => `198.18.0.${i + 1}`;

async function waitUntil<T>(what: string, fn: () => T | undefined, timeoutMs = 20000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function managerContract(
  test: TestFn<unknown>,
  name: string,
  newWorld: () => Promise<ManagerWorld>,
): void {
  const withWorld = async (
    network: object,
    body: (
      w: ManagerWorld,
      manager: (opts?: Partial<SubnetManagerOptions>) => Promise<SubnetManager>,
    ) => Promise<void>,
  ): Promise<void> => {
    const world = await newWorld();
    const handles: Store[] = [];
    try {
      const admin = await world.handle();
      handles.push(admin);
      await saveNetworkConfig(admin, network, PREFIX);
      await body(world, async (opts = {}) => {
        const store = await world.handle();
        handles.push(store);
        return new SubnetManager({ store, leaseTtlSeconds: world.ttl, renewIntervalMs: 250, ...opts });
      });
    } finally {
      for (const h of handles) await h.close();
      await world.close();
    }
  };

  test.serial(
    `${name}: 10 nodes racing on 7 subnets get distinct ones, the rest a clear exhaustion error`,
    async (t) => {
      await withWorld({ Network: '10.250.0.0/26', SubnetLen: 29 }, async (_w, manager) => {
        const managers = await Promise.all(Array.from({ length: 10 }, () => manager()));
        const results = await Promise.allSettled(
          managers.map((m, i) => m.acquire(nodeIP(i), { VtepMAC: mac(i) })),
        );
        const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.subnet] : []));
        const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
        t.is(won.length, 7);
        t.is(new Set(won).size, 7, `distinct subnets: ${won.join(' ')}`);
        t.false(won.includes('10.250.0.0/29'), 'the network’s first subnet is never handed out');
        t.is(lost.length, 3);
        for (const err of lost) {
          t.true(err instanceof SubnetExhaustedError, String(err));
          t.regex(String((err as Error).message), /no free subnet: all 7 \/29 subnets of 10\.250\.0\.0\/26/);
        }
        const { leases } = (await managers[0]?.listLeases()) ?? { leases: [] };
        t.deepEqual(leases.map((l) => l.subnet).sort(), [...won].sort());
      });
    },
  );

  test.serial(`${name}: a node gets its previous subnet back, or its own lease from the store`, async (t) => {
    await withWorld({ Network: '10.251.0.0/16' }, async (_w, manager) => {
      const m = await manager();
      const first = await m.acquire(nodeIP(1), { VtepMAC: mac(1) }, { previousSubnet: '10.251.77.0/24' });
      t.is(first.subnet, '10.251.77.0/24');
      t.is(first.origin, 'previous');
      // Restart without local state: the lease in the store with this PublicIP is taken over.
      const again = await (await manager()).acquire(nodeIP(1), { VtepMAC: mac(1) });
      t.is(again.subnet, '10.251.77.0/24');
      t.is(again.origin, 'store');
      t.not(again.leaseId, first.leaseId);
      // Another node asking for that subnet as "previous" does not get it.
      const other = await (await manager()).acquire(
        nodeIP(2),
        { VtepMAC: mac(2) },
        { previousSubnet: '10.251.77.0/24' },
      );
      t.not(other.subnet, '10.251.77.0/24');
      t.is(other.origin, 'new');
    });
  });

  test.serial(
    `${name}: renewal keeps the lease; a lost lease is taken back with the same subnet`,
    async (t) => {
      await withWorld({ Network: '10.252.0.0/16' }, async (w, manager) => {
        const m = await manager();
        const acquired = await m.acquire(nodeIP(1), { VtepMAC: mac(1) });
        const events: KeeperEvent[] = [];
        const keeper = m.keepAlive(acquired, (e) => events.push(e));
        try {
          await waitUntil('renewals beyond one TTL', () => {
            const renewed = events.filter((e) => e.type === 'renewed').length;
            return renewed * 250 > w.ttl * 1500 ? true : undefined;
          });
          const store = await w.handle();
          try {
            t.is((await store.get(acquired.key))?.lease, acquired.leaseId, 'still held under its lease');
            // Lose the lease (as after an outage longer than the TTL): its key goes with it.
            await store.leaseFromId(acquired.leaseId, acquired.ttl).revoke();
            const back = await waitUntil('reacquired', () => events.find((e) => e.type === 'reacquired'));
            t.true(events.some((e) => e.type === 'lost'));
            t.is(back.type === 'reacquired' ? back.acquired.subnet : '', acquired.subnet);
            t.is(keeper.current().subnet, acquired.subnet);
            const kv = await store.get(acquired.key);
            t.is(kv?.lease, keeper.current().leaseId);
          } finally {
            await store.close();
          }
        } finally {
          await keeper.stop();
        }
      });
    },
  );

  test.serial(
    `${name}: a lost subnet taken by another node meanwhile means a new one, reported`,
    async (t) => {
      await withWorld({ Network: '10.253.0.0/16' }, async (w, manager) => {
        const m = await manager();
        const acquired = await m.acquire(nodeIP(1), { VtepMAC: mac(1) });
        const events: KeeperEvent[] = [];
        const keeper = m.keepAlive(acquired, (e) => events.push(e));
        try {
          const store = await w.handle();
          try {
            await store.put(
              acquired.key,
              encodeLeaseAttrs({
                PublicIP: nodeIP(9),
                BackendType: 'vxlan',
                BackendData: { VtepMAC: mac(9) },
              }),
            );
            const changed = await waitUntil('subnet-changed', () =>
              events.find((e) => e.type === 'subnet-changed'),
            );
            t.is(changed.type === 'subnet-changed' ? changed.previous : '', acquired.subnet);
            t.not(keeper.current().subnet, acquired.subnet);
            t.is(
              JSON.parse((await store.get(acquired.key))?.value ?? '{}').PublicIP,
              nodeIP(9),
              'the other node keeps it',
            );
          } finally {
            await store.close();
          }
        } finally {
          await keeper.stop();
        }
      });
    },
  );

  test.serial(
    `${name}: watchLeases yields a snapshot, then peers added, changed and removed; leave() removes`,
    async (t) => {
      await withWorld({ Network: '10.254.0.0/16' }, async (w, manager) => {
        const self = await manager();
        const mine = await self.acquire(nodeIP(0), { VtepMAC: mac(0) });
        const early = await (await manager()).acquire(nodeIP(1), { VtepMAC: mac(1) });
        const abort = new AbortController();
        const seen: LeaseWatchEvent[] = [];
        const consumer = (async () => {
          for await (const ev of self.watchLeases({ signal: abort.signal, excludeSubnet: mine.subnet }))
            seen.push(ev);
        })();
        try {
          const snap = await waitUntil('snapshot', () => seen.find((e) => e.type === 'snapshot'));
          t.deepEqual(snap.type === 'snapshot' ? snap.leases.map((l) => l.subnet) : [], [early.subnet]);
          const peerManager = await manager();
          const peer = await peerManager.acquire(nodeIP(2), { VtepMAC: mac(2) });
          const added = await waitUntil('added', () => seen.find((e) => e.type === 'added'));
          t.is(added.type === 'added' ? added.lease.attrs.PublicIP : '', nodeIP(2));
          t.is(added.type === 'added' ? added.lease.subnet : '', peer.subnet);
          // The peer restarts with a new VTEP MAC: same subnet, changed attributes.
          const restarted = await (await manager()).acquire(nodeIP(2), { VtepMAC: mac(3) });
          t.is(restarted.subnet, peer.subnet);
          const changed = await waitUntil('changed', () => seen.find((e) => e.type === 'changed'));
          t.is(changed.type === 'changed' ? changed.lease.attrs.BackendData.VtepMAC : '', mac(3));
          t.true(await peerManager.leave(restarted));
          const removed = await waitUntil('removed', () => seen.find((e) => e.type === 'removed'));
          t.is(removed.type === 'removed' ? removed.subnet : '', peer.subnet);
          t.is(
            await peerManager.listLeases().then((l) => l.leases.some((x) => x.subnet === peer.subnet)),
            false,
          );
          t.false(
            seen.some((e) => (e.type === 'added' || e.type === 'changed') && e.lease.subnet === mine.subnet),
          );
          // A malformed entry under subnets/ is skipped, not fatal.
          const admin = await w.handle();
          await admin.put(subnetKey(PREFIX, '10.254.200.0/24'), '{broken');
          await admin.close();
          const late = await (await manager()).acquire(nodeIP(4), { VtepMAC: mac(4) });
          await waitUntil('added after a malformed entry', () =>
            seen.find((e) => e.type === 'added' && e.lease.subnet === late.subnet),
          );
          t.pass();
        } finally {
          abort.abort();
          await consumer;
        }
      });
    },
  );
}
