// Rotation against the real monitor: a runc container under Debian's conmon prints numbered lines on stdout
// and stderr while the LogRotator rotates its k8s-file log every 16 KiB through conmon's control fifo
// ("2 0 0\n"). Every line is in the rotated files plus the current one, once and in order, and a follower
// that ran from the start saw the same. Skipped with the reason where root, runc, conmon or busybox is missing.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import test from 'ava';
import type { LogEntry } from '../../pkg/logs/k8s-file.ts';
import { readLogs } from '../../pkg/logs/reader.ts';
import { conmonLogReopener, LogRotator } from '../../pkg/logs/rotate.ts';
import { withTempDir } from '../helpers/tmp.ts';
import { collect } from './log-files.ts';

const run = promisify(execFile);
const BUSYBOX = '/bin/busybox';
const LINES = 3000;

function whyConmonCannotRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const tool of ['runc', 'conmon'])
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed (scripts/install-deps.sh installs it)`;
    }
  if (!existsSync('/sys/fs/cgroup/memory/cgroup.procs') && !existsSync('/sys/fs/cgroup/cgroup.controllers'))
    return 'no cgroup hierarchy is visible under /sys/fs/cgroup';
  if (
    !existsSync(BUSYBOX) ||
    !execFileSync('file', ['-L', BUSYBOX], { encoding: 'utf8' }).includes('statically')
  )
    return 'busybox-static is not installed';
  return undefined;
}
const skipReason = whyConmonCannotRun();
if (skipReason) test.skip(`conmon log rotation: ${skipReason}`, () => undefined);
const conmonTest = skipReason ? test.skip : test.serial;

/** A bundle whose process prints "out N" and "err N" for N in 1..LINES, pausing every 100 lines. */
async function makeBundle(bundle: string): Promise<void> {
  const rootfs = join(bundle, 'rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(BUSYBOX, join(rootfs, 'bin/busybox'));
  for (const applet of ['sh', 'usleep']) symlinkSync('busybox', join(rootfs, 'bin', applet));
  await run('runc', ['spec', '--bundle', bundle]);
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  config.process.terminal = false;
  config.process.args = [
    'sh',
    '-c',
    `i=0; while [ $i -lt ${LINES} ]; do i=$((i+1)); echo "out $i"; echo "err $i" >&2; ` +
      'if [ $((i % 100)) -eq 0 ]; then usleep 50000; fi; done',
  ];
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
}

/** conmon for the bundle, answering once runc create is done (the sync pipe gives the container's PID). */
async function startConmon(dir: string, id: string, bundle: string, logPath: string): Promise<number> {
  for (const d of ['exits', 'persist', 'sockets', 'runc']) mkdirSync(join(dir, d), { recursive: true });
  // biome-ignore format: one flag and its value per line
  const args = [
    '-c', id, '-u', id, '-n', id, '-r', '/usr/sbin/runc', '-b', bundle,
    '-p', join(dir, 'pidfile'), '-P', join(dir, 'conmon.pid'),
    '-l', `k8s-file:${logPath}`, '--exit-dir', join(dir, 'exits'), '-0', join(dir, 'persist'),
    '--socket-dir-path', join(dir, 'sockets'), '--runtime-arg', `--root=${join(dir, 'runc')}`,
  ];
  const child = spawn('conmon', args, {
    cwd: dir,
    env: { ...process.env, _OCI_SYNCPIPE: '3' },
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  // conmon's first process writes conmon.pid after its fork and then exits: the monitor may answer first
  const forked = new Promise((resolve) => child.once('exit', resolve));
  const sync = child.stdio[3] as Readable | null;
  if (!sync) throw new Error('no sync pipe');
  let text = '';
  for await (const chunk of sync) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  sync.destroy();
  const { pid, message } = JSON.parse(text) as { pid: number; message?: string };
  if (pid < 0) throw new Error(`conmon: ${message}`);
  await forked;
  return Number(readFileSync(join(dir, 'conmon.pid'), 'utf8'));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<void> {
  while (alive(pid)) await delay(20);
}

function numbersOf(entries: readonly LogEntry[], stream: 'stdout' | 'stderr', word: string): number[] {
  return entries
    .filter((e) => e.stream === stream)
    .map((e) => {
      const m = new RegExp(`^${word} (\\d+)\\n$`).exec(e.data.toString());
      return m ? Number(m[1]) : -1;
    });
}

conmonTest('conmon keeps every line across rotations through its control fifo', async (t) => {
  await withTempDir(async (dir) => {
    const id = `tsnet-logs-${randomBytes(4).toString('hex')}`;
    const bundle = join(dir, 'bundle');
    const logDir = join(dir, 'log');
    mkdirSync(logDir);
    const logPath = join(logDir, 'ctr.log');
    const runcArgs = ['--root', join(dir, 'runc')];
    let conmonPid = 0;
    try {
      await makeBundle(bundle);
      conmonPid = await startConmon(dir, id, bundle, logPath);
      t.true(existsSync(join(bundle, 'ctl')), "conmon's control fifo lives in the bundle directory");
      let rotations = 0;
      const reopen = conmonLogReopener(join(bundle, 'ctl'));
      const rotator = new LogRotator(
        logPath,
        { maxSize: 16 * 1024, maxFile: 1000 },
        {
          reopen: async () => {
            rotations++;
            await reopen();
          },
          checkIntervalMs: 5,
          onError: (err) => t.log(`rotation: ${err.message}`),
        },
      );
      const exited = gone(conmonPid);
      const following = collect(readLogs(logPath, { follow: true, stopped: exited, pollIntervalMs: 20 }));
      rotator.start();
      await run('runc', [...runcArgs, 'start', id]);
      await exited;
      await rotator.stop();
      const followed = await following;
      const stored = await collect(readLogs(logPath));

      t.log(`${rotations} rotations, files: ${readdirSync(logDir).length}`);
      t.true(rotations >= 3, `only ${rotations} rotations`);
      const all = Array.from({ length: LINES }, (_, i) => i + 1);
      t.deepEqual(numbersOf(stored, 'stdout', 'out'), all);
      t.deepEqual(numbersOf(stored, 'stderr', 'err'), all);
      t.deepEqual(
        followed.map((e) => e.data.toString()),
        stored.map((e) => e.data.toString()),
      );
    } finally {
      await run('runc', [...runcArgs, 'delete', '--force', id]).catch(() => undefined);
      if (conmonPid && alive(conmonPid)) process.kill(conmonPid, 'SIGKILL');
    }
  });
});
