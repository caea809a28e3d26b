import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import {
  type AttachmentArgs,
  CniError,
  type CniPlugin,
  ErrorCode,
  type GcArgs,
  type NetworkArgs,
  parsePrevResult,
  pickCniArgs,
  type Result,
  servePlugin,
} from '../../pkg/cni/index.ts';

// Reference outputs of the Go bridge plugin (containernetworking-plugins 1.1.1), from cni-ref-bridge/.
const REF = {
  version: { cniVersion: '1.0.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'] },
  noCommandStderr:
    'CNI bridge plugin version unknown\nCNI protocol versions supported: 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0\n',
  unknownCommand: { code: 4, msg: 'unknown CNI_COMMAND: FOO' },
  missingEnv: {
    code: 4,
    msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing',
  },
  badVersion: {
    code: 1,
    msg: 'incompatible CNI versions',
    details: 'config is "9.9.9", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0"]',
  },
  garbage: {
    code: 6,
    msg: "error unmarshall network config: invalid character 'g' looking for beginning of value",
  },
  addResult: `{
    "cniVersion": "1.0.0",
    "interfaces": [
        {
            "name": "eb-cni0",
            "mac": "f2:d2:e0:06:9c:c1"
        },
        {
            "name": "veth4e52993b",
            "mac": "ea:7c:bc:ab:16:7d"
        },
        {
            "name": "eth0",
            "mac": "de:f7:25:91:a8:95",
            "sandbox": "/var/run/netns/eb-c1"
        }
    ],
    "ips": [
        {
            "interface": 2,
            "address": "10.250.0.2/16",
            "gateway": "10.250.0.1"
        }
    ],
    "routes": [
        {
            "dst": "0.0.0.0/0"
        }
    ],
    "dns": {}
}`,
};

const NET_CONF = {
  cniVersion: '1.0.0',
  name: 'ebnet',
  type: 'bridge',
  bridge: 'eb-cni0',
  isGateway: true,
  ipMasq: false,
  ipam: {
    type: 'host-local',
    subnet: '10.250.0.0/16',
    dataDir: '/tmp/x/ipam',
    routes: [{ dst: '0.0.0.0/0' }],
  },
};

const ENV = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: '68ece90bdda4a00f69e966d4c4e1667f9ff29c3d13cbe402cb93a73e127f4c8c',
  CNI_NETNS: '/var/run/netns/eb-c1',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=distracted_austin',
};

const REF_RESULT: Result = JSON.parse(REF.addResult);

interface Calls {
  verbs: string[];
  last?: NetworkArgs;
}

function fakePlugin(calls: Calls, overrides: Partial<CniPlugin> = {}): CniPlugin {
  const record = async (verb: string, args: NetworkArgs) => {
    calls.verbs.push(verb);
    calls.last = args;
  };
  return {
    name: 'tsnet-fake',
    about: 'tsnet fake plugin 0.1.0',
    add: async (args: AttachmentArgs) => {
      await record('add', args);
      return REF_RESULT;
    },
    del: (args) => record('del', args),
    check: (args) => record('check', args),
    status: (args) => record('status', args),
    gc: (args) => record('gc', args),
    ...overrides,
  };
}

function conf(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...NET_CONF, ...extra });
}

function errorJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout);
}

test('VERSION works with empty stdin and lists the supported versions, compact, like the reference', async (t) => {
  const calls: Calls = { verbs: [] };
  const out = await servePlugin(fakePlugin(calls), {
    env: { CNI_COMMAND: 'VERSION' },
    stdin: () => Promise.reject(new Error('VERSION must not read stdin')),
  });
  t.is(out.exitCode, 0);
  t.is(out.stderr, '');
  t.is(
    out.stdout,
    `${JSON.stringify({ cniVersion: '1.1.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] })}\n`,
  );
  // Same shape as the reference's line.
  t.deepEqual(Object.keys(JSON.parse(out.stdout)), Object.keys(REF.version));
  t.deepEqual(calls.verbs, []);
});

