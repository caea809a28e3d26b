// The native forwarder (native/cni-forward, installed by the build as each plugin the agent serves): the same
// ADD/CHECK/DEL/GC/STATUS sequence through a warm agent and with no agent gives byte-identical output, exit
// codes and IPAM files; the forwarder runs the Node plugin instead when the agent is absent, refuses the peer,
// is of another build, does not serve the type, sits in another netns or sends no hello; a connection broken
// after the request answers code 11 exactly as the Node client does.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join, relative, resolve } from 'node:path';
import test from 'ava';
import { forwardToAgent } from '../../pkg/cni/client.ts';
import { startCniServer } from '../../pkg/cni/server.ts';
import type { CniPlugin } from '../../pkg/cni/skel.ts';
import {
  BUILD_ID,
  currentMntnsInode,
  currentNetnsInode,
  PROTOCOL_VERSION,
} from '../../pkg/cni/socket-protocol.ts';
import { startCniServerProcess, stopCniServerProcess } from '../helpers/agent-path.ts';
import { ip, withNetnses } from '../helpers/netns.ts';
import { builtBuildId, builtPlugin, DIST_CNI, REPO_ROOT } from '../helpers/plugin.ts';
import { withTempDir } from '../helpers/tmp.ts';

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Runs the built `type` (from `dir`, default dist/cni) under `wrapper` (nsenter, setpriv ...) with exactly
 * `env` (plus PATH) and `stdin`.
 */
function runForwarder(
  type: string,
  env: Record<string, string>,
  stdin: Buffer | string,
  wrapper: string[] = [],
  dir?: string,
): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const [cmd = '', ...args] = [...wrapper, builtPlugin(type, dir)];
    const child = spawn(cmd, args, { env: { PATH, ...env }, cwd: '/' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) =>
      resolvePromise({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }),
    );
    child.stdin.end(stdin);
  });
}

const attachmentEnv = (command: string, containerId: string, netns: string, socket: string) => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: containerId,
  CNI_NETNS: netns,
  CNI_IFNAME: 'eth0',
  CNI_PATH: resolve(REPO_ROOT, 'dist/cni'),
  TSNET_CNI_SOCKET: socket,
});

