// The build's output: one executable per cni-plugins/<type>/main.ts in dist/cni that answers VERSION with an
// empty environment and stdin, and `install-cni` copies that works outside the repository (koffi's native
// module travels with the plugins).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ipLinks, withNetnses } from '../helpers/netns.ts';
import { builtPlugin, DIST_CNI, REPO_ROOT, runPluginOk } from '../helpers/plugin.ts';

const PLUGIN_TYPES = readdirSync(join(REPO_ROOT, 'cni-plugins')).filter((name) =>
  existsSync(join(REPO_ROOT, 'cni-plugins', name, 'main.ts')),
);

const VERSION_REPLY = {
  cniVersion: '1.1.0',
  supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
};

/** `env -i CNI_COMMAND=VERSION file` with empty stdin, as a runtime probing the plugin does. */
function versionOf(file: string): unknown {
  const out = execFileSync('env', ['-i', 'CNI_COMMAND=VERSION', file], {
    input: '',
    encoding: 'utf8',
    cwd: '/',
  });
  return JSON.parse(out);
}

test('every plugin main has an executable bundle in dist/cni', (t) => {
  t.true(PLUGIN_TYPES.includes('tsnet-none') && PLUGIN_TYPES.includes('tsnet-macvlan'));
  for (const type of PLUGIN_TYPES) {
    const file = builtPlugin(type);
    t.is(statSync(file).mode & 0o777, 0o755, `${type} is 755`);
    t.true(statSync(file).isFile(), `${type} is one file`);
  }
});

test('VERSION works under env -i with empty stdin for every built plugin', (t) => {
  for (const type of PLUGIN_TYPES) t.deepEqual(versionOf(join(DIST_CNI, type)), VERSION_REPLY, type);
});

test('VERSION loads no native module (koffi is bound on the first libc call, which VERSION never makes)', (t) => {
  for (const type of PLUGIN_TYPES) {
    // NODE_DEBUG=module logs every CommonJS load on stderr: the oracle for what the bundle required.
    const run = spawnSync('env', ['-i', 'CNI_COMMAND=VERSION', 'NODE_DEBUG=module', join(DIST_CNI, type)], {
      input: '',
      encoding: 'utf8',
      cwd: '/',
    });
    t.is(run.status, 0, `${type}: ${run.stderr}`);
    t.deepEqual(JSON.parse(run.stdout), VERSION_REPLY, type);
    t.false(run.stderr.includes('tsnet-native'), `${type} loaded koffi's native module for VERSION`);
  }
});

test('install-cni copies plugins that work outside the repository', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsnt-install-'));
  try {
    const target = join(dir, 'opt', 'cni', 'bin');
    execFileSync('npx', ['tsx', join(REPO_ROOT, 'scripts', 'install-cni.ts'), target], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
    });
    for (const type of PLUGIN_TYPES) t.deepEqual(versionOf(join(target, type)), VERSION_REPLY, type);
    t.false(existsSync(join(target, 'package.json')), 'nothing but plugins and their native module');
    // A real ADD from the installed copy: the native module (setns, netlink sockets) loads from beside it.
    await withNetnses('inst', 1, async ([ns]) => {
      const out = await runPluginOk('tsnet-none', {
        command: 'ADD',
        containerId: 'c1',
        ifname: 'eth0',
        netns: ns!.path,
        dir: target,
        config: { cniVersion: '1.1.0', name: 'lo', type: 'tsnet-none' },
      });
      t.is((out.json as { interfaces: { name: string }[] }).interfaces[0]!.name, 'lo');
      t.true(ipLinks(ns!.path)[0]!.flags.includes('UP'));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