test('no CNI_COMMAND prints the about text on stderr and exits 0 without reading stdin', async (t) => {
  const out = await servePlugin(fakePlugin({ verbs: [] }), {
    env: {},
    stdin: () => Promise.reject(new Error('must not read stdin')),
  });
  t.is(out.exitCode, 0);
  t.is(out.stdout, '');
  t.is(
    out.stderr,
    'tsnet fake plugin 0.1.0\nCNI protocol versions supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0\n',
  );
  // Same two-line layout as the reference.
  t.deepEqual(
    out.stderr
      .split('\n')
      .map((l) => l.split(' ').slice(0, 3).join(' '))
      .slice(1),
    REF.noCommandStderr
      .split('\n')
      .map((l) => l.split(' ').slice(0, 3).join(' '))
      .slice(1),
  );
});

test('unknown command: code 4, the reference message, non-zero exit', async (t) => {
  const out = await servePlugin(fakePlugin({ verbs: [] }), {
    env: { ...ENV, CNI_COMMAND: 'FOO' },
    stdin: conf(),
  });
  t.is(out.exitCode, 1);
  t.like(errorJson(out.stdout), REF.unknownCommand);
});

test('missing env: code 4 naming the variables like the reference', async (t) => {
  const out = await servePlugin(fakePlugin({ verbs: [] }), { env: { CNI_COMMAND: 'ADD' }, stdin: conf() });
  t.is(out.exitCode, 1);
  t.like(errorJson(out.stdout), REF.missingEnv);
});

test('unsupported cniVersion: code 1 with the reference wording, printed in the spec JSON form', async (t) => {
  const calls: Calls = { verbs: [] };
  const out = await servePlugin(fakePlugin(calls), { env: ENV, stdin: conf({ cniVersion: '9.9.9' }) });
  t.is(out.exitCode, 1);
  const err = errorJson(out.stdout);
  t.is(err['code'], REF.badVersion.code);
  t.is(err['msg'], REF.badVersion.msg);
  t.is(err['details'], 'config is "9.9.9", plugin supports ["0.3.0" "0.3.1" "0.4.0" "1.0.0" "1.1.0"]');
  t.deepEqual(Object.keys(err), ['cniVersion', 'code', 'msg', 'details']);
  // Pretty-printed with 4 spaces like the reference.
  t.true(out.stdout.startsWith('{\n    "cniVersion"'));
  t.deepEqual(calls.verbs, []);
  // A config without cniVersion means 0.1.0, which we do not speak.
  const old = await servePlugin(fakePlugin(calls), { env: ENV, stdin: conf({ cniVersion: undefined }) });
  t.is(errorJson(old.stdout)['code'], 1);
});

test('garbage config: code 6 (decode failure), also on DEL', async (t) => {
  for (const command of ['ADD', 'DEL', 'CHECK']) {
    const out = await servePlugin(fakePlugin({ verbs: [] }), {
      env: { ...ENV, CNI_COMMAND: command },
      stdin: 'garbage',
    });
    t.is(out.exitCode, 1, command);
    t.is(errorJson(out.stdout)['code'], REF.garbage.code, command);
  }
  const array = await servePlugin(fakePlugin({ verbs: [] }), { env: ENV, stdin: '[1]' });
  t.is(errorJson(array.stdout)['code'], 6);
});

test('invalid well-known fields: code 7', async (t) => {
  const cases: Record<string, unknown>[] = [
    { name: undefined },
    { name: '../evil' },
    { name: 42 },
    { type: undefined },
    { type: '' },
    { ipam: 'host-local' },
    { ipam: { subnet: '10.0.0.0/24' } },
    { dns: [] },
    { runtimeConfig: 'x' },
  ];
  for (const extra of cases) {
    const out = await servePlugin(fakePlugin({ verbs: [] }), { env: ENV, stdin: conf(extra) });
    t.is(errorJson(out.stdout)['code'], ErrorCode.InvalidNetworkConfig, JSON.stringify(extra));
  }
  const cniVersionNumber = await servePlugin(fakePlugin({ verbs: [] }), {
    env: ENV,
    stdin: conf({ cniVersion: 1 }),
  });
  t.is(errorJson(cniVersionNumber.stdout)['code'], ErrorCode.DecodingFailure);
});

