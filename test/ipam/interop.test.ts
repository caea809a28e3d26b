// tsnet-ipam and the reference host-local take turns on one data dir: same files, same cursor, no collision.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { ipamAdd, ipamDel, loadIpamConfig } from '../../pkg/ipam/index.ts';
import { addressOf, allocationFiles, cniEnv, inTempDir, netconf } from './helpers.ts';

const HOST_LOCAL = '/usr/lib/cni/host-local';
const MAIN = join(import.meta.dirname, '..', '..', 'cni-plugins', 'tsnet-ipam', 'main.ts');

interface PluginRun {
  code: number;
  stdout: string;
}

function runPlugin(
  argv: string[],
  command: string,
  containerID: string,
  conf: object,
  cniArgs = '',
): Promise<PluginRun> {
  return new Promise((resolve) => {
    const env = { PATH: process.env.PATH ?? '', ...cniEnv(command, containerID, cniArgs) };
    const [file = '', ...args] = argv;
    const child = execFile(file, args, { env }, (err, stdout) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout });
    });
    child.stdin?.end(JSON.stringify(conf));
  });
}

const hostLocal = (command: string, id: string, conf: object, cniArgs?: string) =>
  runPlugin(
    [HOST_LOCAL],
    command,
    id,
    { ...conf, ipam: { ...(conf as { ipam: object }).ipam, type: 'host-local' } },
    cniArgs,
  );
const tsnetIpamMain = (command: string, id: string, conf: object) =>
  runPlugin([process.execPath, '--import=tsx', MAIN], command, id, conf);

function firstAddress(run: PluginRun): string {
  return addressOf((JSON.parse(run.stdout) as { ips: { address: string }[] }).ips[0]?.address);
}

const hasHostLocal = existsSync(HOST_LOCAL);

(hasHostLocal ? test : test.skip)(
  'host-local, then tsnet-ipam, then host-local again on one data dir',
  async (t) => {
    await inTempDir(async (dir) => {
      const raw = netconf(
        dir,
        { ranges: [[{ subnet: '10.40.0.0/28' }], [{ subnet: 'fd40::/124' }]] },
        { cniVersion: '1.0.0' },
      );
      const conf = loadIpamConfig(raw);
      const ours = async (id: string) =>
        addressOf((await ipamAdd(conf, { containerID: id, ifname: 'eth0' })).ips[0]?.address);

      t.is(firstAddress(await hostLocal('ADD', 'ref-a', raw)), '10.40.0.2');
      t.is(firstAddress(await hostLocal('ADD', 'ref-b', raw)), '10.40.0.3');
      // We continue host-local's round-robin from its last_reserved_ip files.
      t.is(await ours('ts-c'), '10.40.0.4');
      t.is(await ours('ts-d'), '10.40.0.5');
      // host-local continues ours, and sees our files as taken.
      t.is(firstAddress(await hostLocal('ADD', 'ref-e', raw)), '10.40.0.6');
      // host-local reads our file format: a second ADD for our container is its duplicate error.
      const dup = await hostLocal('ADD', 'ts-c', raw);
      t.not(dup.code, 0);
      t.regex(dup.stdout, /10\.40\.0\.4 has been allocated to ts-c/);

      // Release across implementations: we delete a host-local allocation, host-local deletes ours.
      t.deepEqual((await ipamDel(conf, { containerID: 'ref-a', ifname: 'eth0' })).sort(), [
        '10.40.0.2',
        'fd40::2',
      ]);
      t.is((await hostLocal('DEL', 'ts-c', raw)).code, 0);
      const files = allocationFiles(dir);
      t.deepEqual([...files.keys()].sort(), [
        '10.40.0.3',
        '10.40.0.5',
        '10.40.0.6',
        'fd40::3',
        'fd40::5',
        'fd40::6',
      ]);
      t.is(files.get('fd40::5'), 'ts-d\r\neth0');
      t.is(files.get('fd40::6'), 'ref-e\r\neth0');

      // The executable plugin and host-local agree on CHECK and on the result's shape.
      const viaMain = await tsnetIpamMain('ADD', 'ts-f', raw);
      t.is(viaMain.code, 0, viaMain.stdout);
      t.like(JSON.parse(viaMain.stdout), {
        cniVersion: '1.0.0',
        ips: [
          { address: '10.40.0.7/28', gateway: '10.40.0.1' },
          { address: 'fd40::7/124', gateway: 'fd40::1' },
        ],
      });
      t.is((await hostLocal('CHECK', 'ts-f', raw)).code, 0);
      t.is((await tsnetIpamMain('CHECK', 'ref-b', raw)).code, 0);
      t.is((await tsnetIpamMain('DEL', 'ref-b', raw)).code, 0);
      t.false(allocationFiles(dir).has('10.40.0.3'));
    });
  },
);

(hasHostLocal ? test : test.skip)(
  'round-robin wraps consistently when both fill a small range together',
  async (t) => {
    await inTempDir(async (dir) => {
      // .1 is the gateway: .2-.6 are the five addresses.
      const raw = netconf(dir, { ranges: [[{ subnet: '10.41.0.0/29' }]] }, { cniVersion: '1.0.0' });
      const conf = loadIpamConfig(raw);
      const owner = (id: string) => ({ containerID: id, ifname: 'eth0' });
      const seen: string[] = [];
      for (let i = 0; i < 5; i++) {
        if (i % 2 === 0) seen.push(firstAddress(await hostLocal('ADD', `c${i}`, raw)));
        else seen.push(addressOf((await ipamAdd(conf, owner(`c${i}`))).ips[0]?.address));
      }
      t.deepEqual(seen, ['10.41.0.2', '10.41.0.3', '10.41.0.4', '10.41.0.5', '10.41.0.6']);
      // Full: both refuse. Then free .3 with host-local; we find it by wrapping.
      t.not((await hostLocal('ADD', 'x', raw)).code, 0);
      await t.throwsAsync(ipamAdd(conf, owner('y')), { message: /no IP addresses available/ });
      t.is((await hostLocal('DEL', 'c1', raw)).code, 0);
      t.is(addressOf((await ipamAdd(conf, owner('y'))).ips[0]?.address), '10.41.0.3');
    });
  },
);
