// tsnetctl compose end to end against a real tsnet-agent in a test namespace, with the busybox test image:
// a three-service application (web = busybox httpd with a published port, api and db stand-ins, a named
// volume, depends_on) comes up, serves through the port, `up -d` again keeps every container, a changed
// environment recreates only that service, `ps` lists them, `down -v` leaves nothing of the project.
// depends_on uses service_started here; the health-gated conditions are test/compose/health.test.ts's.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { AgentClient } from '../../pkg/api/client.ts';
import { pollUntil } from '../../pkg/cluster/exec.ts';
import { tsnetctl } from '../ctl/cli.ts';
import { startTestAgent } from '../helpers/agent.ts';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { nsexec, withNetnses } from '../helpers/netns.ts';
import { writeBusyboxLayout } from '../helpers/registry.ts';
import { withTempDir } from '../helpers/tmp.ts';

const skip = whyContainersCannotRun({ conmon: true });
if (skip) test.skip(`compose end to end (${skip})`, () => undefined);
const e2e = skip ? test.skip : test.serial;

const IMAGE = 'tsnet-test/busybox:latest';
const PORT = 18080;

const composeFile = (apiMode: string) => `
services:
  db:
    image: ${IMAGE}
    command: ["/bin/busybox", "sh", "-c", "echo db ready > /data/state; exec /bin/busybox sleep 1000"]
    volumes: ["dbdata:/data"]
  api:
    image: ${IMAGE}
    command: ["/bin/busybox", "sleep", "1000"]
    environment:
      MODE: ${apiMode}
    depends_on:
      db:
        condition: service_started
  web:
    image: ${IMAGE}
    command: ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir -p /www && echo hello from web > /www/index.html && exec /bin/busybox httpd -f -v -p 80 -h /www"]
    ports: ["${PORT}:80"]
    depends_on: [api]
volumes:
  dbdata: {}
`;

async function loadImage(client: AgentClient, dir: string): Promise<void> {
  const image = await writeBusyboxLayout(join(dir, 'layout'), 'v1', ['linux/amd64']);
  const archive = join(dir, 'busybox.tar');
  execFileSync('skopeo', ['copy', '--quiet', `oci:${image.layout}:v1`, `docker-archive:${archive}:${IMAGE}`]);
  const load = client.load();
  const done = new Promise<void>((resolve, reject) => {
    load.on('data', () => undefined);
    load.on('end', resolve);
    load.on('error', reject);
  });
  load.write({ data: readFileSync(archive) });
  load.end();
  await done;
}