test('bad container ID or interface name: code 4 before the plugin runs', async (t) => {
  const calls: Calls = { verbs: [] };
  for (const env of [
    { ...ENV, CNI_CONTAINERID: '../../etc' },
    { ...ENV, CNI_IFNAME: 'eth0/../x' },
    { ...ENV, CNI_IFNAME: 'sixteen-chars-xx' },
    { ...ENV, CNI_COMMAND: 'DEL', CNI_CONTAINERID: '../x' },
  ]) {
    const out = await servePlugin(fakePlugin(calls), { env, stdin: conf() });
    t.is(errorJson(out.stdout)['code'], 4);
  }
  t.deepEqual(calls.verbs, []);
});

test('a relative CNI_PATH entry is code 4 naming it, for every command that reads CNI_PATH, before the plugin runs', async (t) => {
  const calls: Calls = { verbs: [] };
  for (const command of ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC']) {
    const env = { ...ENV, CNI_COMMAND: command, CNI_PATH: '/opt/cni/bin:./bin::lib/cni' };
    const out = await servePlugin(fakePlugin(calls), { env, stdin: conf({ cniVersion: '1.1.0' }) });
    t.is(out.exitCode, 1, command);
    t.like(errorJson(out.stdout), {
      code: ErrorCode.InvalidEnvironment,
      msg: 'invalid env variable CNI_PATH: entries must be absolute paths',
      details: 'relative entries: "./bin", "lib/cni"',
    });
  }
  t.deepEqual(calls.verbs, []);
  const ok = await servePlugin(fakePlugin(calls), {
    env: { ...ENV, CNI_PATH: '/opt/cni/bin:/usr/lib/cni' },
    stdin: conf(),
  });
  t.is(ok.exitCode, 0, ok.stdout);
});

test('ADD: the plugin gets validated args; the result is printed in the config version', async (t) => {
  const calls: Calls = { verbs: [] };
  const out = await servePlugin(fakePlugin(calls), { env: ENV, stdin: conf() });
  t.is(out.exitCode, 0);
  t.is(out.stdout, REF.addResult);
  const args = calls.last as AttachmentArgs;
  t.is(args.containerId, ENV.CNI_CONTAINERID);
  t.is(args.ifname, 'eth0');
  t.is(args.netns, '/var/run/netns/eb-c1');
  t.deepEqual(args.path, ['/opt/cni/bin']);
  t.is(args.config['bridge'], 'eb-cni0');
  t.deepEqual(pickCniArgs(args.args, ['K8S_POD_NAME']), { K8S_POD_NAME: 'distracted_austin' });

  const old = await servePlugin(fakePlugin(calls), { env: ENV, stdin: conf({ cniVersion: '0.4.0' }) });
  const printed = JSON.parse(old.stdout);
  t.is(printed.cniVersion, '0.4.0');
  t.deepEqual(printed.ips, [{ version: '4', interface: 2, address: '10.250.0.2/16', gateway: '10.250.0.1' }]);
});

test('ADD passes a prevResult through in the config version', async (t) => {
  const prev = {
    cniVersion: '0.3.1',
    interfaces: [{ name: 'eth0', sandbox: '/run/netns/x' }],
    ips: [{ version: '4', address: '10.0.0.2/24', interface: 0 }],
  };
  const plugin = fakePlugin({ verbs: [] }, { add: async (args) => parsePrevResult(args.config)! });
  const out = await servePlugin(plugin, { env: ENV, stdin: conf({ cniVersion: '0.3.1', prevResult: prev }) });
  t.is(out.exitCode, 0);
  t.deepEqual(JSON.parse(out.stdout), { ...prev, dns: {} });
});

