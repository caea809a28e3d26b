// tsnet-agent serves its node's CNI plugins on --cni-socket: in a one-node local cluster a tsnet-vxlan ADD and
// DEL are served by the agent (its /metrics counts them) and build a working pod; with the agent stopped
// (socket removed) or killed (stale socket left behind) the same plugin works in-process; a process in a pod
// namespace that forges its way past the plugin's own check is refused by the agent.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { AGENT_HTTP, type Cluster, DIST_CNI, ipJson, nsRun, pings } from '../../pkg/cluster/index.ts';
import { ErrorCode } from '../../pkg/cni/errors.ts';
import { withCluster } from '../cluster/helpers.ts';
import { runForgingClient } from '../helpers/cni-socket.ts';
import { withNetnses } from '../helpers/netns.ts';

/** tsnet_cni_requests_total for plugin/command/result on node 0, 0 when absent. */
async function servedCount(
  cluster: Cluster,
  plugin: string,
  command: string,
  result = 'ok',
): Promise<number> {
  const text = await nsRun(
    cluster.nodes[0]!.netnsPath,
    'curl',
    ['-s', '-m', '2', `http://${AGENT_HTTP}/metrics`],
    {
      timeoutMs: 5000,
    },
  );
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('tsnet_cni_requests_total{') &&
        l.includes(`plugin="${plugin}"`) &&
        l.includes(`command="${command}"`) &&
        l.includes(`result="${result}"`),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

function gatewayOf(cluster: Cluster): string {
  return cluster.subnetEnv(0)?.subnet.split('/')[0] ?? '';
}

test('the agent serves tsnet-vxlan ADD/DEL on its socket; without the agent the plugin runs in-process', async (t) => {
  await withCluster(t, { nodes: 1 }, async (cluster) => {
    const node = cluster.nodes[0]!;
    t.true(statSync(node.cniSocket).isSocket());
    t.is(statSync(node.cniSocket).mode & 0o777, 0o600);
    t.is(await servedCount(cluster, 'tsnet-vxlan', 'ADD'), 0);

    const a = await cluster.addContainer(0, 'a');
    t.is(await servedCount(cluster, 'tsnet-vxlan', 'ADD'), 1, 'ADD served by the agent');
    t.true(await pings(a.netnsPath, gatewayOf(cluster)), 'the served ADD built a working pod');
    await cluster.removeContainer('a');
    t.is(await servedCount(cluster, 'tsnet-vxlan', 'DEL'), 1, 'DEL served by the agent');

    await cluster.stopAgent(0, 'SIGTERM');
    t.false(existsSync(node.cniSocket), 'the socket is removed when the agent stops');
    const b = await cluster.addContainer(0, 'b');
    t.true(await pings(b.netnsPath, gatewayOf(cluster)), 'ADD in-process without the agent');
    await cluster.removeContainer('b');

    await cluster.startAgent(0);
    await cluster.waitHealthy(0);
    const c = await cluster.addContainer(0, 'c');
    t.is(await servedCount(cluster, 'tsnet-vxlan', 'ADD'), 1, 'the restarted agent serves again');
    await cluster.killAgent(0);
    t.true(existsSync(node.cniSocket), 'kill -9 leaves the socket file behind');
    const d = await cluster.addContainer(0, 'd');
    t.true(await pings(d.netnsPath, c.ip), 'ADD in-process next to a stale socket; pods talk');
    await cluster.removeContainer('c');
    await cluster.removeContainer('d');
  });
});

test('a process in a pod namespace that forges the agent netns inode is refused (code 5): the agent builds nothing', async (t) => {
  await withCluster(t, { nodes: 1 }, async (cluster) => {
    const node = cluster.nodes[0]!;
    const pod = await cluster.addContainer(0, 'a'); // a pod on the node: the attacker's namespace
    const nodeLinks = async () =>
      (await ipJson<{ ifname: string }[]>(node.netnsPath, ['link', 'show'])).map((l) => l.ifname).sort();
    const linksBefore = await nodeLinks();
    await withNetnses('cnivictim', 1, async ([victim]) => {
      const ipamDir = join(node.dataDir, 'forged-ipam');
      const request = {
        plugin: 'tsnet-vxlan',
        env: {
          CNI_COMMAND: 'ADD',
          CNI_CONTAINERID: 'forged',
          CNI_NETNS: victim!.path,
          CNI_IFNAME: 'eth9',
          CNI_PATH: DIST_CNI,
        },
        stdin: JSON.stringify({
          cniVersion: '1.0.0',
          name: 'tsnet',
          type: 'tsnet-vxlan',
          subnetFile: node.subnetFile,
          dataDir: ipamDir,
        }),
      };
      const out = await runForgingClient(['nsenter', `--net=${pod.netnsPath}`], node.cniSocket, request);
      t.is(out.exitCode, 1);
      const err = JSON.parse(out.stdout) as { code: number; details?: string };
      t.is(err.code, ErrorCode.IoFailure);
      t.regex(err.details ?? '', /another network namespace/);
      t.deepEqual(await nodeLinks(), linksBefore, 'no bridge or veth made in the node namespace');
      const victimLinks = await ipJson<{ ifname: string }[]>(victim!.path, ['link', 'show']);
      t.deepEqual(
        victimLinks.map((l) => l.ifname),
        ['lo'],
        'nothing moved into the namespace the forger chose',
      );
      t.false(existsSync(ipamDir), 'no IPAM state where the forger chose');
      t.is(await servedCount(cluster, 'tsnet-vxlan', 'ADD', 'error'), 1, 'counted as a refused request');
    });
    await cluster.removeContainer('a');
  });
});
