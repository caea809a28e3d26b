// The cluster harness itself: a failed start leaves nothing behind, and a cluster is removed completely from
// its recorded state by another handle (what `demo --keep` / `demo --down NAME` rely on).

import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import test from 'ava';
import { isAlive, openCluster, startCluster } from '../../pkg/cluster/index.ts';

const netnsOf = (name: string): string[] => readdirSync('/run/netns').filter((n) => n.startsWith(`${name}-`));

test('a cluster whose agents cannot start is removed entirely, and the error says why', async (t) => {
  const name = `tsnc-${randomBytes(3).toString('hex')}`;
  const err = await t.throwsAsync(startCluster({ nodes: 2, name, agentArgs: ['--no-such-flag'] }));
  t.regex(err?.message ?? '', /agent is not running/);
  t.regex(err?.message ?? '', /agent\.log/, 'the error shows the agent log');
  t.deepEqual(netnsOf(name), []);
  t.false(existsSync(`/tmp/tsnet-cluster-${name}`));
});

test('openCluster(name).teardown() removes a running cluster made by another handle: namespaces, processes, files', async (t) => {
  const cluster = await startCluster({ nodes: 2 });
  try {
    await cluster.addContainer(0, 'a');
    const pids = cluster.nodes.map((n) => cluster.agentPid(n.index) ?? 0);
    t.is(netnsOf(cluster.name).length, 5, 'underlay, 2 nodes, etcd, 1 container');
    await openCluster(cluster.name).teardown();
    t.deepEqual(netnsOf(cluster.name), []);
    t.deepEqual(
      pids.map((pid) => isAlive(pid)),
      [false, false],
      'agents stopped',
    );
    t.false(existsSync(cluster.dir));
  } finally {
    await cluster.teardown().catch(() => undefined);
  }
});
