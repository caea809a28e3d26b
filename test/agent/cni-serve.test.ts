// CNI over the agent's unix socket (pkg/cni/{server,client,socket-protocol}.ts): concurrent requests, errors passed through as the
// spec's JSON and exit code, "try again later" when the connection breaks after the request was sent, and
// the built plugins forwarding (the native forwarder, no Node start) or falling back to running in-process
// (the forwarder's own cases: test/agent/cni-forward.test.ts).
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { forwardToAgent } from '../../pkg/cni/client.ts';
import { CniError, ErrorCode } from '../../pkg/cni/errors.ts';
import { startCniServer } from '../../pkg/cni/server.ts';
import { type CniPlugin, type PluginOutput, servePlugin, versionInfo } from '../../pkg/cni/skel.ts';
import {
  BUILD_ID,
  cniSocketPath,
  currentMntnsInode,
  currentNetnsInode,
  DEFAULT_CNI_SOCKET,
  MAX_REQUEST_BYTES,
  PROTOCOL_VERSION,
} from '../../pkg/cni/socket-protocol.ts';
import type { Logger } from '../../pkg/log/index.ts';
import { createNamedNetns, deleteNamedNetns } from '../../pkg/netns/index.ts';
import { runForgingClient } from '../helpers/cni-socket.ts';
import { uniqueName } from '../helpers/netns.ts';
import { builtBuildId, builtPlugin, REPO_ROOT, runPlugin } from '../helpers/plugin.ts';
import { withTempDir } from '../helpers/tmp.ts';

const CONF = JSON.stringify({ cniVersion: '1.0.0', name: 'servenet', type: 'fake' });

function envFor(command: string, containerId: string): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    CNI_NETNS: '/proc/self/ns/net',
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/nonexistent',
  };
}

/** A plugin whose ADD answers with an address derived from the container ID, after `gate` lets it. */
function fakePlugin(name: string, hooks: { onAdd?: (id: string) => Promise<void> } = {}): CniPlugin {
  return {
    name,
    about: `${name}: a test plugin`,
    async add(args) {
      await hooks.onAdd?.(args.containerId);
      const n = Number(args.containerId.replace(/\D/g, '')) || 0;
      return { cniVersion: '1.1.0', ips: [{ address: `10.77.0.${n + 2}/24` }] };
    },
    async del() {},
    async check() {
      throw new CniError(ErrorCode.UnknownContainer, 'no such attachment', 'fake check says so');
    },
  };
}

test('cniSocketPath: TSNET_CNI_SOCKET only when absolute', (t) => {
  t.is(cniSocketPath({}), DEFAULT_CNI_SOCKET);
  t.is(cniSocketPath({ TSNET_CNI_SOCKET: '/tmp/x.sock' }), '/tmp/x.sock');
  t.is(cniSocketPath({ TSNET_CNI_SOCKET: 'x.sock' }), DEFAULT_CNI_SOCKET);
  t.is(cniSocketPath({ TSNET_CNI_SOCKET: '' }), DEFAULT_CNI_SOCKET);
});

test('concurrent requests are served concurrently, each with its own answer; socket 0600, gone after close', async (t) => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'cni.sock');
    const N = 8;
    let arrived = 0;
    let releaseAll: () => void = () => undefined;
    const allArrived = new Promise<void>((resolve) => {
      releaseAll = resolve;
    });
    const served: string[] = [];
    const server = await startCniServer(path, {
      plugins: new Map([
        [
          'fake',
          fakePlugin('fake', {
            // Every ADD waits until all N are inside the plugin: only a concurrent server gets past this.
            onAdd: async () => {
              if (++arrived === N) releaseAll();
              await allArrived;
            },
          }),
        ],
      ]),
      onServed: (plugin, command) => served.push(`${plugin} ${command}`),
    });
    try {
      t.is(statSync(path).mode & 0o777, 0o600);
      await t.throwsAsync(startCniServer(path, { plugins: new Map() }), {
        message: /served by another process/,
      });
      const outs = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          forwardToAgent(path, { plugin: 'fake', env: envFor('ADD', `c${i}`), stdin: CONF }),
        ),
      );
      outs.forEach((out, i) => {
        t.is(out?.exitCode, 0);
        const result = JSON.parse(out?.stdout ?? '{}') as { cniVersion: string; ips: { address: string }[] };
        t.is(result.cniVersion, '1.0.0', 'converted to the config version, as servePlugin does');
        t.is(result.ips[0]?.address, `10.77.0.${i + 2}/24`);
      });
      t.deepEqual(served, Array(N).fill('fake ADD'));
    } finally {
      await server.close();
    }
    t.false(existsSync(path), 'the socket is removed on close');
  });
});

