// IPAM directories kept between lock holds, as tsnet-agent keeps them (pkg/ipam/kept-directories.ts): the
// allocation and crash suites run again in this process with keeping on, so every test there that changes a
// data dir behind the allocator's back (host-local's records written by hand, a crash's leftovers, records
// made by plugin processes) checks that the kept state follows the disk. The tests here change the
// directory in the ways the kernel's reports cannot describe name by name.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { ipamAdd, ipamDel } from '../../pkg/ipam/index.ts';
import { keptDirectory } from '../../pkg/ipam/kept-directories.ts';
import { addressOf, config, inTempDir } from './helpers.ts';

// Keeping first, then the suites whose tests run again with it (their crash tests that kill plugin
// processes exercise the plugins, not the kept state: those processes keep nothing).
import './fixtures/keep-directories.ts';
import './allocate.test.ts';
import './crash.test.ts';

const SUBNET = { ranges: [[{ subnet: '10.61.0.0/24', rangeStart: '10.61.0.10', rangeEnd: '10.61.0.20' }]] };
const attach = (containerID: string) => ({ containerID, ifname: 'eth0' });

/** What host-local does: a record written in place while holding the network's flock (flock(1) here). */
function foreignRecord(networkDir: string, ip: string, containerID: string): void {
  execFileSync('flock', [
    join(networkDir, 'lock'),
    'sh',
    '-c',
    'printf "%s\\r\\neth0" "$1" > "$2"',
    'sh',
    containerID,
    join(networkDir, ip),
  ]);
}

test('kept: records another process writes or removes between two ADDs are seen by the next', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, SUBNET);
    const net = join(dir, 'testnet');
    t.is(addressOf((await ipamAdd(conf, attach('a'))).ips[0]?.address), '10.61.0.10');
    const kept = keptDirectory(net);
    t.truthy(kept, 'the directory is kept after its first hold');
    foreignRecord(net, '10.61.0.11', 'hostlocal');
    rmSync(join(net, '10.61.0.10')); // a's record removed by someone else
    t.is(addressOf((await ipamAdd(conf, attach('b'))).ips[0]?.address), '10.61.0.12', ".11 is another's");
    const c = await ipamAdd({ ...conf, requestedIps: [{ family: 4, value: 0x0a3d000an }] }, attach('c'));
    t.is(addressOf(c.ips[0]?.address), '10.61.0.10', 'the removed record freed its address');
    t.is(keptDirectory(net), kept, 'all of it through the kept state, never dropped');
    await t.throwsAsync(ipamAdd(conf, attach('hostlocal')), { message: /duplicate allocation/ });
    t.is(keptDirectory(net), kept, 'a refused ADD wrote nothing: the state stays');
    // Our own plugin processes open the lock read-write: closing it is no change of the lock.
    execFileSync('python3', [
      '-c',
      `import fcntl,os; f=os.open(${JSON.stringify(join(net, 'lock'))}, os.O_RDWR); fcntl.flock(f, fcntl.LOCK_EX); os.close(f)`,
    ]);
    t.deepEqual(await ipamDel(conf, attach('hostlocal')), ['10.61.0.11']);
    t.is(keptDirectory(net), kept);
  });
});

test('kept: a directory deleted and made again, or a lock file replaced, is read afresh', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, SUBNET);
    const net = join(dir, 'testnet');
    await ipamAdd(conf, attach('a'));
    const first = keptDirectory(net);
    rmSync(net, { recursive: true });
    mkdirSync(net);
    writeFileSync(join(net, '10.61.0.11'), 'other\r\neth0');
    writeFileSync(join(net, 'last_reserved_ip.0'), '10.61.0.11');
    t.is(addressOf((await ipamAdd(conf, attach('b'))).ips[0]?.address), '10.61.0.12');
    t.not(keptDirectory(net), first, 'the old state was dropped');

    // The lock replaced: a lock held on the old file would not exclude the new one's holders.
    const second = keptDirectory(net);
    writeFileSync(join(net, 'lock.new'), '');
    renameSync(join(net, 'lock.new'), join(net, 'lock'));
    writeFileSync(join(net, '10.61.0.13'), 'third\r\neth0');
    t.is(addressOf((await ipamAdd(conf, attach('c'))).ips[0]?.address), '10.61.0.14');
    t.not(keptDirectory(net), second, 'the state of the replaced lock was dropped');
    t.deepEqual(await ipamDel(conf, attach('third')), ['10.61.0.13']);
  });
});

test('kept: a directory removed for good is let go at once, its lock file closed', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, SUBNET);
    const net = join(dir, 'testnet');
    await ipamAdd(conf, attach('a'));
    t.truthy(keptDirectory(net));
    rmSync(net, { recursive: true });
    // Any other kept directory's next hold reads the kernel's reports, the removal among them.
    const other = config(dir, SUBNET, { name: 'othernet' });
    await ipamAdd(other, attach('b'));
    t.is(keptDirectory(net), undefined);
  });
});
