// The agent's store and subnet-lease services under the supervisor, on the embedded store (each handle a
// separate EmbeddedStore on the same files, like separate processes): the subnet is recorded and taken back
// after a restart, --leave gives it back, a subnet taken by another node is fatal, a start waiting for the
// network config gives up on stop.
import test from 'ava';
import { readLocalState } from '../../pkg/agent/state.ts';
import { StoreService } from '../../pkg/agent/store.ts';
import { SubnetLeaseService } from '../../pkg/agent/subnet-lease.ts';
import { Supervisor } from '../../pkg/agent/supervisor.ts';
import { EmbeddedStore } from '../../pkg/store/embedded.ts';
import { saveNetworkConfig } from '../../pkg/subnet/config.ts';
import { encodeLeaseAttrs, subnetKey } from '../../pkg/subnet/lease.ts';
import type { KeeperEvent } from '../../pkg/subnet/manager.ts';
import { withTempDir } from '../helpers/tmp.ts';

const PREFIX = '/tsnet.io/network';
const PUBLIC_IP = '198.18.0.1';

function node(dataDir: string, onFatal: (reason: string) => void = () => undefined) {
  const store = new StoreService({ embedded: { dataDir, tickMs: 100 } });
  const lease = new SubnetLeaseService({
    store,
    prefix: PREFIX,
    leaseTtlSeconds: 1,
    nodeName: 'node1',
    publicIp: PUBLIC_IP,
    dataDir,
  });
  const supervisor = new Supervisor([lease, store], { onFatal: (_service, reason) => onFatal(reason) });
  return { store, lease, supervisor };
}

async function withStore<T>(dataDir: string, fn: (store: EmbeddedStore) => Promise<T>): Promise<T> {
  const store = await EmbeddedStore.open({ dataDir, tickMs: 100 });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('the subnet is recorded, kept across a restart, and given back with leave', async (t) => {
  await withTempDir(async (dataDir) => {
    await withStore(dataDir, (s) => saveNetworkConfig(s, { Network: '10.244.0.0/16' }, PREFIX));
    const first = node(dataDir);
    await first.supervisor.start();
    const { acquired, vtepMac } = first.lease.lease;
    const subnet = acquired.subnet;
    t.true(first.supervisor.health().healthy);
    t.like(first.supervisor.health().services['subnet-lease'], { ready: true, subnet, state: 'running' });
    t.is(readLocalState(dataDir)?.subnet, subnet, 'the subnet is recorded locally');
    await first.supervisor.stop({ leave: false });
    t.truthy(
      await withStore(dataDir, (s) => s.get(subnetKey(PREFIX, subnet))),
      'a plain stop keeps the lease',
    );

    const second = node(dataDir);
    await second.supervisor.start();
    t.is(second.lease.lease.acquired.subnet, subnet, 'the restarted node takes its subnet back');
    t.is(second.lease.lease.vtepMac, vtepMac, 'and its VTEP MAC');
    await second.supervisor.stop({ leave: true });
    t.is(
      await withStore(dataDir, (s) => s.get(subnetKey(PREFIX, subnet))),
      undefined,
      'leave deletes the lease',
    );
    t.is(readLocalState(dataDir), undefined, 'and the local record');
  });
});

test('a subnet taken by another node is fatal; the new subnet is recorded and listeners hear it first', async (t) => {
  await withTempDir(async (dataDir) => {
    await withStore(dataDir, (s) => saveNetworkConfig(s, { Network: '10.244.0.0/16' }, PREFIX));
    const fatal: string[] = [];
    const { lease, supervisor } = node(dataDir, (reason) => fatal.push(reason));
    const heard: KeeperEvent['type'][] = [];
    lease.onEvent((e) => heard.push(e.type));
    try {
      await supervisor.start();
      const { acquired } = lease.lease;
      await withStore(dataDir, (s) =>
        s.put(
          acquired.key,
          encodeLeaseAttrs({
            PublicIP: '198.18.0.9',
            BackendType: 'vxlan',
            BackendData: { VtepMAC: '02:00:00:00:00:09' },
          }),
        ),
      );
      await waitFor('the fatal report', () => fatal[0]);
      t.deepEqual(fatal, ['subnet taken by another node']);
      t.true(heard.includes('subnet-changed'), 'listeners heard the change before the fatal report');
      const recorded = readLocalState(dataDir)?.subnet;
      t.truthy(recorded);
      t.not(recorded, acquired.subnet, 'the new subnet is recorded for the next start');
      t.false(supervisor.health().healthy);
    } finally {
      await supervisor.stop({ leave: false });
    }
  });
});

test('a start waiting for the network config gives up when the agent stops; nothing is recorded', async (t) => {
  await withTempDir(async (dataDir) => {
    const { lease, supervisor } = node(dataDir);
    const starting = supervisor.start();
    await waitFor('the lease service to wait', () =>
      supervisor.health().services['subnet-lease']?.state === 'starting' ? true : undefined,
    );
    t.false(supervisor.health().healthy);
    await supervisor.stop({ leave: false });
    await t.notThrowsAsync(starting);
    t.throws(() => lease.lease, { message: /no subnet lease yet/ });
    t.is(readLocalState(dataDir), undefined);
    t.is(supervisor.health().services['store']?.state, 'stopped');
  });
});
