import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { CniError, ErrorCode } from '../../pkg/cni/errors.ts';
import { ipamAdd, ipamDel, ipamGc } from '../../pkg/ipam/index.ts';
import { addressOf, allocationFiles, config, inTempDir } from './helpers.ts';

// Two networks on one node subnet (the cluster overlay `tsnet` and a user overlay), as tsnet-vxlan sets them up.
const RANGE = { ranges: [[{ subnet: '10.40.1.0/29', gateway: '10.40.1.1' }]], sharedPool: true };
const poolConf = (dir: string, name: string) => config(dir, RANGE, { name });
const attach = (containerID: string) => ({ containerID, ifname: 'eth0' });
const add = async (conf: ReturnType<typeof poolConf>, id: string) =>
  addressOf((await ipamAdd(conf, attach(id))).ips[0]?.address);

test('networks of one shared pool never hand out the same address, and exhaust it together', async (t) => {
  await inTempDir(async (dir) => {
    const tsnet = poolConf(dir, 'tsnet');
    const user = poolConf(dir, 'web');
    const got = [await add(tsnet, 'a'), await add(user, 'b'), await add(tsnet, 'c'), await add(user, 'd')];
    got.push(await add(user, 'e'));
    t.deepEqual([...got].sort(), ['10.40.1.2', '10.40.1.3', '10.40.1.4', '10.40.1.5', '10.40.1.6']);
    const err = await t.throwsAsync(ipamAdd(tsnet, attach('f')), { instanceOf: CniError });
    t.is(err?.code, ErrorCode.TryAgainLater);
    // Each network keeps its own host-local records.
    t.is(allocationFiles(dir, 'tsnet').size, 2);
    t.is(allocationFiles(dir, 'web').size, 3);
  });
});

test("one network's GC and DEL release only its own records; the other's addresses stay taken", async (t) => {
  await inTempDir(async (dir) => {
    const tsnet = poolConf(dir, 'tsnet');
    const user = poolConf(dir, 'web');
    const kept = await add(tsnet, 'a');
    const userIp = await add(user, 'b');
    t.deepEqual(await ipamGc(user, []), [userIp], "the user network's GC with no valid attachment");
    t.deepEqual(await ipamDel(user, attach('a')), [], "a DEL on the user network never frees tsnet's record");
    t.true(allocationFiles(dir, 'tsnet').has(kept));
    for (const id of ['c', 'd', 'e', 'f']) t.not(await add(user, id), kept);
  });
});

test('a requested address another network of the pool holds is refused; a network made before the pool counts', async (t) => {
  await inTempDir(async (dir) => {
    // A directory left by an older tsnet-vxlan, whose records name no pool.
    mkdirSync(join(dir, 'old'));
    writeFileSync(join(dir, 'old', '10.40.1.2'), 'legacy-container\r\neth0');
    const user = poolConf(dir, 'web');
    t.not(await add(user, 'a'), '10.40.1.2');
    const requested = config(dir, { ...RANGE }, { name: 'web', args: { cni: { ips: ['10.40.1.2'] } } });
    const err = await t.throwsAsync(ipamAdd(requested, attach('b')), { instanceOf: CniError });
    t.regex(err?.message ?? '', /10\.40\.1\.2 is not available/);
  });
});

test('without sharedPool two networks on one data dir keep host-local semantics (separate spaces)', async (t) => {
  await inTempDir(async (dir) => {
    const plain = (name: string) => config(dir, { ranges: RANGE.ranges }, { name });
    t.is(await add(plain('one'), 'a'), await add(plain('two'), 'b'));
  });
});

test('ipam.sharedPool must be a boolean', (t) => {
  const err = t.throws(() => config('/tmp/x', { ...RANGE, sharedPool: 'yes' }), { instanceOf: CniError });
  t.is(err?.code, ErrorCode.InvalidNetworkConfig);
  t.regex(err?.message ?? '', /sharedPool must be a boolean/);
});
