// Crash safety of the allocation store: tsnet-ipam SIGKILLed at named points of a reservation (fault
// injection, not a guessed delay) leaves nothing that the next ADD, DEL or GC does not recover; an empty
// record (what a writer killed between create and write used to leave, and host-local still can) is released.
import { lstatSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { CniError, ErrorCode } from '../../pkg/cni/errors.ts';
import { DiskStore, ipamAdd, ipamDel, ipamGc, ipamStatus } from '../../pkg/ipam/index.ts';
import { FAULT_ENV, faultMarker } from '../../pkg/testing/fault.ts';
import { runPlugin } from '../helpers/plugin.ts';
import { addressOf, allocationFiles, config, inTempDir, netconf } from './helpers.ts';

// A /29 less network, broadcast and gateway: 10.60.0.2-.6, five addresses.
const SUBNET = { subnet: '10.60.0.0/29' };

function ipam(command: 'ADD' | 'DEL' | 'GC', dir: string, containerId: string, fault?: string) {
  return runPlugin('tsnet-ipam', {
    command,
    config:
      command === 'GC' ? { ...netconf(dir, SUBNET), 'cni.dev/valid-attachments': [] } : netconf(dir, SUBNET),
    containerId,
    netns: '/var/run/netns/unused',
    ifname: 'eth0',
    ...(fault ? { env: { [FAULT_ENV]: fault } } : {}),
  });
}

/** Everything in the network's directory but the lock and the cursors: records and temporaries. */
function networkFiles(dir: string): string[] {
  return readdirSync(join(dir, 'testnet'))
    .filter((n) => n !== 'lock' && !n.startsWith('last_reserved_ip.'))
    .sort();
}

/** The allocation records (not the temporaries a killed writer leaves; the next lock holder removes them). */
function records(dir: string): [string, string][] {
  return [...allocationFiles(dir)].filter(([name]) => !name.startsWith('.'));
}

test('killed after the record is written but before it is linked: no allocation, and the orphan goes at the next ADD', async (t) => {
  await inTempDir(async (dir) => {
    const killed = await ipam('ADD', dir, 'victim', 'exclusive-create-before-link');
    t.is(killed.signal, 'SIGKILL');
    t.true(killed.stderr.includes(faultMarker('exclusive-create-before-link')), killed.stderr);
    // The record's temporary, and the cursor's when it was written by then (the two are written at once).
    const left = networkFiles(dir);
    t.true(
      left.some((n) => /^\.10\.60\.0\.2\.tmp-\d+-[0-9a-f]{8}$/.test(n)),
      left.join(' '),
    );
    t.true(
      left.every((n) => /^\.(10\.60\.0\.2|last_reserved_ip\.0)\.tmp-\d+-[0-9a-f]{8}$/.test(n)),
      left.join(' '),
    );
    t.is(allocationFiles(dir).get('10.60.0.2') ?? 'absent', 'absent', 'no address is taken');

    const next = await ipam('ADD', dir, 'next');
    t.is(next.code, 0, next.stdout + next.stderr);
    t.is(addressOf((next.json?.['ips'] as { address: string }[] | undefined)?.[0]?.address), '10.60.0.2');
    t.deepEqual(networkFiles(dir), ['10.60.0.2'], 'the orphaned temporary is gone');
  });
});

test('killed right after the reservation: the record is complete and names its owner, whose DEL releases it', async (t) => {
  await inTempDir(async (dir) => {
    const killed = await ipam('ADD', dir, 'victim', 'ipam-after-reserve');
    t.is(killed.signal, 'SIGKILL');
    t.true(killed.stderr.includes(faultMarker('ipam-after-reserve')), killed.stderr);
    t.deepEqual(records(dir), [['10.60.0.2', 'victim\r\neth0']]);
    const del = await ipam('DEL', dir, 'victim');
    t.is(del.code, 0, del.stdout + del.stderr);
    t.deepEqual(networkFiles(dir), []);

    // The same kill again, this time recovered by GC (the runtime lost the container).
    t.is((await ipam('ADD', dir, 'victim2', 'ipam-after-reserve')).signal, 'SIGKILL');
    t.is(records(dir).length, 1);
    const gc = await ipam('GC', dir, 'unused');
    t.is(gc.code, 0, gc.stdout + gc.stderr);
    t.deepEqual(networkFiles(dir), []);
  });
});

test('empty records (a writer killed between create and write) are released by DEL, GC and ADD, so the range does not run out', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, SUBNET);
    const fill = async () => {
      // Every address of the range held by an empty record (whitespace only counts as empty too).
      await ipamAdd(conf, { containerID: 'seed', ifname: 'eth0' });
      await ipamDel(conf, { containerID: 'seed', ifname: 'eth0' });
      for (const last of [2, 3, 4, 5, 6])
        writeFileSync(join(dir, 'testnet', `10.60.0.${last}`), last === 6 ? '\n' : '');
    };
    await fill();
    await t.throwsAsync(ipamStatus(conf), { message: /no IP addresses available/ }, 'they hold the range');
    t.is((await ipamDel(conf, { containerID: 'someone', ifname: 'eth0' })).length, 5, 'DEL releases them');
    t.deepEqual(networkFiles(dir), []);

    await fill();
    t.is((await ipamGc(conf, [{ containerID: 'other', ifname: 'eth0' }])).length, 5, 'GC releases them');
    t.deepEqual(networkFiles(dir), []);

    await fill();
    const add = await ipamAdd(conf, { containerID: 'new', ifname: 'eth0' });
    t.regex(add.ips[0]?.address ?? '', /^10\.60\.0\.[2-6]\/29$/, 'ADD gets an address instead of code 11');
    t.deepEqual([...allocationFiles(dir).values()], ['new\r\neth0'], 'and cleared the empty records');
  });
});

