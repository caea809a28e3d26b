// A single node is the default: without etcd and without a cluster network config the agent serves its API
// at once, reports ready, and needs no --public-ip; when a network config appears in its embedded store it
// joins (subnet lease, VTEP on the default route's address, subnet.env) without a restart.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { agentCommand, REPO_ROOT } from '../../pkg/cluster/agent.ts';
import { pollUntil } from '../../pkg/cluster/exec.ts';
import { startTestAgent } from '../helpers/agent.ts';
import { nsexec, uniqueIfname, withNetnses } from '../helpers/netns.ts';
import { withTempDir } from '../helpers/tmp.ts';

const healthz = (netnsPath: string): { healthy: boolean; services: Record<string, { standby?: string }> } =>
  JSON.parse(nsexec(netnsPath, 'curl', ['-s', 'http://127.0.0.1:9180/healthz']));

test('without etcd or a network config the agent is a ready single node; a config written later makes it join', async (t) => {
  await withTempDir(async (dir) => {
    await withNetnses('single', 2, async ([node, peer]) => {
      if (!node || !peer) throw new Error('no namespaces');
      // The node's only route out: a veth to another namespace, its address the one peers would reach.
      const [a, b] = [uniqueIfname('sn'), uniqueIfname('sp')];
      execFileSync('ip', [
        'link',
        'add',
        a,
        'netns',
        node.name,
        'type',
        'veth',
        'peer',
        b,
        'netns',
        peer.name,
      ]);
      nsexec(node.path, 'ip', ['link', 'set', 'lo', 'up']);
      nsexec(node.path, 'ip', ['addr', 'add', '198.18.7.1/24', 'dev', a]);
      nsexec(node.path, 'ip', ['link', 'set', a, 'up']);
      nsexec(node.path, 'ip', ['route', 'add', 'default', 'via', '198.18.7.2']);

      const agent = startTestAgent(node.path, dir, { args: ['--http', '127.0.0.1:9180'] });
      try {
        const client = await agent.connect();
        try {
          t.regex((await client.version()).version, /^\d+\.\d+\.\d+/);
        } finally {
          client.close();
        }
        const standby = await pollUntil('readiness', () => {
          const h = healthz(node.path);
          return h.healthy ? h : undefined;
        });
        t.truthy(standby.services['subnet-lease']?.standby, 'ready as a single node, waiting for a cluster');
        t.false(existsSync(join(dir, 'run', 'subnet.env')), 'no pod subnet without a cluster network');

        execFileSync(
          agentCommand()[0] ?? '',
          [
            ...agentCommand().slice(1),
            'init-network',
            '--network',
            '10.99.0.0/16',
            '--data-dir',
            join(dir, 'data'),
          ],
          { cwd: REPO_ROOT, stdio: 'pipe' },
        );
        const env = await pollUntil('subnet.env after joining', () => {
          const file = join(dir, 'run', 'subnet.env');
          return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
        });
        t.regex(env, /TSNET_NETWORK=10\.99\.0\.0\/16/);
        const [vtep] = JSON.parse(nsexec(node.path, 'ip', ['-d', '-j', 'link', 'show', 'tsnet.1'])) as {
          linkinfo: { info_data: { local: string } };
        }[];
        t.is(vtep?.linkinfo.info_data.local, '198.18.7.1', "the VTEP's address is the default route's");
        t.true(healthz(node.path).healthy);
        t.is(healthz(node.path).services['subnet-lease']?.standby, undefined);
      } finally {
        await agent.stop();
        // The data plane stays on SIGTERM by design: the namespaces' removal takes the VTEP along.
      }
      t.is(agent.child.exitCode, 0, agent.log());
    });
  });
});