test('DEL succeeds with CNI_NETNS missing or empty and prints nothing', async (t) => {
  const calls: Calls = { verbs: [] };
  for (const netns of [undefined, '', '/run/netns/gone-long-ago']) {
    const out = await servePlugin(fakePlugin(calls), {
      env: { ...ENV, CNI_COMMAND: 'DEL', CNI_NETNS: netns },
      stdin: conf(),
    });
    t.deepEqual(out, { stdout: '', stderr: '', exitCode: 0 });
    t.is((calls.last as AttachmentArgs).netns, netns ?? '');
  }
  t.deepEqual(calls.verbs, ['del', 'del', 'del']);
});

test('CHECK needs cniVersion 0.4.0 or later and prints nothing on success', async (t) => {
  const calls: Calls = { verbs: [] };
  const ok = await servePlugin(fakePlugin(calls), { env: { ...ENV, CNI_COMMAND: 'CHECK' }, stdin: conf() });
  t.deepEqual(ok, { stdout: '', stderr: '', exitCode: 0 });
  const old = await servePlugin(fakePlugin(calls), {
    env: { ...ENV, CNI_COMMAND: 'CHECK' },
    stdin: conf({ cniVersion: '0.3.1' }),
  });
  t.is(errorJson(old.stdout)['code'], 1);
  t.deepEqual(calls.verbs, ['check']);
});

test('STATUS (1.1.0): exit 0 and no output when available; the plugin decides 50/51', async (t) => {
  const env = { CNI_COMMAND: 'STATUS', CNI_PATH: '/opt/cni/bin' };
  const calls: Calls = { verbs: [] };
  const ok = await servePlugin(fakePlugin(calls), { env, stdin: conf({ cniVersion: '1.1.0' }) });
  t.deepEqual(ok, { stdout: '', stderr: '', exitCode: 0 });
  t.deepEqual(calls.verbs, ['status']);

  const down = fakePlugin(calls, {
    status: async () => {
      throw new CniError(
        ErrorCode.PluginNotAvailable,
        'no subnet lease',
        'etcd unreachable at 198.18.0.1:2379',
      );
    },
  });
  const out = await servePlugin(down, { env, stdin: conf({ cniVersion: '1.1.0' }) });
  t.is(out.exitCode, 1);
  t.deepEqual(errorJson(out.stdout), {
    cniVersion: '1.1.0',
    code: 50,
    msg: 'no subnet lease',
    details: 'etcd unreachable at 198.18.0.1:2379',
  });
  const old = await servePlugin(fakePlugin(calls), { env, stdin: conf({ cniVersion: '1.0.0' }) });
  t.is(errorJson(old.stdout)['code'], 1);
  const without = fakePlugin(calls, { status: undefined });
  t.is((await servePlugin(without, { env, stdin: conf({ cniVersion: '1.1.0' }) })).exitCode, 0);
});

