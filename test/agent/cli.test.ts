// tsnet-agent's command line with bad input: one line on stderr and a non-zero exit, never a pino record or a
// stack trace, and nothing created; init-network refuses to change a config that nodes hold leases under.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import test from 'ava';
import { EmbeddedStore } from '../../pkg/store/embedded.ts';
import { configKey, saveNetworkConfig } from '../../pkg/subnet/config.ts';
import { encodeLeaseAttrs, subnetKey } from '../../pkg/subnet/lease.ts';
import { ip, withNetnses } from '../helpers/netns.ts';
import { withTempDir } from '../helpers/tmp.ts';

const execFileAsync = promisify(execFile);
const MAIN = resolve(import.meta.dirname, '../../cmd/agent/main.ts');
const PREFIX = '/tsnet.io/network';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs tsnet-agent from the sources, inside `netns` when given; a run that does not end in 30 s is killed. */
async function agent(args: readonly string[], netns?: string): Promise<Outcome> {
  const [cmd, argv] = netns
    ? ['nsenter', [`--net=${netns}`, process.execPath, '--import=tsx', MAIN, ...args]]
    : [process.execPath, ['--import=tsx', MAIN, ...args]];
  try {
    const { stdout, stderr } = await execFileAsync(cmd, argv, { timeout: 30_000, killSignal: 'SIGKILL' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number | null; signal?: string; stdout: string; stderr: string };
    return { code: e.code ?? -1, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The outcome is one `tsnet-agent: ...` line on stderr matching `pattern`, nothing on stdout. */
function assertOneLine(t: import('ava').ExecutionContext, out: Outcome, code: number, pattern: RegExp): void {
  t.is(out.code, code, `exit code (stderr: ${out.stderr})`);
  const lines = out.stderr.split('\n').filter(Boolean);
  t.is(lines.length, 1, `one line on stderr, got: ${out.stderr}`);
  t.regex(lines[0] ?? '', /^tsnet-agent: /);
  t.regex(lines[0] ?? '', pattern);
  t.is(out.stdout, '', 'no log record on stdout');
  t.notRegex(out.stderr, /\n\s+at /, 'no stack trace');
}

/** Flags that keep a `run` inside `dir`: no CNI socket; data, subnet.env and the API socket in the temp dir. */
function runFlags(dir: string): string[] {
  return [
    'run',
    '--public-ip',
    '198.18.0.1',
    '--data-dir',
    join(dir, 'data'),
    '--subnet-file',
    join(dir, 'subnet.env'),
    '--cni-socket',
    '',
    '--run-dir',
    join(dir, 'run'),
  ];
}

test('run --http with a bad address or port is a usage error at parse time, nothing is started', async (t) => {
  await withTempDir(async (dir) => {
    for (const [http, why] of [
      ['nonsense', /--http "nonsense": use HOST:PORT/],
      ['127.0.0.1:99999', /--http "127.0.0.1:99999": the port must be an integer from 1 to 65535/],
      ['127.0.0.1:', /the port must be/],
      ['no_such host:80', /is not an IPv4 address or host name/],
    ] as const) {
      assertOneLine(t, await agent([...runFlags(dir), '--http', http]), 2, why);
    }
    assertOneLine(
      t,
      await agent([...runFlags(dir), '--lease-ttl', '0']),
      2,
      /--lease-ttl "0": expected an integer of at least 1/,
    );
    assertOneLine(
      t,
      await agent([...runFlags(dir), '--log-level', 'verbose']),
      2,
      /--log-level "verbose": one of debug, info, warn, error, fatal/,
    );
    t.false(existsSync(join(dir, 'data')), 'no data dir created');
  });
});

test('run: an HTTP address in use or not local is one line on stderr, exit 1, and nothing is left behind', async (t) => {
  await withTempDir((dir) =>
    withNetnses('acli', 1, async ([ns]) => {
      ip(ns!.path, 'link', 'set', 'lo', 'up');
      // Something else holds the port, inside the test's namespace.
      const holder = spawn(
        'nsenter',
        [
          `--net=${ns!.path}`,
          process.execPath,
          '-e',
          "const s = require('net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port))",
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      try {
        const port = await new Promise<string>((resolvePort, reject) => {
          holder.once('error', reject);
          holder.once('exit', (code) => reject(new Error(`port holder exited (${code})`)));
          createInterface({ input: holder.stdout! }).once('line', resolvePort);
        });
        const inUse = await agent([...runFlags(dir), '--http', `127.0.0.1:${port}`], ns!.path);
        assertOneLine(
          t,
          inUse,
          1,
          new RegExp(
            `^tsnet-agent: http: cannot listen on --http 127\\.0\\.0\\.1:${port}: address already in use$`,
          ),
        );
        const notLocal = await agent([...runFlags(dir), '--http', '198.18.9.9:9180'], ns!.path);
        assertOneLine(
          t,
          notLocal,
          1,
          /http: cannot listen on --http 198\.18\.9\.9:9180: no such local address$/,
        );
        t.false(existsSync(join(dir, 'data')), 'the store was never opened');
        t.false(existsSync(join(dir, 'subnet.env')));
      } finally {
        holder.kill('SIGKILL');
      }
    }),
  );
});

test('leave and init-network validate their IP and number flags; flags of another command are refused', async (t) => {
  await withTempDir(async (dir) => {
    const store = ['--data-dir', join(dir, 'data')];
    assertOneLine(
      t,
      await agent(['leave', '--public-ip', 'x', ...store]),
      2,
      /--public-ip "x": expected an IPv4/,
    );
    assertOneLine(t, await agent(['leave', ...store]), 2, /leave: --public-ip IP is required/);
    assertOneLine(
      t,
      await agent(['leave', '--public-ip', '198.18.0.1', '--network', '10.0.0.0/8', ...store]),
      2,
      /leave: --network is not a flag of this command/,
    );
    for (const [flag, value, why] of [
      ['--vni', 'abc', /--vni "abc": expected an integer from 1 to 16777215/],
      ['--vni', '0', /--vni "0"/],
      ['--port', '70000', /--port "70000": expected an integer from 1 to 65535/],
      ['--subnet-len', '24.5', /--subnet-len "24.5"/],
    ] as const) {
      assertOneLine(
        t,
        await agent(['init-network', '--network', '10.244.0.0/16', flag, value, ...store]),
        2,
        why,
      );
    }
    assertOneLine(
      t,
      await agent(['init-network', '--network', '10.244.0.0/33', ...store]),
      2,
      /invalid network config: "Network" "10.244.0.0\/33"/,
    );
    t.false(existsSync(join(dir, 'data')), 'no store created for a refused command');
    const ok = await agent(['leave', '--public-ip', '198.18.0.1', ...store]);
    t.is(ok.code, 0, ok.stderr);
    t.is(ok.stdout, 'no lease for 198.18.0.1\n');
  });
});

/** The config stored under PREFIX in the embedded store at `dataDir`. */
async function storedConfig(dataDir: string): Promise<unknown> {
  const store = await EmbeddedStore.open({ dataDir });
  try {
    const kv = await store.get(configKey(PREFIX));
    return kv ? JSON.parse(kv.value) : undefined;
  } finally {
    await store.close();
  }
}

test('init-network: identical is a no-op, a change under live leases is refused naming the nodes unless --force', async (t) => {
  await withTempDir(async (dir) => {
    const dataDir = join(dir, 'data');
    const store = await EmbeddedStore.open({ dataDir });
    try {
      await saveNetworkConfig(store, { Network: '10.244.0.0/16' }, PREFIX);
      for (const [subnet, publicIp, mac] of [
        ['10.244.1.0/24', '198.18.0.1', '02:00:00:00:00:01'],
        ['10.244.200.0/24', '198.18.0.2', '02:00:00:00:00:02'],
      ] as const) {
        await store.put(
          subnetKey(PREFIX, subnet),
          encodeLeaseAttrs({ PublicIP: publicIp, BackendType: 'vxlan', BackendData: { VtepMAC: mac } }),
        );
      }
    } finally {
      await store.close();
    }
    const initial = await storedConfig(dataDir);
    const flags = ['--data-dir', dataDir];

    const same = await agent(['init-network', '--network', '10.244.0.0/16', ...flags]);
    t.is(same.code, 0, same.stderr);
    t.is(same.stderr, 'tsnet-agent: network config unchanged\n');
    t.deepEqual(JSON.parse(same.stdout), initial);

    const other = await agent(['init-network', '--network', '10.250.0.0/16', '--vni', '7', ...flags]);
    assertOneLine(
      t,
      other,
      1,
      /in use: changing Network 10\.244\.0\.0\/16 -> 10\.250\.0\.0\/16, SubnetMin .*, Backend\.VNI 1 -> 7 affects 2 node\(s\) holding a lease: 198\.18\.0\.1 \(10\.244\.1\.0\/24\), 198\.18\.0\.2 \(10\.244\.200\.0\/24\); pass --force/,
    );
    t.deepEqual(await storedConfig(dataDir), initial, 'the stored config is untouched');

    // Shrinking the subnet range affects only the node outside the new range.
    const shrink = await agent([
      'init-network',
      '--network',
      '10.244.0.0/16',
      '--subnet-max',
      '10.244.100.0',
      ...flags,
    ]);
    assertOneLine(
      t,
      shrink,
      1,
      /affects 1 node\(s\) holding a lease: 198\.18\.0\.2 \(10\.244\.200\.0\/24\);/,
    );
    // A change that keeps every lease inside the range breaks nothing: allowed without --force.
    const keeps = await agent([
      'init-network',
      '--network',
      '10.244.0.0/16',
      '--subnet-max',
      '10.244.250.0',
      ...flags,
    ]);
    t.is(keeps.code, 0, keeps.stderr);
    t.like(await storedConfig(dataDir), { SubnetMax: '10.244.250.0' });

    const forced = await agent([
      'init-network',
      '--network',
      '10.250.0.0/16',
      '--vni',
      '7',
      '--force',
      ...flags,
    ]);
    t.is(forced.code, 0, forced.stderr);
    t.like(await storedConfig(dataDir), { Network: '10.250.0.0/16', Backend: { VNI: 7 } });
  });
});