/** Every file under `dir` with its contents, by relative path: the IPAM state on disk. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(dir, path)] = readFileSync(path, 'latin1');
    }
  };
  walk(dir);
  return files;
}

test('the same bridge + IPAM sequence forwarded to a warm agent and run in-process: identical bytes, codes and IPAM files', async (t) => {
  await withNetnses('fwd', 4, async ([node, ctr1, ctr2, ctr3]) => {
    await withTempDir(async (dir) => {
      const socket = join(dir, 'cni.sock');
      const dataDir = join(dir, 'ipam');
      const conf = (extra: Record<string, unknown> = {}) =>
        JSON.stringify({
          cniVersion: '1.1.0',
          name: 'fwdnet',
          type: 'tsnet-bridge',
          bridge: 'fwdbr0',
          isGateway: true,
          ipMasq: false,
          ipam: { type: 'tsnet-ipam', subnet: '10.243.0.0/24', dataDir },
          ...extra,
        });
      // Each step: command, container, netns, stdin. Errors included: the agent must fail the same way.
      const steps: [string, string, string, Buffer | string][] = [
        ['ADD', 'c1', ctr1!.path, conf()],
        ['CHECK', 'c1', ctr1!.path, conf()],
        ['ADD', 'c2', ctr2!.path, conf()],
        ['CHECK', 'c3', ctr1!.path, conf()],
        ['ADD', 'c4', ctr1!.path, '{"cniVersion": "1.1.0", "name": '],
        // Bytes that are not UTF-8, escapes and astral characters in the config reach the plugin unchanged.
        [
          'ADD',
          'c5',
          ctr3!.path,
          Buffer.concat([
            Buffer.from(conf({ note: 'é 😀 \u0000 "q"' }).slice(0, -1)),
            Buffer.from(',"bad":"\xff\xfe\xed\xa0\x80"}', 'latin1'),
          ]),
        ],
        // An error that quotes the config back: astral characters and a lone surrogate in the answer.
        ['ADD', 'c6', ctr3!.path, conf({ name: 'bad name \u{1F600} \ud800 \u0007' })],
        ['DEL', 'c5', ctr3!.path, conf()],
        ['DEL', 'c1', ctr1!.path, conf()],
        ['DEL', 'c1', ctr1!.path, conf()],
        ['CHECK', 'c1', ctr1!.path, conf()],
        ['STATUS', '', '', conf()],
        ['GC', '', '', conf({ 'cni.dev/valid-attachments': [{ containerID: 'c2', ifname: 'eth0' }] })],
        ['DEL', 'c2', ctr2!.path, conf()],
        ['VERSION', '', '', ''],
        ['', '', '', ''],
        ['NOPE', 'c1', ctr1!.path, conf()],
      ];
      const sequence = async (sock: string) => {
        const results: {
          step: string;
          code: number | null;
          stdout: string;
          stderr: string;
          files: Record<string, string>;
        }[] = [];
        for (const [command, id, netns, stdin] of steps) {
          const env: Record<string, string> = attachmentEnv(command, id, netns, sock);
          if (command === '') delete env['CNI_COMMAND'];
          const run = await runForwarder('tsnet-bridge', env, stdin, ['nsenter', `--net=${node!.path}`]);
          results.push({
            step: `${command} ${id}`,
            code: run.code,
            // MAC addresses and host veth names are random: everything else must be the same bytes.
            stdout: run.stdout
              .toString('latin1')
              .replace(/"mac": "[0-9a-f:]{17}"/g, '"mac": "<mac>"')
              .replace(/"name": "veth[0-9a-f]{8}"/g, '"name": "<veth>"'),
            stderr: run.stderr.toString('latin1'),
            files: snapshot(dataDir),
          });
        }
        return results;
      };
      const reset = () => {
        rmSync(dataDir, { recursive: true, force: true });
        try {
          ip(node!.path, 'link', 'del', 'fwdbr0');
        } catch {
          // not made (yet)
        }
      };
      const server = await startCniServerProcess(node!.path, socket);
      let served: Awaited<ReturnType<typeof sequence>>;
      try {
        served = await sequence(socket);
      } finally {
        await stopCniServerProcess(server.child);
      }
      // Every step was answered by the agent (the two without a command too).
      t.deepEqual(
        server.served,
        steps.map(([command]) => `tsnet-bridge ${command}`),
      );
      reset();
      const inProcess = await sequence(join(dir, 'absent.sock'));
      reset();
      t.is(served.length, inProcess.length);
      for (let i = 0; i < served.length; i++) t.deepEqual(served[i], inProcess[i], served[i]?.step);
      // The oracle is not vacuous: the sequence allocated, failed and released.
      t.is(inProcess[0]?.code, 0, inProcess[0]?.stdout);
      t.true(Object.keys(inProcess[0]?.files ?? {}).includes('fwdnet/10.243.0.2'));
      t.is(inProcess[3]?.code, 1);
      t.is(inProcess[5]?.code, 0, inProcess[5]?.stdout);
    });
  });
});

/** A plugin that records every verb: the oracle that the agent ran nothing. */
function recordingPlugin(name: string, calls: string[]): CniPlugin {
  return {
    name,
    about: `${name}: records`,
    async add(args) {
      calls.push(`add ${args.containerId}`);
      return { cniVersion: '1.1.0', ips: [{ address: '10.250.0.250/24' }] };
    },
    async del(args) {
      calls.push(`del ${args.containerId}`);
    },
    async check(args) {
      calls.push(`check ${args.containerId}`);
    },
  };
}

const ipamConf = (dataDir: string) =>
  JSON.stringify({
    cniVersion: '1.0.0',
    name: 'fbnet',
    type: 'tsnet-ipam',
    ipam: { type: 'tsnet-ipam', subnet: '10.244.0.0/24', dataDir },
  });

/** The real tsnet-ipam ran in-process: its first address is on disk and in the answer. */
function assertInProcess(
  t: import('ava').ExecutionContext,
  run: Run,
  dataDir: string,
  calls: string[],
): void {
  t.is(run.code, 0, run.stdout.toString() + run.stderr.toString());
  t.is(
    (JSON.parse(run.stdout.toString()) as { ips: { address: string }[] }).ips[0]?.address,
    '10.244.0.2/24',
  );
  t.true(readdirSync(join(dataDir, 'fbnet')).includes('10.244.0.2'));
  t.deepEqual(calls, [], 'the agent ran nothing');
}

