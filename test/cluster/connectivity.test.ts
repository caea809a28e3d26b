// 3 nodes, 2 containers each, attached with tsnet-vxlan: every container reaches every other one (same node and
// across nodes, over the VXLAN overlay), and a TCP connection carries data both ways across nodes.
import { spawn } from 'node:child_process';
import test from 'ava';
import { type Container, pingAllPairs, pollUntil } from '../../pkg/cluster/index.ts';
import { withCluster } from './helpers.ts';

test('3 nodes x 2 containers: every container pings every other one, and TCP crosses nodes', async (t) => {
  await withCluster(t, { nodes: 3 }, async (cluster) => {
    const containers: Container[] = [];
    for (const node of cluster.nodes) {
      for (const k of [0, 1]) containers.push(await cluster.addContainer(node.index, `n${node.index}c${k}`));
    }
    t.is(new Set(containers.map((c) => c.ip)).size, 6, 'six distinct container addresses');
    for (const c of containers) {
      const env = cluster.subnetEnv(c.node);
      t.truthy(env, `node ${c.node} wrote subnet.env`);
      t.true(
        c.ip.startsWith(env!.subnet.split('.').slice(0, 3).join('.')),
        `${c.name} is in its node's subnet`,
      );
    }

    const failures = (await pingAllPairs(containers))
      .filter((r) => !r.ok)
      .map((r) => `${r.from.name} (${r.from.ip}) -> ${r.to.name} (${r.to.ip})`);
    t.deepEqual(failures, [], 'every pair answers');

    // TCP: a listener in a container on node 0, a client in a container on node 2, data both ways.
    const server = containers[0]!;
    const client = containers[5]!;
    const listener = spawn('nsenter', [`--net=${server.netnsPath}`, 'nc', '-l', '5000'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let received = '';
    listener.stdout.on('data', (d: Buffer) => {
      received += d.toString();
    });
    listener.stdin.write('hello from the server\n');
    try {
      const reply = await pollUntil(
        'a TCP connection from node 2 to node 0',
        async () => {
          const out = await runWithInput(client.netnsPath, server.ip, 'hello from the client\n');
          return out;
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      );
      t.is(reply.trim(), 'hello from the server');
      await pollUntil('the server to read the client', () => received.includes('hello from the client'), {
        timeoutMs: 5000,
      });
      t.is(received.trim(), 'hello from the client');
    } finally {
      listener.kill('SIGKILL');
    }
  });
});

/** `nc` client: connects, sends `input`, half-closes, returns what the server sent (throws when refused). */
async function runWithInput(nsPath: string, host: string, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', [`--net=${nsPath}`, 'nc', '-N', '-w', '3', host, '5000'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`nc exited ${code}`))));
    child.stdin.end(input);
  });
}
