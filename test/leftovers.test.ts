// The suite's leftover check (test/leftovers.ts) sees what it claims to: files in state dirs and temporary
// roots, a rule added to a table that already existed, cgroups named after tsnet, and a conmon process.
// Everything is made in this test's own temp dirs and namespace (the nft part reads a test namespace's ruleset;
// the host's is only read).
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { withNetnses } from './helpers/netns.ts';
import { withTempDir } from './helpers/tmp.ts';
import { leftovers, NFT, type SnapshotOptions, snapshot } from './leftovers.ts';

/** The kinds reported between a snapshot taken before `change` and one after, as "kind: item" strings. */
async function reported(options: SnapshotOptions, change: () => Promise<void> | void): Promise<string> {
  const before = snapshot(options);
  await change();
  return leftovers(before, snapshot(options)).join('\n');
}

test('files left in a state dir or as a temporary root are reported', (t) =>
  withTempDir(async (dir) => {
    const state = join(dir, 'var-lib-cni');
    const temp = join(dir, 'tmp');
    mkdirSync(join(state, 'networks', 'tnet'), { recursive: true });
    mkdirSync(temp);
    const options = { stateDirs: [state], tempDir: temp, cgroupRoot: join(dir, 'none') };
    const out = await reported(options, () => {
      writeFileSync(join(state, 'networks', 'tnet', '10.250.0.2'), 'ctr');
      mkdirSync(join(temp, 'tsnet-test-abc123'));
      mkdirSync(join(temp, 'unrelated'));
    });
    t.regex(out, new RegExp(`files: .*${join(state, 'networks/tnet/10.250.0.2')}`));
    t.true(out.includes(join(temp, 'tsnet-test-abc123')));
    t.false(out.includes('unrelated'));
  }));

test('a rule added to a table that already existed is reported, not only new tables', (t) =>
  withNetnses('left', 1, async ([ns]) => {
    const nft = (script: string) =>
      execFileSync('nsenter', [`--net=${ns!.path}`, NFT, '-f', '-'], { input: script });
    nft(
      'add table inet tsnt_left\nadd chain inet tsnt_left post { type nat hook postrouting priority 100; }\n',
    );
    const out = await reported(
      { nftNetns: ns!.path, stateDirs: [], cgroupRoot: '/nonexistent', tempDir: '/nonexistent' },
      () => {
        nft('add rule inet tsnt_left post ip saddr 10.250.0.0/24 masquerade\n');
      },
    );
    t.regex(out, /hostState: nft \{"rule":\{"family":"inet","table":"tsnt_left","chain":"post"/);
  }));

test('cgroups named after tsnet are reported in every hierarchy', (t) =>
  withTempDir(async (root) => {
    mkdirSync(join(root, 'memory', 'system'), { recursive: true });
    const out = await reported({ cgroupRoot: root, stateDirs: [], tempDir: '/nonexistent' }, () => {
      mkdirSync(join(root, 'memory', 'tsnet', 'ctr1'), { recursive: true });
      mkdirSync(join(root, 'pids', 'tsnt-test-1'), { recursive: true });
    });
    t.true(out.includes(join(root, 'memory/tsnet/ctr1')), out);
    t.true(out.includes(join(root, 'pids/tsnt-test-1')), out);
    t.false(out.includes('system'));
  }));

test('a conmon process left running is reported', (t) =>
  withTempDir(async (dir) => {
    const conmon = join(dir, 'conmon'); // a sleep under conmon's name: /proc/PID/comm says "conmon"
    copyFileSync('/bin/sleep', conmon);
    let child: ReturnType<typeof spawn> | undefined;
    try {
      const out = await reported(
        { stateDirs: [], cgroupRoot: '/nonexistent', tempDir: '/nonexistent' },
        async () => {
          child = spawn(conmon, ['30'], { stdio: 'ignore' });
          await new Promise((done) => child?.once('spawn', done));
        },
      );
      t.regex(out, new RegExp(`processes: .*${child?.pid} ${conmon} 30`));
    } finally {
      child?.kill('SIGKILL');
      if (child && child.exitCode === null && child.signalCode === null) {
        await new Promise((done) => child?.once('exit', done));
      }
    }
  }));