for (const [label, serverOpts] of [
  ['of another build', { buildId: 'another-build', plugins: ['tsnet-ipam'] }],
  ['not serving the type', { plugins: ['tsnet-vxlan'] }],
] as const) {
  test(`an agent ${label}: the forwarder runs the Node plugin (nothing sent)`, async (t) => {
    await withTempDir(async (dir) => {
      const socket = join(dir, 'cni.sock');
      const calls: string[] = [];
      const served: string[] = [];
      const server = await startCniServer(socket, {
        plugins: new Map(serverOpts.plugins.map((p) => [p, recordingPlugin(p, calls)])),
        buildId: 'buildId' in serverOpts ? serverOpts.buildId : builtBuildId(),
        onServed: (plugin, command) => served.push(`${plugin} ${command}`),
      });
      try {
        const dataDir = join(dir, 'ipam');
        const run = await runForwarder(
          'tsnet-ipam',
          attachmentEnv('ADD', 'c1', '/proc/self/ns/net', socket),
          ipamConf(dataDir),
        );
        assertInProcess(t, run, dataDir, calls);
        t.deepEqual(served, []);
        // Control: the same server with dist's build serving the type takes the call.
        if ('buildId' in serverOpts) {
          const other = await startCniServer(join(dir, 'ok.sock'), {
            plugins: new Map([['tsnet-ipam', recordingPlugin('tsnet-ipam', calls)]]),
            buildId: builtBuildId(),
          });
          try {
            const ok = await runForwarder(
              'tsnet-ipam',
              attachmentEnv('ADD', 'c2', '/proc/self/ns/net', join(dir, 'ok.sock')),
              ipamConf(dataDir),
            );
            t.is(ok.code, 0);
            t.deepEqual(calls, ['add c2']);
          } finally {
            await other.close();
          }
        }
      } finally {
        await server.close();
      }
    });
  });
}

test('no agent, a peer the agent would refuse (uid 65534 on a 0666 socket), another netns: the Node plugin runs', async (t) => {
  await withTempDir(async (dir) => {
    const socket = join(dir, 'cni.sock');
    const calls: string[] = [];
    const served: string[] = [];
    const server = await startCniServer(socket, {
      plugins: new Map([['tsnet-ipam', recordingPlugin('tsnet-ipam', calls)]]),
      buildId: builtBuildId(),
      onServed: (plugin, command) => served.push(`${plugin} ${command}`),
    });
    try {
      const absent = join(dir, 'absent');
      mkdirSync(absent);
      const noAgent = await runForwarder(
        'tsnet-ipam',
        attachmentEnv('ADD', 'c1', '/proc/self/ns/net', join(absent, 's.sock')),
        ipamConf(absent),
      );
      assertInProcess(t, noAgent, absent, calls);

      // A misconfigured socket nobody may use yet anyone can reach: the hello says "refused", so no request.
      chmodSync(dir, 0o755);
      chmodSync(socket, 0o666);
      const nobodyDir = join(dir, 'nobody');
      mkdirSync(nobodyDir);
      chownSync(nobodyDir, 65534, 65534);
      // A copy of the plugins nobody can execute wherever the checkout lives (a 0700 home, say).
      const plugins = join(dir, 'cni');
      cpSync(DIST_CNI, plugins, { recursive: true });
      const nobody = await runForwarder(
        'tsnet-ipam',
        attachmentEnv('ADD', 'c1', '/proc/self/ns/net', socket),
        ipamConf(nobodyDir),
        ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
        plugins,
      );
      assertInProcess(t, nobody, nobodyDir, calls);
      t.is(
        statSync(join(nobodyDir, 'fbnet', '10.244.0.2')).uid,
        65534,
        'allocated by the plugin process itself',
      );

      await withNetnses('fwdother', 1, async ([other]) => {
        const netnsDir = join(dir, 'netns');
        const run = await runForwarder(
          'tsnet-ipam',
          attachmentEnv('ADD', 'c1', other!.path, socket),
          ipamConf(netnsDir),
          ['nsenter', `--net=${other!.path}`],
        );
        assertInProcess(t, run, netnsDir, calls);
      });
      t.deepEqual(served, [], 'no request reached the agent');
      // Control: root in the agent's namespaces is served.
      const ok = await runForwarder(
        'tsnet-ipam',
        attachmentEnv('ADD', 'c7', '/proc/self/ns/net', socket),
        ipamConf(join(dir, 'x')),
      );
      t.is(ok.code, 0);
      t.deepEqual(calls, ['add c7']);
    } finally {
      await server.close();
    }
  });
});

