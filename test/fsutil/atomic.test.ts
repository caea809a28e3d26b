// pkg/fsutil: atomic state files, orphaned temporaries, a mkdir that always ends, kernel filesystems refused.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import {
  createFileExclusiveSync,
  parseTempName,
  removeOrphanedTemps,
  writeFileAtomic,
  writeFileAtomicSync,
} from '../../pkg/fsutil/atomic.ts';
import { makeDirectorySync } from '../../pkg/fsutil/mkdir.ts';
import { kernelFilesystemOf, stateLocationProblem } from '../../pkg/fsutil/paths.ts';
import { FAULT_ENV, faultMarker } from '../../pkg/testing/fault.ts';
import { withTempDir } from '../helpers/tmp.ts';

const WORKER = join(import.meta.dirname, 'fixtures', 'fsutil-worker.ts');

/** Runs the worker; the timeout only keeps a regression (an endless loop) from hanging the suite. */
function worker(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import=tsx', WORKER, ...args], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
}

/** A pid that no process has: a child that already exited and was reaped. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

test('writeFileAtomicSync and writeFileAtomic replace the content, with the mode asked, leaving no temporary', async (t) => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'state.json');
    writeFileAtomicSync(file, 'one', { mode: 0o600 });
    t.is(readFileSync(file, 'utf8'), 'one');
    t.is(statSync(file).mode & 0o777, 0o600);
    writeFileAtomicSync(file, Buffer.from('two'));
    t.is(readFileSync(file, 'utf8'), 'two');
    await writeFileAtomic(file, 'three');
    t.is(readFileSync(file, 'utf8'), 'three');
    t.deepEqual(readdirSync(dir), ['state.json']);
  });
});

test('a write killed before its rename leaves the old content intact, and its temporary is removed afterwards', async (t) => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'agent-state.json');
    writeFileSync(file, 'old');
    const run = worker(['write', file, 'new'], { [FAULT_ENV]: 'atomic-write-before-rename' });
    t.is(run.signal, 'SIGKILL');
    t.true(run.stderr.includes(faultMarker('atomic-write-before-rename')), run.stderr);
    t.is(readFileSync(file, 'utf8'), 'old');
    const temps = readdirSync(dir).filter((n) => parseTempName(n));
    t.is(temps.length, 1, 'the killed writer left its temporary');
    t.is(readFileSync(join(dir, temps[0] ?? ''), 'utf8'), 'new', 'killed after the data was written');
    t.deepEqual(removeOrphanedTemps(dir), temps, 'its writer is gone, so it is an orphan');
    t.deepEqual(readdirSync(dir), ['agent-state.json']);
  });
});

test('removeOrphanedTemps: only temporaries, of the targets asked, of dead writers unless under a lock', async (t) => {
  await withTempDir(async (dir) => {
    const dead = deadPid();
    const names = {
      orphan: `.subnet.env.tmp-${dead}-0badc0de`,
      otherTarget: `.other.tmp-${dead}-0badc0de`,
      live: `.subnet.env.tmp-${process.pid}-12345678`,
      notTemp: '.subnet.env.tmp',
      file: 'subnet.env',
    };
    for (const name of Object.values(names)) writeFileSync(join(dir, name), 'x');
    t.deepEqual(removeOrphanedTemps(dir, { targets: ['subnet.env'] }), [names.orphan]);
    t.true(existsSync(join(dir, names.live)), "a live writer's temporary stays");
    t.deepEqual(removeOrphanedTemps(dir, { underLock: true }).sort(), [names.live, names.otherTarget].sort());
    t.deepEqual(readdirSync(dir).sort(), [names.notTemp, names.file].sort());
    t.deepEqual(removeOrphanedTemps(join(dir, 'missing')), []);
  });
});

test('createFileExclusiveSync: complete or absent, false (content untouched) when the name is taken', async (t) => {
  await withTempDir(async (dir) => {
    const file = join(dir, '10.0.0.2');
    t.true(createFileExclusiveSync(file, 'a\r\neth0'));
    t.false(createFileExclusiveSync(file, 'b\r\neth0'));
    t.is(readFileSync(file, 'utf8'), 'a\r\neth0');
    t.deepEqual(readdirSync(dir), ['10.0.0.2']);
  });
});

test('makeDirectorySync creates parents, accepts an existing directory, fails fast under a file or in /proc', async (t) => {
  await withTempDir(async (dir) => {
    makeDirectorySync(join(dir, 'a', 'b', 'c'), 0o700);
    t.true(statSync(join(dir, 'a', 'b', 'c')).isDirectory());
    t.is(statSync(join(dir, 'a')).mode & 0o777, 0o700);
    makeDirectorySync(join(dir, 'a', 'b'));
    writeFileSync(join(dir, 'file'), '');
    t.throws(() => makeDirectorySync(join(dir, 'file')), { code: 'ENOTDIR' });
    t.throws(() => makeDirectorySync(join(dir, 'file', 'x', 'y')), { code: 'ENOTDIR' });
    // In its own process: Node's recursive mkdir spins for ever here, ours answers.
    const proc = worker(['mkdir', '/proc/tsnet-test-nonexistent/sub/dir']);
    t.is(proc.signal, null, 'returned rather than looping until killed');
    t.is(proc.stdout.trim(), 'ENOENT');
  });
});

test('kernelFilesystemOf: /proc, /sys and /dev are refused, also through a symbolic link; neighbours are not', async (t) => {
  await withTempDir(async (dir) => {
    t.is(kernelFilesystemOf('/proc/self/x'), '/proc');
    t.is(kernelFilesystemOf('/sys'), '/sys');
    t.is(kernelFilesystemOf('/dev/shm/x/../y'), '/dev');
    t.is(kernelFilesystemOf('/var/lib/../../proc/tsnet'), '/proc');
    t.is(kernelFilesystemOf('/procfs/x'), undefined);
    t.is(kernelFilesystemOf(join(dir, 'x')), undefined);
    symlinkSync('/proc', join(dir, 'link'));
    t.is(kernelFilesystemOf(join(dir, 'link', 'tsnet', 'data')), '/proc');
    t.is(
      stateLocationProblem('/sys/fs/tsnet', '--data-dir'),
      '--data-dir /sys/fs/tsnet is under /sys, a kernel filesystem: state cannot be kept there',
    );
  });
});
