// deploy/install.sh into a temporary root: the installed tree runs on its own (the checkout hidden under an
// empty tmpfs in a private mount namespace, a clean environment, cwd outside the repository): `tsnet-agent --version`, `tsnetctl --help`, every installed
// plugin's VERSION, a plugin ADD (its native module loads), and the systemd unit's ExecStart, as systemd would
// expand it, runs an agent in a test namespace until it is ready and stops on SIGTERM.
import { execFile, spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { ip, withNetnses } from '../helpers/netns.ts';
import { REPO_ROOT } from '../helpers/plugin.ts';
import { inPrivateMounts } from '../helpers/private-mounts.ts';
import { addNoneFrom } from './plugin-run.ts';
import { type SystemdUnit, systemdArgv, systemdEnvironmentFile, systemdUnit } from './systemd.ts';

const run = promisify(execFile);
const CLEAN_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

/** Every path under `dir` (files, dirs, symlinks), without following symlinks. */
function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    out.push(path);
    if (entry.isDirectory()) walk(path, out);
  }
  return out;
}

/** The repository, as paths an installed file could name: the checkout and where its node_modules lead. */
const REPO_PATHS = [
  ...new Set([REPO_ROOT, realpathSync(REPO_ROOT), realpathSync(join(REPO_ROOT, 'node_modules'))]),
];

// One install for the file's tests (an install copies ~50 MB): made before, removed after, whatever happens.
let installedRoot: string | undefined;
test.before(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist', 'bin', 'tsnet-agent')))
    throw new Error('run `npm run build` first');
  installedRoot = mkdtempSync(join(tmpdir(), 'tsnt-deploy-root-'));
  await run('bash', [join(REPO_ROOT, 'deploy', 'install.sh'), '--root', installedRoot], {
    cwd: installedRoot,
  });
});
test.after.always(() => {
  if (installedRoot) rmSync(installedRoot, { recursive: true, force: true });
});

async function withInstalledRoot(fn: (root: string) => Promise<void>): Promise<void> {
  if (!installedRoot) throw new Error('the install in test.before failed');
  await fn(installedRoot);
}

/**
 * `argv` with the checkout (and wherever its node_modules lead) hidden under an empty tmpfs in a private
 * mount namespace: an installed file that still reached into the repository would fail there.
 */
function hidingCheckout(argv: readonly string[]): string[] {
  const hidden = REPO_PATHS.filter((p, _, all) => !all.some((q) => q !== p && p.startsWith(`${q}/`)));
  return inPrivateMounts(
    hidden.map((hide) => ({ hide })),
    argv,
  );
}

function runInstalled(root: string, argv: string[], env: Record<string, string> = {}) {
  const [cmd, ...args] = hidingCheckout(argv);
  return run(cmd ?? '', args, { cwd: root, env: { ...CLEAN_ENV, ...env } });
}

test('the installed tree is self-contained: no symlink or bundle leads back into the checkout', (t) =>
  withInstalledRoot(async (root) => {
    const paths = walk(root);
    for (const path of paths.filter((p) => lstatSync(p).isSymbolicLink())) {
      const target = resolve(join(path, '..'), readlinkSync(path));
      t.true(target.startsWith(`${root}/`), `${path} -> ${target} leaves the installed root`);
    }
    const bundles = [
      ...readdirSync(join(root, 'opt/tsnet/dist/bin')).map((f) => join(root, 'opt/tsnet/dist/bin', f)),
      ...readdirSync(join(root, 'opt/cni/bin'))
        // the forwarders and launchers, and the bundles they run (.<type>.cjs)
        .filter((f) => (f.startsWith('tsnet-') && f !== 'tsnet-native') || f.endsWith('.cjs'))
        .map((f) => join(root, 'opt/cni/bin', f)),
    ];
    t.true(bundles.length >= 8, bundles.join(' '));
    for (const file of bundles) {
      const text = readFileSync(file, 'utf8');
      for (const repo of REPO_PATHS) t.false(text.includes(repo), `${file} names ${repo}`);
    }
    t.true(existsSync(join(root, 'opt/tsnet/node_modules/etcd3/proto/rpc.proto')));
    t.false(existsSync(join(root, 'opt/tsnet/node_modules/ava')), 'dev packages are not installed');
    t.is(readFileSync(join(root, 'etc/iproute2/rt_protos.d/tsnet.conf'), 'utf8'), '116 tsnet\n');
  }));

