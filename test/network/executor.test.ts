// The libcni-like executor with test plugins beside ours: prevResult chaining, DEL (in reverse) after a
// failed ADD with the plugin's CNI error carried up, the VERSION check, CHECK against the cached result.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { CniExecError, parseConfList } from '../../pkg/network/cni-exec.ts';
import { ipLinks } from '../helpers/netns.ts';
import { REFERENCE_CNI } from '../helpers/plugin.ts';
import { withTempDir } from '../helpers/tmp.ts';
import { type NodeWorld, withNodeWorld } from './world.ts';

const CTR = 'c'.repeat(64);

/**
 * A test plugin: logs "<name> <command> <prevResult's first IP or ->" to `log`, answers VERSION with
 * `versions`, passes prevResult through on ADD, or fails ADD with a CNI error when `failAdd`.
 */
function writePlugin(dir: string, name: string, opts: { versions?: string[]; failAdd?: boolean } = {}): void {
  const versions = JSON.stringify(opts.versions ?? ['0.4.0', '1.0.0', '1.1.0']);
  const source = `#!${process.execPath}
const fs = require('node:fs');
const cmd = process.env.CNI_COMMAND;
const log = (text) => fs.appendFileSync(${JSON.stringify(join(dir, 'log'))}, text + '\\n');
if (cmd === 'VERSION') { log('${name} VERSION'); console.log(JSON.stringify({ cniVersion: '1.1.0', supportedVersions: ${versions} })); process.exit(0); }
const conf = JSON.parse(fs.readFileSync(0, 'utf8'));
log('${name} ' + cmd + ' ' + (conf.prevResult?.ips?.[0]?.address ?? '-'));
if (cmd === 'ADD' && ${opts.failAdd === true}) {
  console.log(JSON.stringify({ cniVersion: conf.cniVersion, code: 117, msg: 'no luck today', details: 'asked to fail' }));
  process.exit(1);
}
if (cmd === 'ADD') console.log(JSON.stringify(conf.prevResult ?? { cniVersion: conf.cniVersion, ips: [] }));
`;
  writeFileSync(join(dir, name), source);
  chmodSync(join(dir, name), 0o755);
}

function listOf(w: NodeWorld, name: string, extraPlugins: Record<string, unknown>[]) {
  const conf = {
    cniVersion: '1.1.0',
    name,
    plugins: [
      {
        type: 'tsnet-bridge',
        bridge: 'tsbrexec0',
        isGateway: true,
        ipam: { type: 'tsnet-ipam', subnet: '10.78.0.0/24', dataDir: join(w.dir, 'ipam') },
      },
      ...extraPlugins,
    ],
  };
  return parseConfList(Buffer.from(JSON.stringify(conf)), `${name} (test)`);
}

function readLog(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'log'), 'utf8').trim().split('\n');
  } catch {
    return [];
  }
}

async function withPlugins(fn: (pluginDir: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    mkdirSync(join(dir, 'bin'));
    await fn(join(dir, 'bin'));
  });
}

test('ADD chains prevResult through the list; DEL runs in reverse with the cached result; CHECK sees it too', async (t) => {
  await withPlugins(async (bin) => {
    writePlugin(bin, 'tst-pass');
    await withNodeWorld(
      1,
      async (w) => {
        const ctr = w.others[0]!;
        const list = listOf(w, 'chain', [{ type: 'tst-pass' }]);
        const rt = { containerId: CTR, netns: ctr.path, ifName: 'eth0' };
        const result = await w.executor.addNetworkList(list, rt);
        const address = result.ips?.[0]?.address ?? '';
        t.regex(address, /^10\.78\.0\.\d+\/24$/, 'the last plugin returned the bridge result it was given');
        await w.executor.checkNetworkList(list, rt);
        await w.executor.delNetworkList(list, rt);
        t.deepEqual(readLog(bin), [
          'tst-pass VERSION',
          `tst-pass ADD ${address}`,
          `tst-pass CHECK ${address}`,
          `tst-pass DEL ${address}`,
        ]);
        t.false(
          ipLinks(ctr.path).some((l) => l.ifname === 'eth0'),
          'the bridge plugin (DELed after tst-pass) removed eth0',
        );
      },
      { extraPluginDirs: [bin] },
    );
  });
});

