// Several processes on one data dir: the flock serializes them, a SIGKILLed holder does not block anyone.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { ipamAdd } from '../../pkg/ipam/index.ts';
import { addressOf, allocationFiles, config, inTempDir, makeTempDir, netconf } from './helpers.ts';

const run = promisify(execFile);
const WORKER = join(import.meta.dirname, 'fixtures', 'ipam-worker.ts');

function worker(...args: string[]) {
  return run(process.execPath, ['--import=tsx', WORKER, ...args], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
  });
}

test('32 concurrent ADDs from separate processes get 32 distinct addresses; 32 DELs leave no allocation', async (t) => {
  await inTempDir(async (dir) => {
    const confFile = join(dir, 'conf.json');
    writeFileSync(
      confFile,
      JSON.stringify(netconf(dir, { ranges: [[{ subnet: '10.30.0.0/26' }], [{ subnet: 'fd30::/122' }]] })),
    );
    const ids = Array.from({ length: 32 }, (_, i) => `ctr${i}`);
    const results = await Promise.all(ids.map((id) => worker('add', confFile, id)));
    const ips = results.map((r) => JSON.parse(r.stdout) as { ips: { address: string }[] });
    const v4 = new Set(ips.map((r) => addressOf(r.ips[0]?.address)));
    const v6 = new Set(ips.map((r) => addressOf(r.ips[1]?.address)));
    t.is(v4.size, 32);
    t.is(v6.size, 32);
    const files = allocationFiles(dir);
    t.is(files.size, 64);
    // Every file names its owner, and the owner got exactly that address.
    ips.forEach((r, i) => {
      t.is(files.get(addressOf(r.ips[0]?.address)), `ctr${i}\r\neth0`);
    });
    await Promise.all(ids.map((id) => worker('del', confFile, id)));
    t.is(allocationFiles(dir).size, 0);
  });
});

function waitForLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(line)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before printing ${line}`)));
  });
}

test('the lock excludes other allocators, and a holder killed with SIGKILL does not block the next one', async (t) => {
  const { dir, cleanup } = makeTempDir();
  const confFile = join(dir, 'conf.json');
  writeFileSync(confFile, JSON.stringify(netconf(dir, { subnet: '10.31.0.0/24' })));
  const holder = spawn(process.execPath, ['--import=tsx', WORKER, 'hold-lock', confFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await waitForLine(holder, 'locked');
    let settled = false;
    const add = ipamAdd(config(dir, { subnet: '10.31.0.0/24' }), {
      containerID: 'after',
      ifname: 'eth0',
    }).finally(() => {
      settled = true;
    });
    // While the holder lives, the ADD waits for the lock (it cannot have completed).
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.false(settled);
    t.is(allocationFiles(dir).size, 0);
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.kill('SIGKILL');
    await exited;
    t.is((await add).ips[0]?.address, '10.31.0.2/24');
  } finally {
    holder.kill('SIGKILL');
    cleanup();
  }
});
