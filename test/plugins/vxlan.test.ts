import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listMasquerade } from '../../pkg/nft/index.ts';
import { ipJson, ipLinks, type TestNetns, withNetnses } from '../helpers/netns.ts';
import { runPlugin } from '../helpers/plugin.ts';
import { testOnBothPaths as test } from '../helpers/plugin-paths.ts';
import { withTempDir } from '../helpers/tmp.ts';

function vxlanConf(dir: string) {
  return {
    cniVersion: '1.1.0',
    name: 'tsnet',
    type: 'tsnet-vxlan',
    subnetFile: join(dir, 'subnet.env'),
    dataDir: join(dir, 'data'),
    bridge: 'tsnvx0',
  };
}

/** One tsnet-vxlan call on the test's node: an attachment verb for container `ctr`, or STATUS. */
function vxlan(
  command: 'ADD' | 'DEL' | 'STATUS',
  conf: Record<string, unknown>,
  node: TestNetns,
  ctr?: TestNetns,
  containerId = 'c1',
) {
  return runPlugin('tsnet-vxlan', {
    config: conf,
    nodeNetns: node.path,
    command,
    ...(ctr ? { containerId, netns: ctr.path, ifname: 'eth0' } : {}),
  });
}

const SUBNET_ENV =
  'TSNET_NETWORK=10.244.0.0/16\nTSNET_SUBNET=10.244.7.1/24\nTSNET_MTU=1450\nTSNET_IPMASQ=true\n';

/** Addresses held in the IPAM store tsnet-vxlan delegates to. */
function heldAddresses(conf: ReturnType<typeof vxlanConf>): string[] {
  const ipamDir = join(conf.dataDir, 'ipam', 'tsnet');
  return existsSync(ipamDir) ? readdirSync(ipamDir).filter((f) => /^\d/.test(f)) : [];
}