test('installed commands and plugins run in a clean environment outside the checkout', (t) =>
  withInstalledRoot(async (root) => {
    const bin = join(root, 'opt/tsnet/dist/bin');
    t.is(
      (await runInstalled(root, [join(bin, 'tsnet-agent'), '--version'])).stdout,
      `tsnet-agent ${VERSION}\n`,
    );
    t.is((await runInstalled(root, [join(bin, 'tsnetctl'), '--version'])).stdout, `tsnetctl ${VERSION}\n`);
    t.regex(
      (await runInstalled(root, [join(bin, 'tsnetctl'), '--help'])).stdout,
      /^Usage: tsnetctl \[options\] COMMAND/,
    );

    const cniBin = join(root, 'opt/cni/bin');
    const plugins = readdirSync(cniBin).filter((f) => f.startsWith('tsnet-') && f !== 'tsnet-native');
    t.deepEqual(plugins.sort(), readdirSync(join(REPO_ROOT, 'cni-plugins')).sort());
    for (const plugin of plugins) {
      const { stdout } = await runInstalled(root, [join(cniBin, plugin)], { CNI_COMMAND: 'VERSION' });
      t.true(
        (JSON.parse(stdout) as { supportedVersions: string[] }).supportedVersions.includes('1.1.0'),
        plugin,
      );
    }
    await withNetnses('inst', 1, async ([ctr]) => {
      const added = await addNoneFrom(cniBin, ctr!.path, 'installed');
      t.is(added.code, 0, added.stdout);
      t.like(added.json, { cniVersion: '1.0.0' });
    });
  }));

/** The unit's ExecStart as systemd would run it, its /opt/tsnet paths moved into `root`. */
function execStartIn(root: string, unit: SystemdUnit, env: Record<string, string>): string[] {
  return systemdArgv(unit.service['ExecStart'] ?? '', env).map((arg) =>
    arg.startsWith('/opt/tsnet/') ? join(root, arg) : arg,
  );
}

test("the unit's ExecStart starts an agent (in a test namespace) that gets ready and stops on SIGTERM", (t) =>
  withInstalledRoot((root) =>
    withNetnses('instag', 1, async ([node]) => {
      const unit = systemdUnit(readFileSync(join(root, 'etc/systemd/system/tsnet-agent.service'), 'utf8'));
      const envFile = (unit.service['EnvironmentFile'] ?? '').replace(/^-/, '');
      t.is(envFile, '/etc/default/tsnet-agent');
      const state = mkdtempSync(join(root, 'state-'));
      // The defaults file as installed, filled in the way the admin would.
      const env = {
        ...systemdEnvironmentFile(readFileSync(join(root, envFile), 'utf8')),
        TSNET_PUBLIC_IP: '198.18.0.1',
        TSNET_AGENT_ARGS: `--data-dir ${state} --run-dir ${state}/run --http 127.0.0.1:9180`,
      };
      const argv = execStartIn(root, unit, env);
      t.is(argv[0], '/usr/bin/node');
      // the bundle's own launcher line: #!/usr/bin/env -S MALLOC_ARENA_MAX=2 node FLAGS...
      const agentBin = join(root, 'opt/tsnet/dist/bin/tsnet-agent');
      const shebang = (readFileSync(agentBin, 'utf8').split('\n')[0] ?? '').split(' ');
      const flags = shebang.slice(shebang.indexOf('node') + 1);
      t.true(flags.includes('--max-semi-space-size=1'));
      t.deepEqual(
        argv.slice(1, 1 + flags.length),
        flags,
        'the memory flags the bundle carries in its shebang',
      );
      t.is(unit.service['Environment'], 'MALLOC_ARENA_MAX=2', "the shebang's malloc arena cap");
      t.is(argv[1 + flags.length], agentBin);

      ip(node!.path, 'link', 'set', 'lo', 'up');
      ip(node!.path, 'link', 'add', 'ul0', 'type', 'veth', 'peer', 'name', 'ul1');
      ip(node!.path, 'addr', 'add', '198.18.0.1/24', 'dev', 'ul0');
      ip(node!.path, 'link', 'set', 'ul0', 'up');
      ip(node!.path, 'link', 'set', 'ul1', 'up');
      await runInstalled(root, [
        join(root, 'opt/tsnet/dist/bin/tsnet-agent'),
        'init-network',
        '--network',
        '10.244.0.0/16',
        '--data-dir',
        state,
      ]);

      const [cmd, ...args] = hidingCheckout(['nsenter', `--net=${node!.path}`, ...argv]);
      const agent = spawn(cmd ?? '', args, {
        cwd: root,
        env: CLEAN_ENV,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      const ready = new Promise<boolean>((done) => {
        agent.stdout.on('data', (c: Buffer) => {
          log += c.toString();
          if (log.includes('"msg":"node ready"')) done(true);
        });
        agent.stderr.on('data', (c: Buffer) => {
          log += c.toString();
        });
        agent.on('close', () => done(false));
      });
      const exited = new Promise<number | null>((done) => agent.on('close', (code) => done(code)));
      try {
        t.true(await ready, log);
        t.true(existsSync(join(state, 'run', 'subnet.env')));
      } finally {
        agent.kill('SIGTERM');
      }
      t.is(await exited, 0, log);
    }),
  ));