/** A hand-made agent: `hello` (or none) on connect, `onRequest` once a request line arrived. */
async function rawAgent(
  path: string,
  hello: object | undefined,
  onRequest: (socket: Socket) => void,
): Promise<{ requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    if (hello) socket.write(`${JSON.stringify(hello)}\n`);
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes('\n')) {
        requests++;
        onRequest(socket);
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    requests: () => requests,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const helloFor = (buildId: string) => ({
  tsnetCni: PROTOCOL_VERSION,
  netns: currentNetnsInode(),
  mntns: currentMntnsInode(),
  buildId,
  plugins: ['tsnet-ipam'],
});

test('an agent that sends no hello: after the hello timeout the Node plugin runs, nothing sent', async (t) => {
  await withTempDir(async (dir) => {
    const socket = join(dir, 'cni.sock');
    const agent = await rawAgent(socket, undefined, () => undefined);
    try {
      const dataDir = join(dir, 'ipam');
      const run = await runForwarder(
        'tsnet-ipam',
        attachmentEnv('ADD', 'c1', '/proc/self/ns/net', socket),
        ipamConf(dataDir),
      );
      assertInProcess(t, run, dataDir, []);
      t.is(agent.requests(), 0);
    } finally {
      await agent.close();
    }
  });
});

test('a connection broken after the request: code 11, the same bytes as the Node client, sent once, never run in-process', async (t) => {
  await withTempDir(async (dir) => {
    const dataDir = join(dir, 'ipam');
    const stdin = ipamConf(dataDir);
    const socket = join(dir, 'cni.sock');
    for (const hang of [false, true]) {
      // The forwarder speaks dist's build; the Node client in this process the sources' ("dev").
      const agent = await rawAgent(socket, helloFor(builtBuildId()), (s) =>
        hang ? s.end('{"stdout": 1}\n') : s.destroy(),
      );
      let native: Run;
      try {
        native = await runForwarder(
          'tsnet-ipam',
          attachmentEnv('ADD', 'c1', '/proc/self/ns/net', socket),
          stdin,
        );
        t.is(agent.requests(), 1);
      } finally {
        await agent.close();
      }
      const nodeAgent = await rawAgent(socket, helloFor(BUILD_ID), (s) =>
        hang ? s.end('{"stdout": 1}\n') : s.destroy(),
      );
      try {
        const env = attachmentEnv('ADD', 'c1', '/proc/self/ns/net', socket);
        const node = await forwardToAgent(socket, { plugin: 'tsnet-ipam', env: { PATH, ...env }, stdin });
        t.is(native.code, 1);
        t.is(node?.exitCode, 1);
        const err = JSON.parse(native.stdout.toString()) as { code: number; cniVersion: string };
        t.is(err.code, 11);
        t.is(err.cniVersion, '1.0.0', 'in the config version');
        t.is(native.stdout.toString(), node?.stdout ?? '', "byte for byte the Node client's answer");
        t.regex(native.stdout.toString(), hang ? /malformed answer from tsnet-agent/ : /connection closed/);
      } finally {
        await nodeAgent.close();
      }
    }
    t.throws(() => readdirSync(dataDir), undefined, 'nothing ran in-process');
  });
});

test('stdin is read to its end before the forwarder connects: a runtime slow to close it holds no agent connection', async (t) => {
  await withTempDir(async (dir) => {
    const socket = join(dir, 'cni.sock');
    const stdin = ipamConf(join(dir, 'ipam'));
    let connections = 0;
    let request = '';
    const server = createServer((s) => {
      connections++;
      s.on('error', () => undefined);
      s.write(`${JSON.stringify(helloFor(builtBuildId()))}\n`);
      s.on('data', (d: Buffer) => {
        request += d.toString();
        if (request.includes('\n')) s.end('{"stdout":"served\\n","stderr":"","exitCode":0}\n');
      });
    });
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      const env = { PATH, ...attachmentEnv('ADD', 'c1', '/proc/self/ns/net', socket) };
      const child = spawn(builtPlugin('tsnet-ipam'), [], { env, cwd: '/' });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      const closed = new Promise<number | null>((r) => child.once('close', r));
      child.stdin.write(stdin.slice(0, 10));
      await new Promise((r) => setTimeout(r, 500));
      t.is(connections, 0, 'no connection while stdin is open');
      child.stdin.end(stdin.slice(10));
      t.is(await closed, 0);
      t.is(stdout, 'served\n');
      t.is(connections, 1);
      const sent = JSON.parse(request) as { stdinBase64: string };
      t.is(Buffer.from(sent.stdinBase64, 'base64').toString(), stdin, 'the whole config in the request');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