test('GC (1.1.0) receives cni.dev/valid-attachments; a missing or malformed list is code 7', async (t) => {
  const env = { CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' };
  const calls: Calls = { verbs: [] };
  const valid = [{ containerID: 'c1', ifname: 'eth0' }];
  const ok = await servePlugin(fakePlugin(calls), {
    env,
    stdin: conf({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': valid }),
  });
  t.deepEqual(ok, { stdout: '', stderr: '', exitCode: 0 });
  t.deepEqual((calls.last as GcArgs).validAttachments, valid);
  // libcni's second spelling is accepted; no list at all is refused (it would release everything).
  await servePlugin(fakePlugin(calls), {
    env,
    stdin: conf({ cniVersion: '1.1.0', 'cni.dev/attachments': [] }),
  });
  t.deepEqual((calls.last as GcArgs).validAttachments, []);
  const missing = await servePlugin(fakePlugin(calls), { env, stdin: conf({ cniVersion: '1.1.0' }) });
  t.is(errorJson(missing.stdout)['code'], 7);
  t.regex(String(errorJson(missing.stdout)['msg']), /refusing to release everything/);
  const bad = await servePlugin(fakePlugin(calls), {
    env,
    stdin: conf({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 3 }] }),
  });
  t.is(errorJson(bad.stdout)['code'], 7);
  t.is(
    errorJson((await servePlugin(fakePlugin(calls), { env: { CNI_COMMAND: 'GC' }, stdin: conf() })).stdout)[
      'code'
    ],
    4,
  );
});

test('a plugin CniError is printed as is in the config version; other exceptions are 999', async (t) => {
  const tryLater = fakePlugin(
    { verbs: [] },
    {
      add: async () => {
        throw new CniError(
          ErrorCode.TryAgainLater,
          'subnet.env missing',
          'the agent has not leased a subnet yet',
        );
      },
    },
  );
  const out = await servePlugin(tryLater, { env: ENV, stdin: conf({ cniVersion: '0.4.0' }) });
  t.deepEqual(errorJson(out.stdout), {
    cniVersion: '0.4.0',
    code: 11,
    msg: 'subnet.env missing',
    details: 'the agent has not leased a subnet yet',
  });
  const crash = fakePlugin(
    { verbs: [] },
    {
      add: async () => {
        throw new TypeError('cannot read x of undefined');
      },
    },
  );
  const crashed = await servePlugin(crash, { env: ENV, stdin: conf() });
  t.is(crashed.exitCode, 1);
  t.like(errorJson(crashed.stdout), { code: 999, msg: 'cannot read x of undefined' });
  t.regex(crashed.stderr, /TypeError/);
});

test('a stdin read failure is code 5', async (t) => {
  const out = await servePlugin(fakePlugin({ verbs: [] }), {
    env: ENV,
    stdin: () => Promise.reject(new Error('EIO')),
  });
  t.is(errorJson(out.stdout)['code'], ErrorCode.IoFailure);
});

test('bad CNI_ARGS syntax is code 4', async (t) => {
  const out = await servePlugin(fakePlugin({ verbs: [] }), {
    env: { ...ENV, CNI_ARGS: 'IgnoreUnknown' },
    stdin: conf(),
  });
  t.is(errorJson(out.stdout)['code'], 4);
});

test('plugin restricted to some versions reports and enforces them', async (t) => {
  const plugin = fakePlugin({ verbs: [] }, { supportedVersions: ['1.0.0', '1.1.0'] });
  const v = await servePlugin(plugin, { env: { CNI_COMMAND: 'VERSION' }, stdin: '' });
  t.deepEqual(JSON.parse(v.stdout).supportedVersions, ['1.0.0', '1.1.0']);
  const out = await servePlugin(plugin, { env: ENV, stdin: conf({ cniVersion: '0.4.0' }) });
  t.is(errorJson(out.stdout)['code'], 1);
});

const UNLOADABLE = fileURLToPath(new URL('./fixtures/unloadable-plugin.ts', import.meta.url));

test('a forwarding main whose plugin cannot load, with no agent, prints the spec error in the config version', async (t) => {
  const run = (env: Record<string, string>, stdin: string) =>
    new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import=tsx', UNLOADABLE],
        {
          env: {
            PATH: process.env['PATH'] ?? '/usr/bin:/bin',
            TSNET_CNI_SOCKET: '/nonexistent/cni.sock',
            ...env,
          },
        },
        (err, stdout, stderr) =>
          err && typeof err.code !== 'number'
            ? reject(err)
            : resolve({ stdout, stderr, code: err ? Number(err.code) : 0 }),
      ).stdin?.end(stdin);
    });
  const add = await run(ENV, conf({ cniVersion: '0.4.0' }));
  t.is(add.code, 1);
  t.deepEqual(JSON.parse(add.stdout), {
    cniVersion: '0.4.0',
    code: ErrorCode.Internal,
    msg: "Cannot find module 'koffi'",
  });
  t.is(add.stderr, '', 'no stack trace');
  const version = await run({ CNI_COMMAND: 'VERSION' }, '');
  t.is(version.code, 1);
  t.like(JSON.parse(version.stdout), { code: ErrorCode.Internal, msg: "Cannot find module 'koffi'" });
});
