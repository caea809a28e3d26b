// A plugin copied without its native module (dist/cni/tsnet-native) says exactly that, on every verb that
// needs the module, instead of blaming CNI_NETNS on ADD or "succeeding" on DEL without cleaning up.
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { ipLinks, type TestNetns, uniqueIfname, withNetnses } from '../helpers/netns.ts';
import { DIST_CNI, type PluginCall, type PluginOutcome, runPlugin } from '../helpers/plugin.ts';
import { withTempDir } from '../helpers/tmp.ts';

const PLUGINS = ['tsnet-bridge', 'tsnet-host', 'tsnet-macvlan', 'tsnet-none'];

/**
 * `dir` holding the plugins without the tsnet-native directory, as a copy that skips directories leaves them
 * (the launchers, the bundles they and the native forwarders run, package.json: every file of dist/cni).
 */
async function copyWithoutNative(dir: string): Promise<void> {
  for (const entry of await readdir(DIST_CNI, { withFileTypes: true }))
    if (entry.isFile()) await copyFile(join(DIST_CNI, entry.name), join(dir, entry.name));
}

function assertNativeMissing(t: import('ava').ExecutionContext, out: PluginOutcome, what: string): void {
  t.is(out.code, 1, `${what}: ${out.stdout}${out.stderr}`);
  t.is(out.json?.['code'], 999, what);
  t.regex(String(out.json?.['msg']), /native module \(koffi\) cannot be loaded: .*tsnet-native/, what);
  t.notRegex(out.stdout, /is not a network namespace/, what);
}

test('ADD and CHECK of every namespace-handling plugin without its native module: code 999 naming it', async (t) =>
  withTempDir((dir) =>
    withNetnses('nonat', 2, async ([node, ctr]) => {
      await copyWithoutNative(dir);
      for (const type of PLUGINS) {
        const config = { cniVersion: '1.0.0', name: 'nonative', type, master: 'lo' };
        for (const command of ['ADD', 'CHECK'] as const) {
          const call: PluginCall = {
            command,
            config: command === 'CHECK' ? { ...config, prevResult: { cniVersion: '1.0.0' } } : config,
            dir,
            nodeNetns: node!.path,
            containerId: 'nonative',
            netns: ctr!.path,
            ifname: 'eth0',
          };
          assertNativeMissing(t, await runPlugin(type, call), `${type} ${command}`);
        }
      }
      // VERSION needs no native module and still answers.
      const version = await runPlugin('tsnet-bridge', {
        command: 'VERSION',
        dir,
        config: { cniVersion: '1.0.0' },
      });
      t.is(version.code, 0);
    }),
  ));

test('DEL by a plugin without its native module fails naming it and leaves the attachment for a real DEL', async (t) =>
  withTempDir((dataDir) =>
    withTempDir((dir) =>
      withNetnses('nonatd', 2, async ([node, ctr]: TestNetns[]) => {
        await copyWithoutNative(dir);
        const conf = {
          cniVersion: '1.0.0',
          name: 'nonative',
          type: 'tsnet-bridge',
          bridge: uniqueIfname('tsbr'),
          ipam: { type: 'tsnet-ipam', subnet: '10.250.0.0/24', dataDir },
        };
        const call = (command: 'ADD' | 'DEL', from: string): Promise<PluginOutcome> =>
          runPlugin('tsnet-bridge', {
            command,
            config: conf,
            dir: from,
            cniPath: `${from}:${DIST_CNI}`,
            nodeNetns: node!.path,
            containerId: 'nonative',
            netns: ctr!.path,
            ifname: 'eth0',
          });
        const added = await call('ADD', DIST_CNI);
        t.is(added.code, 0, added.stdout);

        assertNativeMissing(t, await call('DEL', dir), 'DEL');
        t.true(
          ipLinks(ctr!.path).some((l) => l.ifname === 'eth0'),
          'the container interface is still there: nothing claimed a cleanup it did not do',
        );

        const deleted = await call('DEL', DIST_CNI);
        t.is(deleted.code, 0, deleted.stdout);
        t.false(ipLinks(ctr!.path).some((l) => l.ifname === 'eth0'));
      }),
    ),
  ));