e2e('compose up/ps/up again/recreate one/down -v on a real agent', async (t) => {
  t.timeout(300_000);
  await withNetnses('cmp', 1, ([ns]) =>
    withTempDir(async (dir) => {
      nsexec(ns!.path, 'ip', ['link', 'set', 'lo', 'up']); // curl's 127.0.0.1 of the agent's namespace
      const agent = startTestAgent(ns!.path, dir);
      const client = await agent.connect();
      const file = join(dir, 'compose.yaml');
      const compose = (...args: string[]) =>
        tsnetctl('-H', `unix://${agent.socket}`, 'compose', '-f', file, '-p', 'shop', ...args);
      const projectIds = async () =>
        Object.fromEntries(
          (
            await client.containers({ all: true, filters: ['label=com.docker.compose.project=shop'] })
          ).containers.map((c) => [c.names[0]?.replace(/^\//, ''), c.id]),
        );
      try {
        await loadImage(client, dir);
        writeFileSync(file, composeFile('one'));

        const up = await compose('up', '-d');
        t.is(up.code, 0, up.stderr);
        t.regex(up.stderr, /^ Network shop_default {2}Created$/m);
        t.regex(up.stderr, /^ Volume "shop_dbdata" {2}Created$/m);
        for (const s of ['db', 'api', 'web'])
          t.regex(up.stderr, new RegExp(`^ Container shop-${s}-1  Started$`, 'm'));
        // dependency order: db before api before web
        const started = [...up.stderr.matchAll(/Container (shop-\w+-1) {2}Started/g)].map((m) => m[1]);
        t.deepEqual(started, ['shop-db-1', 'shop-api-1', 'shop-web-1']);
        const first = await projectIds();
        t.deepEqual(Object.keys(first).sort(), ['shop-api-1', 'shop-db-1', 'shop-web-1']);

        const served = await pollUntil(
          'web through the published port',
          () => {
            try {
              return nsexec(ns!.path, 'curl', ['-s', '--max-time', '2', `http://127.0.0.1:${PORT}/`]);
            } catch {
              return undefined;
            }
          },
          { timeoutMs: 30_000 },
        );
        t.is(served, 'hello from web\n');
        const db = await client.inspectContainer('shop-db-1');
        const mounts = db.Mounts as { Type: string; Name?: string; Destination: string }[];
        t.like(
          mounts.find((m) => m.Destination === '/data'),
          { Type: 'volume', Name: 'shop_dbdata' },
        );

        const ps = await compose('ps');
        t.is(ps.code, 0, ps.stderr);
        t.regex(ps.stdout, /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+STATUS\s+PORTS$/m);
        t.regex(ps.stdout, new RegExp(`^shop-web-1\\s+.*\\sweb\\s+Up.*${PORT}->80/tcp$`, 'm'));
        for (const s of ['db', 'api']) t.regex(ps.stdout, new RegExp(`^shop-${s}-1\\s.*\\s${s}\\s+Up`, 'm'));

        const again = await compose('up', '-d');
        t.is(again.code, 0, again.stderr);
        t.notRegex(again.stderr, /Created|Recreate/);
        t.deepEqual(await projectIds(), first, 'up again keeps every container');

        writeFileSync(file, composeFile('two'));
        const changed = await compose('up', '-d');
        t.is(changed.code, 0, changed.stderr);
        t.regex(changed.stderr, /^ Container shop-api-1 {2}Recreated$/m);
        const second = await projectIds();
        t.not(second['shop-api-1'], first['shop-api-1'], 'api recreated');
        t.is(second['shop-db-1'], first['shop-db-1'], 'db kept');
        t.is(second['shop-web-1'], first['shop-web-1'], 'web kept');
        const api = await client.inspectContainer('shop-api-1');
        t.true(((api.Config as { Env: string[] }).Env ?? []).includes('MODE=two'));

        const down = await compose('down', '-v');
        t.is(down.code, 0, down.stderr);
        t.deepEqual(await projectIds(), {});
        t.false((await client.networks()).networks.some((n) => n.name.startsWith('shop_')));
        t.false((await client.volumes()).volumes.some((v) => v.name.startsWith('shop_')));
      } catch (err) {
        t.log(agent.log().slice(-3000));
        t.log((await compose('logs')).stdout, (await compose('ps', '-a')).stdout);
        throw err;
      } finally {
        const { containers } = await client.containers({ all: true }).catch(() => ({ containers: [] }));
        for (const c of containers)
          await client.removeContainer({ container: c.id, force: true }).catch(() => undefined);
        client.close();
        await agent.stop();
      }
    }, 'tsnc-'),
  );
});

e2e('compose: a missing file and an unreachable agent are one-line errors', async (t) => {
  const missing = await tsnetctl('compose', '-f', '/nonexistent/compose.yaml', 'up', '-d');
  t.is(missing.code, 1);
  t.is(missing.stderr.trimEnd().split('\n').length, 1, missing.stderr);
  t.regex(missing.stderr, /no such file/);
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'compose.yaml'), composeFile('one'));
    const build = await tsnetctl(
      '-H',
      `unix://${dir}/none.sock`,
      'compose',
      '-f',
      join(dir, 'compose.yaml'),
      'up',
      '--build',
    );
    t.not(build.code, 0);
    t.is(build.stderr.trimEnd().split('\n').length, 1, build.stderr);
    t.regex(build.stderr, /cannot connect to the tsnet agent/);
  });
});
