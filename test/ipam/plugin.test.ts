// The tsnet-ipam plugin through the CNI dispatcher, in-process: env and stdin in, spec JSON and codes out.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { servePlugin } from '../../pkg/cni/skel.ts';
import { tsnetIpam } from '../../pkg/ipam/plugin.ts';
import { allocationFiles, cniEnv, inTempDir, netconf } from './helpers.ts';

function invoke(command: string, conf: object | string, containerID = 'ctr1', cniArgs = '') {
  return servePlugin(tsnetIpam, {
    env: cniEnv(command, containerID, cniArgs),
    stdin: typeof conf === 'string' ? conf : JSON.stringify(conf),
  });
}

test('ADD honours CNI_ARGS IP=, GC keeps only valid attachments, DEL prints nothing', async (t) => {
  await inTempDir(async (dir) => {
    const conf = netconf(dir, { subnet: '10.50.0.0/24' });
    const add = await invoke('ADD', conf, 'a', 'IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.50.0.77');
    t.is(add.exitCode, 0, add.stdout);
    t.like(JSON.parse(add.stdout), {
      cniVersion: '1.1.0',
      ips: [{ address: '10.50.0.77/24', gateway: '10.50.0.1' }],
    });
    t.is((await invoke('ADD', conf, 'b')).exitCode, 0);
    const gc = await invoke('GC', {
      ...conf,
      'cni.dev/valid-attachments': [{ containerID: 'b', ifname: 'eth0' }],
    });
    t.is(gc.exitCode, 0, gc.stdout);
    t.deepEqual([...allocationFiles(dir).keys()], ['10.50.0.78']);
    const del = await invoke('DEL', conf, 'b');
    t.deepEqual([del.exitCode, del.stdout], [0, '']);
    t.deepEqual([(await invoke('DEL', conf, 'b')).exitCode], [0]);
    t.is(allocationFiles(dir).size, 0);
  });
});

test('bad input gets the spec error JSON with the right code and leaves nothing behind', async (t) => {
  await inTempDir(async (dir) => {
    const cases: [object | string, number, RegExp, string?][] = [
      ['{not json', 6, /error decoding/],
      [netconf(dir, { subnet: '10.51.0.0/33' }), 7, /not a valid CIDR/],
      [
        netconf(dir, { subnet: '10.51.0.0/24', gateway: '10.52.0.1' }),
        7,
        /gateway 10\.52\.0\.1 is not in network/,
      ],
      [
        netconf(dir, { subnet: '10.51.0.0/24' }),
        4,
        /unknown CNI_ARGS keys \[K8S_POD_NAME\]/,
        'K8S_POD_NAME=x',
      ],
      [netconf(dir, { subnet: '10.51.0.0/24' }), 7, /is not an IP address/, 'IP=banana'],
    ];
    for (const [conf, code, pattern, cniArgs] of cases) {
      const out = await invoke('ADD', conf, 'ctr1', cniArgs);
      t.is(out.exitCode, 1);
      const err = JSON.parse(out.stdout) as { code: number; msg: string };
      t.is(err.code, code, out.stdout);
      t.regex(`${err.msg}`, pattern);
    }
    const badId = await invoke('ADD', netconf(dir, { subnet: '10.51.0.0/24' }), '../etc');
    t.is(JSON.parse(badId.stdout).code, 4);
    t.is(allocationFiles(dir).size, 0);
  });
});

test('exhaustion is code 11 on ADD and 50 on STATUS', async (t) => {
  await inTempDir(async (dir) => {
    const conf = netconf(dir, { subnet: '10.53.0.0/30' });
    t.is((await invoke('STATUS', conf)).exitCode, 0);
    t.is((await invoke('ADD', conf, 'a')).exitCode, 0);
    const full = await invoke('ADD', conf, 'b');
    t.like(JSON.parse(full.stdout), {
      code: 11,
      msg: 'no IP addresses available in range set: 10.53.0.1-10.53.0.2',
    });
    t.like(JSON.parse((await invoke('STATUS', conf)).stdout), { code: 50 });
  });
});

test('allocations written by host-local before 0.7 (container ID only) are released by DEL for any ifname', async (t) => {
  await inTempDir(async (dir) => {
    const conf = netconf(dir, { subnet: '10.54.0.0/24' });
    t.is((await invoke('ADD', conf, 'new')).exitCode, 0);
    writeFileSync(join(dir, 'testnet', '10.54.0.9'), 'old\n');
    t.is((await invoke('CHECK', conf, 'old')).exitCode, 0);
    t.is((await invoke('DEL', conf, 'old')).exitCode, 0);
    t.deepEqual([...allocationFiles(dir).keys()], ['10.54.0.2']);
  });
});