test('a plugin error comes back exactly as servePlugin prints it (spec JSON, exit code); a type the agent does not serve is not forwarded', async (t) => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'cni.sock');
    const plugin = fakePlugin('fake');
    const server = await startCniServer(path, { plugins: new Map([['fake', plugin]]) });
    try {
      const env = envFor('CHECK', 'c1');
      const forwarded = await forwardToAgent(path, { plugin: 'fake', env, stdin: CONF });
      const direct = await servePlugin(plugin, { env, stdin: CONF });
      t.deepEqual(forwarded, direct);
      t.is(forwarded?.exitCode, 1);
      t.like(JSON.parse(forwarded?.stdout ?? '{}'), {
        cniVersion: '1.0.0',
        code: ErrorCode.UnknownContainer,
        msg: 'no such attachment',
      });

      const garbage = await forwardToAgent(path, { plugin: 'fake', env: envFor('ADD', 'c1'), stdin: '{' });
      t.deepEqual(garbage, await servePlugin(plugin, { env: envFor('ADD', 'c1'), stdin: '{' }));
      t.is(JSON.parse(garbage?.stdout ?? '{}').code, ErrorCode.DecodingFailure);

      // A type the agent does not serve (its hello lists what it serves) is not forwarded: run in-process.
      t.is(await forwardToAgent(path, { plugin: 'other', env, stdin: CONF }), undefined);
    } finally {
      await server.close();
    }
  });
});

/** A raw server speaking the hello, then doing `onRequest` with the socket; counts requests received. */
async function rawServer(
  path: string,
  netns: number,
  onRequest: (socket: Socket) => void,
  mntns = currentMntnsInode(),
  pidns?: number,
): Promise<{ requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    const hello = { tsnetCni: PROTOCOL_VERSION, netns, mntns, pidns, buildId: BUILD_ID, plugins: ['fake'] };
    socket.write(`${JSON.stringify(hello)}\n`);
    socket.on('data', (d: Buffer) => {
      if (d.includes(0x0a)) {
        requests++;
        onRequest(socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('a connection broken after the request was sent answers code 11, and the request is sent once', async (t) => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'cni.sock');
    const server = await rawServer(path, currentNetnsInode(), (socket) => socket.destroy());
    try {
      const out = await forwardToAgent(path, { plugin: 'fake', env: envFor('ADD', 'c1'), stdin: CONF });
      t.is(out?.exitCode, 1);
      const err = JSON.parse(out?.stdout ?? '{}') as { code: number; msg: string; cniVersion: string };
      t.is(err.code, ErrorCode.TryAgainLater);
      t.is(err.cniVersion, '1.0.0');
      t.regex(err.msg, /did not answer the ADD request/);
      t.is(server.requests(), 1);
    } finally {
      await server.close();
    }
  });
});

test('a DEL for an attachment waits for its ADD still running after the plugin was killed (no overtaking)', async (t) => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'cni.sock');
    const events: string[] = [];
    let releaseAdd: () => void = () => undefined;
    const addGate = new Promise<void>((resolve) => {
      releaseAdd = resolve;
    });
    const server = await startCniServer(path, {
      plugins: new Map([
        [
          'fake',
          {
            ...fakePlugin('fake'),
            async add() {
              events.push('add start');
              await addGate;
              events.push('add done');
              return { cniVersion: '1.1.0', ips: [{ address: '10.77.0.9/24' }] };
            },
            async del() {
              events.push('del');
            },
          },
        ],
      ]),
    });
    try {
      // The runtime's plugin process dies mid-ADD: its connection goes, the agent's ADD goes on.
      const add = forwardToAgent(path, { plugin: 'fake', env: envFor('ADD', 'c9'), stdin: CONF });
      while (!events.includes('add start')) await new Promise((r) => setTimeout(r, 5));
      const del = forwardToAgent(path, { plugin: 'fake', env: envFor('DEL', 'c9'), stdin: CONF });
      await new Promise((r) => setTimeout(r, 50));
      t.deepEqual(events, ['add start'], 'DEL has not overtaken the ADD');
      releaseAdd();
      t.is((await del)?.exitCode, 0);
      t.deepEqual(events, ['add start', 'add done', 'del']);
      await add;
    } finally {
      releaseAdd(); // never leave the server waiting on the gate, also when an assertion failed
      await server.close();
    }
  });
});