function delegateFiles(conf: ReturnType<typeof vxlanConf>): string[] {
  const dir = join(conf.dataDir, 'delegates');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

test('before the agent wrote subnet.env: ADD is "try again later" (11) and STATUS 50, nothing is created', async (t) => {
  await withTempDir((dir) =>
    withNetnses('vx', 2, async ([node, ctr]) => {
      const conf = vxlanConf(dir);
      const add = await vxlan('ADD', conf, node!, ctr!);
      t.is(add.code, 1);
      t.is(add.json?.['code'], 11);
      t.regex(String(add.json?.['msg']), /tsnet-agent is not ready/);
      const status = await vxlan('STATUS', conf, node!);
      t.is(status.json?.['code'], 50);
      t.deepEqual(
        ipLinks(node!.path).map((l) => l.ifname),
        ['lo'],
      );
      const del = await vxlan('DEL', conf, node!, ctr!);
      t.is(del.code, 0, 'DEL of an attachment never made succeeds');
    }),
  );
});

test('with subnet.env: the pod gets the node subnet, overlay MTU and a route to the cluster; DEL works after subnet.env is gone', async (t) => {
  await withTempDir((dir) =>
    withNetnses('vx', 2, async ([node, ctr]) => {
      const conf = vxlanConf(dir);
      writeFileSync(
        conf.subnetFile,
        'TSNET_NETWORK=10.244.0.0/16\nTSNET_SUBNET=10.244.7.1/24\nTSNET_MTU=1450\nTSNET_IPMASQ=true\n',
      );
      const status = await vxlan('STATUS', conf, node!);
      t.is(status.code, 0, status.stdout);
      const add = await vxlan('ADD', conf, node!, ctr!);
      t.is(add.code, 0, add.stdout + add.stderr);
      t.deepEqual(add.json?.['ips'], [{ interface: 2, address: '10.244.7.2/24', gateway: '10.244.7.1' }]);
      t.is(ipLinks(ctr!.path).find((l) => l.ifname === 'eth0')?.mtu, 1450);
      const routes = ipJson<{ dst: string; gateway?: string }[]>(ctr!.path, 'route', 'show');
      t.true(
        routes.some((r) => r.dst === '10.244.0.0/16' && r.gateway === '10.244.7.1'),
        'route to the cluster network',
      );
      t.true(routes.some((r) => r.dst === 'default' && r.gateway === '10.244.7.1'));

      rmSync(conf.subnetFile);
      const del = await vxlan('DEL', conf, node!, ctr!);
      t.is(del.code, 0, del.stdout);
      t.false(ipLinks(ctr!.path).some((l) => l.ifname === 'eth0'));
      const ipamDir = join(conf.dataDir, 'ipam', 'tsnet');
      const held = existsSync(ipamDir) ? readdirSync(ipamDir).filter((f) => /^\d/.test(f)) : [];
      t.deepEqual(held, [], 'the address was released with the config saved at ADD');
    }),
  );
});

test('with an agent that does not masquerade, the bridge does, but never for traffic to other pods of the cluster', async (t) => {
  await withTempDir((dir) =>
    withNetnses('vx', 2, async ([node, ctr]) => {
      const conf = vxlanConf(dir);
      writeFileSync(
        conf.subnetFile,
        'TSNET_NETWORK=10.244.0.0/16\nTSNET_SUBNET=10.244.7.1/24\nTSNET_MTU=1450\nTSNET_IPMASQ=false\n',
      );
      const add = await vxlan('ADD', conf, node!, ctr!);
      t.is(add.code, 0, add.stdout + add.stderr);
      const masq = await listMasquerade(node!.path);
      t.deepEqual(
        masq.map((m) => [m.network, m.subnets]),
        [['tsnet', ['10.244.7.0/24']]],
      );
      t.true(
        masq[0]!.excluded.some((e) => e.subnet === '10.244.7.0/24' && e.destination === '10.244.0.0/16'),
        'the cluster network is excluded',
      );
      const del = await vxlan('DEL', conf, node!, ctr!);
      t.is(del.code, 0);
    }),
  );
});

test('a container ID of 300 characters: ADD, DEL and DEL of an attachment never made succeed (delegate named by a hash)', async (t) => {
  await withTempDir((dir) =>
    withNetnses('vx', 2, async ([node, ctr]) => {
      const conf = vxlanConf(dir);
      const id = `c${'0123456789'.repeat(30)}`;
      const neverMade = await vxlan('DEL', conf, node!, ctr!, id);
      t.is(neverMade.code, 0, `DEL without subnet.env: ${neverMade.stdout}${neverMade.stderr}`);
      writeFileSync(conf.subnetFile, SUBNET_ENV);
      const neverMadeReady = await vxlan('DEL', conf, node!, ctr!, `d${id}`);
      t.is(neverMadeReady.code, 0, `DEL with subnet.env: ${neverMadeReady.stdout}${neverMadeReady.stderr}`);

      const add = await vxlan('ADD', conf, node!, ctr!, id);
      t.is(add.code, 0, add.stdout + add.stderr);
      t.deepEqual(delegateFiles(conf), [`${createHash('sha256').update(id).digest('hex')}.eth0.json`]);
      t.deepEqual(heldAddresses(conf), ['10.244.7.2']);
      const del = await vxlan('DEL', conf, node!, ctr!, id);
      t.is(del.code, 0, del.stdout + del.stderr);
      t.deepEqual(delegateFiles(conf), []);
      t.deepEqual(heldAddresses(conf), []);
      t.false(ipLinks(ctr!.path).some((l) => l.ifname === 'eth0'));
    }),
  );
});

test('a delegate saved under the old name (<containerID>:<ifname>.json) still serves DEL after an upgrade', async (t) => {
  await withTempDir((dir) =>
    withNetnses('vx', 2, async ([node, ctr]) => {
      const conf = vxlanConf(dir);
      writeFileSync(conf.subnetFile, SUBNET_ENV);
      t.is((await vxlan('ADD', conf, node!, ctr!)).code, 0);
      const [saved] = delegateFiles(conf);
      renameSync(
        join(conf.dataDir, 'delegates', saved ?? ''),
        join(conf.dataDir, 'delegates', 'c1:eth0.json'),
      );
      rmSync(conf.subnetFile); // DEL can only know the subnet from the saved delegate
      const del = await vxlan('DEL', conf, node!, ctr!);
      t.is(del.code, 0, del.stdout + del.stderr);
      t.deepEqual(heldAddresses(conf), [], 'released with the old-named delegate');
      t.deepEqual(delegateFiles(conf), []);
    }),
  );
});

test("a delegate temporary left by a killed writer is removed by the next ADD and by GC; a live writer's stays", async (t) => {
  await withTempDir((dir) =>
    withNetnses('vx', 2, async ([node, ctr]) => {
      const conf = vxlanConf(dir);
      writeFileSync(conf.subnetFile, SUBNET_ENV);
      const delegates = join(conf.dataDir, 'delegates');
      mkdirSync(delegates, { recursive: true });
      const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
        encoding: 'utf8',
      });
      const orphan = `.0abc.eth0.json.tmp-${exited.stdout}-0badc0de`;
      const live = `.0abc.eth1.json.tmp-${process.pid}-0badc0de`;
      writeFileSync(join(delegates, orphan), '{');
      writeFileSync(join(delegates, live), '{');
      t.is((await vxlan('ADD', conf, node!, ctr!)).code, 0);
      t.false(delegateFiles(conf).includes(orphan), 'ADD removed the orphan');
      t.true(delegateFiles(conf).includes(live));
      writeFileSync(join(delegates, orphan), '{');
      const gc = await runPlugin('tsnet-vxlan', {
        config: { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }] },
        nodeNetns: node!.path,
        command: 'GC',
      });
      t.is(gc.code, 0, gc.stdout + gc.stderr);
      t.false(delegateFiles(conf).includes(orphan), 'GC removed the orphan');
      t.is((await vxlan('DEL', conf, node!, ctr!)).code, 0);
    }),
  );
});

