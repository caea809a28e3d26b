import { execFile } from 'node:child_process';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { AgentClient, HostError, socketPathOf } from '../../pkg/api/client.ts';
import { api } from '../../pkg/api/proto.ts';
import { type ApiServer, startApiServer } from '../../pkg/api/server.ts';
import { systemHandlers } from '../../pkg/api/system.ts';
import { EventBus } from '../../pkg/events/bus.ts';
import { withTempDir } from '../helpers/tmp.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');

const info = async () => ({ name: 'test-node', images: 3 }) as never;

async function withServer(
  dir: string,
  fn: (server: ApiServer, events: EventBus) => Promise<void>,
  groupFile = join(dir, 'group'),
): Promise<void> {
  const events = new EventBus();
  const server = await startApiServer({
    path: join(dir, 'api.sock'),
    services: [[api().System.service, systemHandlers({ version: '9.9.9', events, info })]],
    groupFile,
  });
  try {
    await fn(server, events);
  } finally {
    await server.close();
  }
}

/** Calls Version from a child process running as `uid`/`gid`; resolves with its stdout or the error line. */
async function versionAs(socket: string, ids: string[]): Promise<string> {
  const script = `import { AgentClient } from '${ROOT}/pkg/api/client.ts';
const c = new AgentClient(${JSON.stringify(socket)});
c.version().then((v) => { console.log('version ' + v.version); process.exit(0); },
  (e) => { console.log('error ' + e.message); process.exit(0); });`;
  const { stdout } = await run(
    'setpriv',
    [...ids, 'node', '--import=tsx', '--input-type=module', '-e', script],
    { cwd: ROOT, env: { ...process.env, HOME: '/tmp' } },
  );
  return stdout.trim();
}

test('Version, Info and Events over the socket', async (t) => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'group'), 'root:x:0:\n');
    await withServer(dir, async (server, events) => {
      const c = new AgentClient(server.path);
      try {
        const v = await c.version();
        t.is(v.version, '9.9.9');
        t.is(v.apiVersion, '1.0');
        t.is((await c.info()).name, 'test-node');

        events.publish('image', 'pull', 'busybox:latest');
        const received: string[] = [];
        const stream = c.events({ filters: ['type=image'], sinceUnixNano: 1 });
        await new Promise<void>((resolve, reject) => {
          stream.on('data', (e: { type: string; action: string; id: string }) => {
            received.push(`${e.type} ${e.action} ${e.id}`);
            if (received.length === 1) {
              events.publish('container', 'start', 'c1'); // filtered out
              events.publish('image', 'tag', 'busybox:mine');
            }
            if (received.length === 2) resolve();
          });
          stream.on('error', (err: { code?: number }) => (err.code === 1 ? undefined : reject(err)));
        });
        stream.cancel();
        t.deepEqual(received, ['image pull busybox:latest', 'image tag busybox:mine']);

        const bad = c.events({ filters: ['nonsense'] });
        const err = await new Promise<{ details?: string }>((resolve) => bad.on('error', resolve));
        t.regex(err.details ?? '', /invalid filter "nonsense"/);
      } finally {
        c.close();
      }
    });
  });
});

test('socket mode: 0600 without a tsnet group, 0660 group tsnet with one', async (t) => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'group'), 'root:x:0:\nusers:x:100:\n');
    await withServer(dir, async (server) => {
      const st = statSync(server.path);
      t.is(st.mode & 0o777, 0o600);
      t.is(st.gid, 0);
    });
    writeFileSync(join(dir, 'group'), 'root:x:0:\ntsnet:x:4242:\n');
    await withServer(dir, async (server) => {
      const st = statSync(server.path);
      t.is(st.mode & 0o777, 0o660);
      t.is(st.gid, 4242);
    });
  });
});

test('peers: root and tsnet members are served; any other uid is refused by the kernel-reported credentials', async (t) => {
  await withTempDir(async (dir) => {
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'group'), 'root:x:0:\ntsnet:x:4242:\n');
    await withServer(dir, async (server) => {
      // Open to everyone at the file level, so only the credential check stands in the way.
      chmodSync(server.path, 0o666);
      t.is(await versionAs(server.path, ['--reuid=0', '--regid=0', '--clear-groups']), 'version 9.9.9');
      t.is(
        await versionAs(server.path, ['--reuid=65534', '--regid=4242', '--clear-groups']),
        'version 9.9.9',
        'primary group tsnet',
      );
      t.is(
        await versionAs(server.path, ['--reuid=65534', '--regid=65534', '--groups=4242']),
        'version 9.9.9',
        'supplementary group tsnet',
      );
      t.regex(
        await versionAs(server.path, ['--reuid=65534', '--regid=65534', '--clear-groups']),
        /^error cannot connect to the tsnet agent at unix:\/\//,
      );
    });
  });
});

test('host URLs: unix:///path, TSNET_HOST, the default; anything else is refused', (t) => {
  t.is(socketPathOf('unix:///x/y.sock'), '/x/y.sock');
  t.is(socketPathOf(undefined, { TSNET_HOST: 'unix:///from/env' }), '/from/env');
  t.is(socketPathOf(undefined, {}), '/run/tsnet/tsnet.sock');
  for (const bad of ['tcp://1.2.3.4:2375', 'unix://relative', '/just/a/path', ''])
    t.throws(() => socketPathOf(bad), { instanceOf: HostError });
});

test('an agent that is not there: one line naming the socket', async (t) => {
  await withTempDir(async (dir) => {
    const c = new AgentClient(join(dir, 'nobody.sock'));
    try {
      const err = await t.throwsAsync(c.version());
      t.regex(
        err?.message ?? '',
        new RegExp(`^cannot connect to the tsnet agent at unix://${dir}/nobody.sock`),
      );
      t.false(err?.message.includes('\n'));
    } finally {
      c.close();
    }
  });
});