test("a failed ADD is followed by DEL of the whole list (nothing left behind), the plugin's CNI error carried up", async (t) => {
  await withPlugins(async (bin) => {
    writePlugin(bin, 'tst-fail', { failAdd: true });
    await withNodeWorld(
      1,
      async (w) => {
        const ctr = w.others[0]!;
        const nodeLinks = ipLinks(w.node.path).map((l) => l.ifname);
        const list = listOf(w, 'failing', [{ type: 'tst-fail' }]);
        const err = await t.throwsAsync(
          w.executor.addNetworkList(list, { containerId: CTR, netns: ctr.path, ifName: 'eth0' }),
          { instanceOf: CniExecError },
        );
        t.is(err?.plugin, 'tst-fail');
        t.is(err?.command, 'ADD');
        t.deepEqual([err?.cni.code, err?.cni.msg, err?.cni.details], [117, 'no luck today', 'asked to fail']);
        const log = readLog(bin);
        t.regex(log[1] ?? '', /^tst-fail ADD 10\.78\.0\.\d+\/24$/, 'ADD got the bridge result');
        t.deepEqual(log.slice(2), [`tst-fail DEL ${prevOf(log[1])}`], 'then DEL, with what ADD had got');
        t.deepEqual(
          ipLinks(ctr.path).map((l) => l.ifname),
          ['lo'],
          'no interface left in the container',
        );
        // The bridge itself may stay (as docker0 does); no veth of this container does.
        const leftover = ipLinks(w.node.path).filter(
          (l) => !nodeLinks.includes(l.ifname) && l.ifname !== 'tsbrexec0',
        );
        t.deepEqual(leftover, [], 'no veth left on the node');
        const leases = readdirSync(join(w.dir, 'ipam', 'failing')).filter((f) => /^\d+\./.test(f));
        t.deepEqual(leases, [], 'the address went back');
        t.false(existsSync(w.cacheDir), 'nothing cached');
      },
      { extraPluginDirs: [bin] },
    );
  });
});

function prevOf(line: string | undefined): string {
  return line?.split(' ')[2] ?? '';
}

test("a plugin whose VERSION does not list the conflist's cniVersion is refused before it runs (code 1)", async (t) => {
  await withPlugins(async (bin) => {
    writePlugin(bin, 'tst-old', { versions: ['0.3.1', '0.4.0'] });
    await withNodeWorld(
      1,
      async (w) => {
        const ctr = w.others[0]!;
        const list = parseConfList(
          Buffer.from(
            JSON.stringify({ cniVersion: '1.1.0', name: 'oldnet', plugins: [{ type: 'tst-old' }] }),
          ),
          'oldnet',
        );
        const err = await t.throwsAsync(
          w.executor.addNetworkList(list, { containerId: CTR, netns: ctr.path, ifName: 'eth0' }),
          { instanceOf: CniExecError },
        );
        t.is(err?.cni.code, 1);
        t.is(err?.cni.msg, 'incompatible CNI versions');
        t.false(
          readLog(bin).some((l) => l.startsWith('tst-old ADD')),
          'ADD never ran',
        );
      },
      { extraPluginDirs: [bin] },
    );
  });
});

test("the reference tuning plugin chained after ours reads our prevResult (a libcni consumer's view of the list)", async (t) => {
  await withNodeWorld(
    1,
    async (w) => {
      const ctr = w.others[0]!;
      const conf = {
        cniVersion: '1.0.0',
        name: 'tuned',
        plugins: [
          {
            type: 'tsnet-bridge',
            bridge: 'tsbrtune0',
            isGateway: true,
            ipam: { type: 'tsnet-ipam', subnet: '10.79.9.0/24', dataDir: join(w.dir, 'ipam') },
          },
          { type: 'tuning', mtu: 1300 },
        ],
      };
      const list = parseConfList(Buffer.from(JSON.stringify(conf)), 'tuned (test)');
      const rt = { containerId: CTR, netns: ctr.path, ifName: 'eth0' };
      const result = await w.executor.addNetworkList(list, rt);
      t.regex(result.ips?.[0]?.address ?? '', /^10\.79\.9\.\d+\/24$/, 'tuning passed our result on');
      t.is(ipLinks(ctr.path).find((l) => l.ifname === 'eth0')?.mtu, 1300, 'tuning found eth0 through it');
      await w.executor.checkNetworkList(list, rt);
      await w.executor.delNetworkList(list, rt);
      t.false(ipLinks(ctr.path).some((l) => l.ifname === 'eth0'));
    },
    { extraPluginDirs: [REFERENCE_CNI] },
  );
});
