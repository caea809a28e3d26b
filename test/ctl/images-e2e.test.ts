// tsnetctl's docker verbs end to end: the real tsnet-agent (in a registry's network namespace, its own data
// and run dirs) driven by tsnetctl over -H: pull, images, inspect, tag, save -o, rmi, load -i, history, push,
// with skopeo as the oracle for what reached the registry.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { startTestAgent } from '../helpers/agent.ts';
import { startRegistry, writeBusyboxLayout } from '../helpers/registry.ts';
import { withTempDir } from '../helpers/tmp.ts';
import { tsnetctl } from './cli.ts';

test('pull, images, inspect, tag, save, rmi, load, history and push through tsnetctl and the real agent', async (t) => {
  const registry = await startRegistry();
  try {
    await withTempDir(async (dir) => {
      const image = await writeBusyboxLayout(join(dir, 'layout'), 'v1', ['linux/amd64']);
      const name = `${registry.host}/e2e/busybox:v1`;
      await registry.skopeo('copy', '--dest-tls-verify=false', `oci:${image.layout}:v1`, `docker://${name}`);

      const agent = startTestAgent(registry.netnsPath, dir);
      const host = ['-H', `unix://${agent.socket}`];
      try {
        (await agent.connect()).close();

        const pulled = await tsnetctl(...host, 'pull', name);
        t.is(pulled.code, 0, pulled.stderr);
        t.regex(pulled.stdout, /Pull complete/);
        t.regex(pulled.stdout, new RegExp(`Status: Downloaded newer image for ${name}`));

        const listed = await tsnetctl(...host, 'images', '--format', '{{.Repository}}:{{.Tag}}');
        t.is(listed.stdout.trim(), `${registry.host}/e2e/busybox:v1`);
        const [inspected] = JSON.parse((await tsnetctl(...host, 'inspect', name)).stdout) as {
          Id: string;
          RootFS: { Layers: string[] };
        }[];
        t.is(inspected?.Id, image.manifests[0]?.config);
        t.is(inspected?.RootFS.Layers.length, 2);

        t.is((await tsnetctl(...host, 'tag', name, 'local/mine:1')).code, 0);
        const archive = join(dir, 'saved.tar');
        const saved = await tsnetctl(...host, 'save', '-o', archive, 'local/mine:1');
        t.is(saved.code, 0, saved.stderr);
        t.true(existsSync(archive) && statSync(archive).size > 0);
        // skopeo reads the archive as Docker's own.
        const fromArchive = JSON.parse(
          await registry.skopeo('inspect', '--raw', '--config', `docker-archive:${archive}`),
        ) as {
          rootfs: { diff_ids: string[] };
        };
        t.deepEqual(fromArchive.rootfs.diff_ids, inspected?.RootFS.Layers);

        const removed = await tsnetctl(...host, 'rmi', '-f', inspected?.Id ?? '');
        t.is(removed.code, 0, removed.stderr);
        t.is((await tsnetctl(...host, 'images', '-q')).stdout.trim(), '');
        const loaded = await tsnetctl(...host, 'load', '-i', archive);
        t.is(loaded.code, 0, loaded.stderr);
        t.regex(loaded.stdout, /Loaded image: (docker\.io\/)?local\/mine:1/);

        const history = await tsnetctl(...host, 'history', '-q', 'local/mine:1');
        t.is(history.code, 0, history.stderr);

        const target = `${registry.host}/e2e/pushed:v2`;
        t.is((await tsnetctl(...host, 'tag', 'local/mine:1', target)).code, 0);
        const pushed = await tsnetctl(...host, 'push', target);
        t.is(pushed.code, 0, pushed.stderr);
        const remote = JSON.parse(
          await registry.skopeo('inspect', '--tls-verify=false', `docker://${target}`),
        ) as {
          Layers: string[];
        };
        t.is(remote.Layers.length, 2);

        const missing = await tsnetctl(...host, 'inspect', 'nothing/here:1');
        t.is(missing.code, 1);
        t.regex(missing.stderr, /^Error: No such object: nothing\/here:1$/m, 'as docker inspect says it');
      } finally {
        await agent.stop();
      }
    });
  } finally {
    await registry.stop();
  }
});