test('the server never deletes a file that is not a socket, and close() does not wait for a half-sent request', async (t) => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'not-a-socket');
    writeFileSync(file, 'precious');
    await t.throwsAsync(startCniServer(file, { plugins: new Map() }), { message: /not a socket/ });
    t.is(readFileSync(file, 'utf8'), 'precious');

    const path = join(dir, 'cni.sock');
    const server = await startCniServer(path, { plugins: new Map([['fake', fakePlugin('fake')]]) });
    const half = createConnection(path);
    half.on('error', () => undefined);
    await new Promise<void>((resolve) => half.once('data', () => resolve())); // the hello
    half.write('{"plugin":"fake","netns"'); // and never the rest of the line
    await server.close(); // must return
    t.false(existsSync(path));
    half.destroy();
  });
});

test('no socket, a dead socket file, or an agent in another netns, or in another mount and PID namespace: undefined (run in-process), nothing sent', async (t) => {
  await withTempDir(async (dir) => {
    const req = { plugin: 'fake', env: envFor('ADD', 'c1'), stdin: CONF };
    t.is(await forwardToAgent(join(dir, 'absent.sock'), req), undefined);
    const stale = join(dir, 'stale.sock');
    writeFileSync(stale, '');
    t.is(await forwardToAgent(stale, req), undefined);
    const path = join(dir, 'cni.sock');
    for (const [netns, mntns] of [
      [currentNetnsInode() + 1, currentMntnsInode()],
      [currentNetnsInode(), currentMntnsInode() + 1], // an agent container that cannot see the host's paths
    ] as const) {
      // No pidns in the hello, as from an agent in another PID namespace (or an older agent).
      const server = await rawServer(path, netns, (socket) => socket.end('{}\n'), mntns);
      try {
        t.is(await forwardToAgent(path, req), undefined);
        t.is(server.requests(), 0);
      } finally {
        await server.close();
      }
    }
  });
});

test('an agent in another mount namespace but this PID namespace gets the request; its hand-back runs it in-process', async (t) => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'cni.sock');
    const req = { plugin: 'fake', env: envFor('ADD', 'c1'), stdin: CONF };
    const server = await rawServer(
      path,
      currentNetnsInode(),
      (socket) =>
        socket.end('{"fallback":"/var/lib/cni is another file for tsnet-agent than for the plugin"}\n'),
      currentMntnsInode() + 1,
      statSync('/proc/self/ns/pid').ino,
    );
    try {
      t.is(await forwardToAgent(path, req), undefined, 'handed back: the caller runs the plugin');
      t.is(server.requests(), 1, 'the request was sent once');
    } finally {
      await server.close();
    }
  });
});