test('a container ID of 300 characters: tsnet-ipam names files by IP, so ADD, DEL and GC work', async (t) => {
  await inTempDir(async (dir) => {
    const id = `c${'0123456789'.repeat(30)}`;
    const add = await ipam('ADD', dir, id);
    t.is(add.code, 0, add.stdout + add.stderr);
    t.deepEqual([...allocationFiles(dir)], [['10.60.0.2', `${id}\r\neth0`]]);
    const del = await ipam('DEL', dir, id);
    t.is(del.code, 0, del.stdout + del.stderr);
    t.deepEqual(networkFiles(dir), []);
    t.is((await ipam('ADD', dir, id)).code, 0);
    t.is((await ipam('GC', dir, id)).code, 0);
    t.deepEqual(networkFiles(dir), []);
  });
});

test('an unreadable record keeps its address from ADD and DEL (its owner is unknown) and is released by GC', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, SUBNET);
    await ipamAdd(conf, { containerID: 'first', ifname: 'eth0' });
    // A record that cannot be read (ELOOP): before, every ADD in the network failed with code 5.
    const unreadable = join(dir, 'testnet', '10.60.0.3');
    symlinkSync(unreadable, unreadable);
    const second = await ipamAdd(conf, { containerID: 'second', ifname: 'eth0' });
    t.is(second.ips[0]?.address, '10.60.0.4/29', 'the address of the unreadable record is skipped');
    await ipamDel(conf, { containerID: 'second', ifname: 'eth0' });
    t.true(lstatSync(unreadable).isSymbolicLink(), 'DEL cannot tell whose it is, and leaves it');
    const released = await ipamGc(conf, [{ containerID: 'first', ifname: 'eth0' }]);
    t.deepEqual(released, ['10.60.0.3'], 'GC: it belongs to no valid attachment');
    t.deepEqual(networkFiles(dir), ['10.60.0.2']);
  });
});

test('a reservation the disk cannot make durable is not handed out: ADD fails and the address is free again', async (t) => {
  await inTempDir(async (dir) => {
    const conf = config(dir, SUBNET);
    class FailingDisk extends DiskStore {
      override async sync(): Promise<void> {
        throw new CniError(ErrorCode.IoFailure, 'EIO, as a failing disk answers fsync');
      }
    }
    const owner = { containerID: 'unlucky', ifname: 'eth0' };
    const err = await t.throwsAsync(ipamAdd(conf, owner, { store: new FailingDisk(dir, 'testnet') }));
    t.regex(err?.message ?? '', /EIO/);
    t.deepEqual([...allocationFiles(dir)], [], 'nothing stays reserved');
    const next = await ipamAdd(conf, { containerID: 'next', ifname: 'eth0' });
    t.is(next.ips[0]?.address, '10.60.0.3/29', 'the round-robin moved on; the address itself was released');
  });
});