test('tsnet and a user overlay network on one node subnet never get the same address (one shared pool)', async (t) => {
  await withTempDir((dir) =>
    withNetnses('vx', 3, async ([node, a, b]) => {
      const conf = vxlanConf(dir);
      const user = { ...conf, name: 'user-overlay' };
      writeFileSync(conf.subnetFile, SUBNET_ENV);
      const first = await vxlan('ADD', conf, node!, a!, 'c1');
      t.is(first.code, 0, first.stdout + first.stderr);
      const second = await vxlan('ADD', user, node!, b!, 'c2');
      t.is(second.code, 0, second.stdout + second.stderr);
      const ip = (out: string) => (JSON.parse(out) as { ips: { address: string }[] }).ips[0]?.address;
      t.not(ip(second.stdout), ip(first.stdout));
      t.is((await vxlan('DEL', user, node!, b!, 'c2')).code, 0);
      t.is((await vxlan('DEL', conf, node!, a!, 'c1')).code, 0);
      t.deepEqual(heldAddresses(conf), []);
    }),
  );
});

test('GC of one overlay network keeps the delegates of another network on the same data dir (a user overlay beside tsnet)', async (t) => {
  await withTempDir((dir) =>
    withNetnses('vx', 2, async ([node, ctr]) => {
      const conf = vxlanConf(dir);
      writeFileSync(conf.subnetFile, SUBNET_ENV);
      t.is((await vxlan('ADD', conf, node!, ctr!)).code, 0);
      const before = delegateFiles(conf);
      t.is(before.length, 1);
      // another network's GC, with none of its own attachments valid: tsnet's delegate is not its to remove
      const gc = await runPlugin('tsnet-vxlan', {
        config: { ...conf, name: 'user-overlay', 'cni.dev/valid-attachments': [] },
        nodeNetns: node!.path,
        command: 'GC',
      });
      t.is(gc.code, 0, gc.stdout + gc.stderr);
      t.deepEqual(delegateFiles(conf), before, "tsnet's delegate stays");
      const own = await runPlugin('tsnet-vxlan', {
        config: { ...conf, 'cni.dev/valid-attachments': [] },
        nodeNetns: node!.path,
        command: 'GC',
      });
      t.is(own.code, 0, own.stdout + own.stderr);
      t.deepEqual(delegateFiles(conf), [], "tsnet's own GC with nothing valid removes it");
      t.is((await vxlan('DEL', conf, node!, ctr!)).code, 0);
    }),
  );
});