/** Runs `argv` with `env` (plus PATH) and `stdin`; `onSpawn` gets the pid; resolves what it printed. */
function runProcess(
  argv: string[],
  env: Record<string, string>,
  stdin: string,
  onSpawn: (pid: number) => void = () => undefined,
): Promise<PluginOutput> {
  return new Promise((resolve, reject) => {
    const [cmd = '', ...args] = argv;
    const child = spawn(cmd, args, {
      cwd: REPO_ROOT,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    });
    onSpawn(child.pid ?? 0);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        exitCode: code ?? -1,
      }),
    );
    child.stdin.end(stdin);
  });
}

/** Runs a built plugin directly (so the pid is the Node process itself). */
const runBuilt = (
  type: string,
  env: Record<string, string>,
  stdin: string,
  onSpawn?: (pid: number) => void,
) => runProcess([builtPlugin(type)], env, stdin, onSpawn);

test('built plugins forward ADD and VERSION from the native forwarder: no Node process starts', async (t) => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'cni.sock');
    let pid = 0;
    let exeAtRequest: string | undefined;
    const served: string[] = [];
    const plugins = new Map(
      ['tsnet-bridge', 'tsnet-vxlan', 'tsnet-ipam'].map((type) => [
        type,
        fakePlugin(type, {
          onAdd: async () => {
            // The plugin process is waiting for this answer: its executable is what the runtime started.
            exeAtRequest = readlinkSync(`/proc/${pid}/exe`);
          },
        }),
      ]),
    );
    const server = await startCniServer(path, {
      plugins,
      buildId: builtBuildId(),
      onServed: (plugin, command) => served.push(`${plugin} ${command}`),
    });
    try {
      for (const type of plugins.keys()) {
        exeAtRequest = '';
        const out = await runBuilt(type, { ...envFor('ADD', 'c5'), TSNET_CNI_SOCKET: path }, CONF, (p) => {
          pid = p;
        });
        t.is(out.exitCode, 0, out.stdout + out.stderr);
        t.is((JSON.parse(out.stdout) as { ips: { address: string }[] }).ips[0]?.address, '10.77.0.7/24');
        t.is(exeAtRequest, builtPlugin(type), `${type}: the forwarder itself asked, no Node started`);
      }
      const version = await runBuilt('tsnet-vxlan', { CNI_COMMAND: 'VERSION', TSNET_CNI_SOCKET: path }, '');
      t.is(version.exitCode, 0);
      t.deepEqual(JSON.parse(version.stdout), versionInfo(fakePlugin('tsnet-vxlan')));
      t.deepEqual(served, ['tsnet-bridge ADD', 'tsnet-vxlan ADD', 'tsnet-ipam ADD', 'tsnet-vxlan VERSION']);
    } finally {
      await server.close();
    }
  });
});

test('a plugin in another netns than the agent runs in-process (the real tsnet-ipam allocates), nothing is forwarded', async (t) => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'cni.sock');
    const served: string[] = [];
    const server = await startCniServer(path, {
      plugins: new Map([['tsnet-ipam', fakePlugin('tsnet-ipam')]]),
      buildId: builtBuildId(), // only the namespace stands in the way
      onServed: (plugin, command) => served.push(`${plugin} ${command}`),
    });
    const nsName = uniqueName('cniserve');
    const nodeNetns = createNamedNetns(nsName);
    const dataDir = join(dir, 'ipam');
    try {
      const config = {
        cniVersion: '1.0.0',
        name: 'servenet',
        type: 'tsnet-ipam',
        ipam: { type: 'tsnet-ipam', subnet: '10.78.0.0/24', dataDir },
      };
      const call = { containerId: 'c1', netns: nodeNetns, ifname: 'eth0', config, nodeNetns };
      const add = await runPlugin('tsnet-ipam', { ...call, command: 'ADD', env: { TSNET_CNI_SOCKET: path } });
      t.is(add.code, 0, add.stdout + add.stderr);
      t.is((add.json?.['ips'] as { address: string }[] | undefined)?.[0]?.address, '10.78.0.2/24');
      t.true(readdirSync(join(dataDir, 'servenet')).includes('10.78.0.2'), 'allocated on disk in-process');
      const del = await runPlugin('tsnet-ipam', { ...call, command: 'DEL', env: { TSNET_CNI_SOCKET: path } });
      t.is(del.code, 0, del.stdout + del.stderr);
      t.false(readdirSync(join(dataDir, 'servenet')).includes('10.78.0.2'));
      t.deepEqual(served, []);
    } finally {
      deleteNamedNetns(nsName);
      await server.close();
    }
  });
});

