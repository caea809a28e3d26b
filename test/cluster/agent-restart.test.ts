// kill -9 of an agent while traffic crosses nodes: the kernel keeps the data plane, the restarted agent adopts
// it without a gap (0 lost packets) and takes back the same subnet.
import { spawn } from 'node:child_process';
import test from 'ava';

import { pollUntil, subnetNetwork } from '../../pkg/cluster/index.ts';
import { leasesInEtcd, withCluster } from './helpers.ts';

test('kill -9 of an agent during a cross-node ping: no packet lost, same subnet after restart', async (t) => {
  await withCluster(t, { nodes: 2 }, async (cluster) => {
    const a = await cluster.addContainer(0, 'a');
    const b = await cluster.addContainer(1, 'b');
    const subnetBefore = cluster.subnetOf(0);
    const pidBefore = cluster.agentPid(0);

    const ping = spawn('nsenter', [`--net=${a.netnsPath}`, 'ping', '-n', '-i', '0.2', b.ip], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    ping.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<void>((resolve) => ping.once('close', () => resolve()));
    const replies = (): number[] => [...output.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1]));
    try {
      await pollUntil('5 replies before the kill', () => replies().length >= 5, { timeoutMs: 15_000 });
      await cluster.killAgent(0);
      const lastBeforeRestart = Math.max(...replies());
      await cluster.startAgent(0);
      await cluster.waitHealthy(0);
      // Keep pinging through the restarted agent's first reconcile passes.
      const target = Math.max(...replies()) + 10;
      await pollUntil('10 more replies after the restart', () => Math.max(...replies()) >= target, {
        timeoutMs: 20_000,
      });
      t.true(Math.max(...replies()) > lastBeforeRestart + 10, 'pings continued across kill and restart');
    } finally {
      ping.kill('SIGINT');
      await exited;
    }

    // Every sequence number from 1 to the last answered one was answered: no packet lost in between.
    const seqs = replies();
    const last = Math.max(...seqs);
    const missing = Array.from({ length: last }, (_, k) => k + 1).filter((s) => !seqs.includes(s));
    t.deepEqual(missing, [], `lost icmp_seq: ${missing.join(',')}`);
    t.not(cluster.agentPid(0), pidBefore, 'a new agent process');
    t.is(cluster.subnetOf(0), subnetBefore, 'the same subnet after the restart');
    const ours = (await leasesInEtcd(cluster)).filter((l) => l.attrs.PublicIP === cluster.nodes[0]!.publicIp);
    t.deepEqual(
      ours.map((l) => l.subnet),
      [subnetNetwork(subnetBefore!)],
      'one lease in etcd for node 0, on the same subnet',
    );
  });
});