/** Runs cni-plugins/<type>/main.ts from source with a module-load hook; resolves the repo files it loaded. */
async function sourceModulesLoaded(
  dir: string,
  type: string,
  env: Record<string, string>,
  stdin: string,
): Promise<{ out: PluginOutput; loaded: string[] }> {
  const hooks = join(dir, 'hooks.mjs');
  const log = join(dir, `loaded-${type}-${env['CNI_COMMAND']}.txt`);
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(${JSON.stringify(log)}, url + '\\n');\n  return next(url, context);\n}\n`,
  );
  writeFileSync(log, '');
  const register = `data:text/javascript,import{register}from'node:module';register(${JSON.stringify(`file://${hooks}`)});`;
  const out = await runProcess(
    [
      process.execPath,
      '--import',
      'tsx',
      '--import',
      register,
      join(REPO_ROOT, 'cni-plugins', type, 'main.ts'),
    ],
    env,
    stdin,
  );
  const root = `file://${REPO_ROOT}/`;
  const loaded = readFileSync(log, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith(root) && !url.includes('/node_modules/'))
    .map((url) => url.slice(root.length).split('?')[0] ?? '');
  return { out, loaded: [...new Set(loaded)] };
}

test('the forwarding path loads neither the plugin, the netlink code nor native/ (module-load hook as oracle)', async (t) => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'cni.sock');
    const server = await startCniServer(path, {
      plugins: new Map([['tsnet-vxlan', fakePlugin('tsnet-vxlan')]]),
    });
    try {
      const forwarded = await sourceModulesLoaded(
        dir,
        'tsnet-vxlan',
        { ...envFor('ADD', 'c1'), TSNET_CNI_SOCKET: path },
        CONF,
      );
      t.is(forwarded.out.exitCode, 0, forwarded.out.stdout + forwarded.out.stderr);
      t.true(forwarded.loaded.includes('pkg/cni/client.ts'), 'the oracle sees repository modules');
      const heavy = (files: string[]) =>
        files.filter((f) => /^(native\/|pkg\/netlink\/|pkg\/vxlan\/|pkg\/bridge\/|pkg\/ipam\/)/.test(f));
      t.deepEqual(heavy(forwarded.loaded), []);
      // Control: the in-process path (VERSION) does load the plugin and the netlink code.
      const local = await sourceModulesLoaded(dir, 'tsnet-vxlan', { CNI_COMMAND: 'VERSION' }, '');
      t.is(local.out.exitCode, 0);
      t.true(local.loaded.includes('pkg/vxlan/plugin.ts'));
      t.true(heavy(local.loaded).some((f) => f.startsWith('pkg/netlink/')));
    } finally {
      await server.close();
    }
  });
});

// --- the socket as an authority boundary -------------------------------------------------------------------

/** A plugin that records every verb it is asked to run: the oracle that a refused request did nothing. */
function recordingPlugin(name: string, calls: string[]): CniPlugin {
  const plugin = fakePlugin(name);
  return {
    ...plugin,
    async add(args) {
      calls.push(`add ${args.containerId}`);
      return plugin.add(args);
    },
    async del(args) {
      calls.push(`del ${args.containerId}`);
    },
  };
}

/** A server for `type` whose plugin records the verbs it runs; removed afterwards whatever happens. */
async function withRecordingServer(
  type: string,
  fn: (w: { dir: string; path: string; calls: string[]; served: string[] }) => Promise<void>,
  buildId?: string,
): Promise<void> {
  await withTempDir(async (dir) => {
    const path = join(dir, 'cni.sock');
    const calls: string[] = [];
    const served: string[] = [];
    const server = await startCniServer(path, {
      plugins: new Map([[type, recordingPlugin(type, calls)]]),
      buildId,
      onServed: (plugin, command, out) => served.push(`${plugin} ${command} ${out.exitCode}`),
    });
    try {
      await fn({ dir, path, calls, served });
    } finally {
      await server.close();
    }
  });
}

function errorJsonOf(out: PluginOutput): { code: number; msg: string; details?: string; cniVersion: string } {
  return JSON.parse(out.stdout);
}

test('a peer in another network namespace that forges the agent inode is refused (code 5); the plugin never runs', async (t) => {
  await withRecordingServer('fake', async ({ path, calls, served }) => {
    const nsName = uniqueName('cniforge');
    const third = createNamedNetns(nsName);
    try {
      const request = { plugin: 'fake', env: envFor('ADD', 'c1'), stdin: CONF };
      const out = await runForgingClient(['nsenter', `--net=${third}`], path, request);
      t.is(out.exitCode, 1);
      const err = errorJsonOf(out);
      t.is(err.code, ErrorCode.IoFailure);
      t.is(err.cniVersion, '1.0.0', 'in the config version');
      t.regex(err.msg, /refused/);
      t.regex(err.details ?? '', /another network namespace/);
      t.deepEqual(calls, [], 'the plugin ran no verb for the refused peer');
      t.deepEqual(served, ['fake ADD 1'], 'counted as an error');

      // Control: the same hand-written client in the agent's namespaces is served.
      const ok = await runForgingClient([], path, request);
      t.is(ok.exitCode, 0, ok.stdout);
      t.deepEqual(calls, ['add c1']);
    } finally {
      deleteNamedNetns(nsName);
    }
  });
});

test('a peer in another mount namespace is served when the request names the same files for both, handed back when not; another PID namespace or a non-root peer is refused', async (t) => {
  await withRecordingServer('fake', async ({ dir, path, calls }) => {
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'servenet', type: 'fake', dataDir });
    const request = { plugin: 'fake', env: envFor('DEL', 'c1'), stdin: conf };
    const privateMounts = ['unshare', '--mount', '--propagation', 'private'];
    // A copy of the mount tree: every path is the same object, so the agent serves it.
    const sameFiles = await runForgingClient(privateMounts, path, request);
    t.is(sameFiles.exitCode, 0, sameFiles.stdout);
    t.deepEqual(calls, ['del c1']);

    // The data dir the config names is another directory for this peer: nothing runs, the request comes back.
    const otherDir = await runForgingClient(
      [...privateMounts, 'sh', '-c', `mount -t tmpfs none ${dataDir} && exec "$@"`, 'sh'],
      path,
      request,
    );
    t.regex(
      String((otherDir as unknown as { fallback?: string }).fallback),
      new RegExp(`^${dataDir} is another file`),
    );
    t.deepEqual(calls, ['del c1'], 'the agent did nothing for it');

    const otherPidns = await runForgingClient(
      ['unshare', '--pid', '--fork', ...privateMounts.slice(1)],
      path,
      request,
    );
    t.is(otherPidns.exitCode, 1);
    t.is(errorJsonOf(otherPidns).code, ErrorCode.IoFailure);
    t.regex(errorJsonOf(otherPidns).details ?? '', /another mount namespace and another PID namespace/);

    // A misconfigured socket anyone may connect to: the kernel's credentials still decide.
    chmodSync(dir, 0o755);
    chmodSync(path, 0o666);
    const nobody = await runForgingClient([], path, request, { uid: 65534, gid: 65534 });
    t.is(nobody.exitCode, 1);
    t.is(errorJsonOf(nobody).code, ErrorCode.IoFailure);
    t.regex(errorJsonOf(nobody).details ?? '', /uid 65534, not root/);
    t.deepEqual(calls, ['del c1']);
  });
});

test('a request over the size limit gets a spec error (code 5, the limit named), not "try again later"; the server goes on', async (t) => {
  await withRecordingServer('fake', async ({ path, calls }) => {
    const pad = 'x'.repeat(MAX_REQUEST_BYTES + 1);
    const huge = JSON.stringify({ cniVersion: '1.0.0', name: 'servenet', type: 'fake', pad });
    const out = await forwardToAgent(path, { plugin: 'fake', env: envFor('ADD', 'c3'), stdin: huge });
    t.is(out?.exitCode, 1);
    const err = errorJsonOf(out ?? { stdout: '{}', stderr: '', exitCode: -1 });
    t.is(err.code, ErrorCode.IoFailure);
    t.regex(err.msg, new RegExp(`larger than the tsnet-agent limit of ${MAX_REQUEST_BYTES} bytes`));
    t.deepEqual(calls, []);
    const next = await forwardToAgent(path, { plugin: 'fake', env: envFor('ADD', 'c4'), stdin: CONF });
    t.is(next?.exitCode, 0);
    t.deepEqual(calls, ['add c4']);
  });
});

test('a relative CNI_PATH entry is refused with code 4 alike in-process and forwarded (built plugins)', async (t) => {
  await withRecordingServer(
    'tsnet-ipam',
    async ({ dir, path, calls, served }) => {
      const env = { ...envFor('ADD', 'c1'), CNI_PATH: '/opt/cni/bin:bin' };
      const absent = join(dir, 'absent.sock');
      const inProcess = await runBuilt('tsnet-ipam', { ...env, TSNET_CNI_SOCKET: absent }, CONF);
      const forwarded = await runBuilt('tsnet-ipam', { ...env, TSNET_CNI_SOCKET: path }, CONF);
      for (const out of [inProcess, forwarded]) {
        t.is(out.exitCode, 1, out.stdout + out.stderr);
        t.like(errorJsonOf(out), {
          code: ErrorCode.InvalidEnvironment,
          msg: 'invalid env variable CNI_PATH: entries must be absolute paths',
          details: 'relative entries: "bin"',
        });
      }
      t.is(forwarded.stdout, inProcess.stdout, 'the same answer either way');
      t.deepEqual(served, ['tsnet-ipam ADD 1'], 'the second was answered by the agent');
      t.deepEqual(calls, []);
    },
    builtBuildId(),
  );
});

/** A Logger that records every line with the bindings of the child it came from. */
function recordingLogger(records: Record<string, unknown>[], bindings: Record<string, unknown> = {}): Logger {
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      records.push({ ...bindings, ...obj, level, msg });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recordingLogger(records, { ...bindings, ...more }),
  };
}

test('every served request logs through a child bound to its request ID, plugin, command, container and interface', async (t) => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'cni.sock');
    const records: Record<string, unknown>[] = [];
    const server = await startCniServer(path, {
      plugins: new Map([['fake', fakePlugin('fake')]]),
      logger: recordingLogger(records),
    });
    try {
      t.is(
        (await forwardToAgent(path, { plugin: 'fake', env: envFor('ADD', 'c1'), stdin: CONF }))?.exitCode,
        0,
      );
      t.is(
        (await forwardToAgent(path, { plugin: 'fake', env: envFor('CHECK', 'c1'), stdin: CONF }))?.exitCode,
        1,
      );
    } finally {
      await server.close();
    }
    const [served, failed] = records;
    t.is(records.length, 2);
    t.like(served, {
      level: 'info',
      msg: 'CNI request served',
      plugin: 'fake',
      command: 'ADD',
      containerId: 'c1',
      ifname: 'eth0',
    });
    t.like(failed, {
      level: 'warn',
      msg: 'CNI request failed',
      command: 'CHECK',
      containerId: 'c1',
      error: { code: ErrorCode.UnknownContainer, msg: 'no such attachment' },
    });
    for (const r of records) {
      t.is(typeof r['durationMs'], 'number');
      t.regex(String(r['requestId']), /^[0-9a-f-]{36}$/);
    }
    t.not(served?.['requestId'], failed?.['requestId'], 'one request ID per request');
  });
});
