// State never goes to a kernel filesystem: IPAM's dataDir, tsnet-vxlan's paths and the agent's --data-dir,
// --subnet-file and --cni-socket under /proc, /sys or /dev are refused with a clear error (before, a mkdir
// under /proc spun for ever at 100% CPU), and a data dir under a regular file fails at once.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { agentOptions } from '../../pkg/agent/options.ts';
import { UsageError } from '../../pkg/cli/command-line.ts';
import { REPO_ROOT, runPlugin } from '../helpers/plugin.ts';
import { withTempDir } from '../helpers/tmp.ts';

const KERNEL_PATHS = ['/proc/tsnet-test', '/sys/tsnet-test/data', '/dev/tsnet-test'];
// Only guards the suite against a regression that loops again; the assertions never depend on time.
const HANG_GUARD_MS = 60_000;

function ipamAdd(dataDir: string) {
  return runPlugin('tsnet-ipam', {
    command: 'ADD',
    config: {
      cniVersion: '1.1.0',
      name: 'testnet',
      type: 'tsnet-bridge',
      ipam: { type: 'tsnet-ipam', subnet: '10.61.0.0/24', dataDir },
    },
    containerId: 'c1',
    netns: '/var/run/netns/unused',
    ifname: 'eth0',
    killAfterMs: HANG_GUARD_MS,
  });
}

test('tsnet-ipam: a dataDir under /proc, /sys or /dev is code 7 naming the path', async (t) => {
  for (const dataDir of KERNEL_PATHS) {
    const out = await ipamAdd(dataDir);
    t.is(out.signal, null, `${dataDir}: answered`);
    t.is(out.code, 1);
    t.is(out.json?.['code'], 7, out.stdout);
    t.is(
      out.json?.['msg'],
      `ipam.dataDir ${dataDir} is under /${dataDir.split('/')[1]}, a kernel filesystem: state cannot be kept there`,
    );
  }
});

test('tsnet-ipam: a dataDir under a regular file fails at once with code 5 and the reason', async (t) => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    const out = await ipamAdd(join(file, 'networks'));
    t.is(out.signal, null);
    t.is(out.json?.['code'], 5, out.stdout);
    t.regex(
      String(out.json?.['msg']),
      /cannot open the IPAM lock in .*not-a-dir\/networks\/testnet: ENOTDIR/,
    );
  });
});

test('tsnet-vxlan: subnetFile or dataDir under a kernel filesystem is code 7', async (t) => {
  for (const key of ['subnetFile', 'dataDir']) {
    const out = await runPlugin('tsnet-vxlan', {
      command: 'ADD',
      config: { cniVersion: '1.1.0', name: 'tsnet', type: 'tsnet-vxlan', [key]: '/proc/tsnet-test/x' },
      containerId: 'c1',
      netns: '/var/run/netns/unused',
      ifname: 'eth0',
      killAfterMs: HANG_GUARD_MS,
    });
    t.is(out.json?.['code'], 7, out.stdout);
    t.regex(String(out.json?.['msg']), new RegExp(`"${key}" /proc/tsnet-test/x is under /proc`));
  }
});

test('agent options: --data-dir, --subnet-file and --cni-socket under a kernel filesystem are refused', (t) => {
  for (const flag of ['data-dir', 'subnet-file', 'cni-socket']) {
    for (const path of KERNEL_PATHS) {
      t.throws(() => agentOptions({ 'public-ip': '198.18.0.1', [flag]: path }), {
        instanceOf: UsageError,
        message: `--${flag} ${path} is under /${path.split('/')[1]}, a kernel filesystem: state cannot be kept there`,
      });
    }
  }
  t.notThrows(() => agentOptions({ 'public-ip': '198.18.0.1', 'data-dir': '/var/lib/tsnet-test' }));
});

test('tsnet-agent run and init-network with --data-dir under /proc: one line on stderr, exit 2, nothing hangs', (t) => {
  const agent = join(REPO_ROOT, 'dist', 'bin', 'tsnet-agent');
  const commands = [
    ['init-network', '--network', '10.62.0.0/16', '--data-dir', '/proc/tsnet-test'],
    // In a throwaway network namespace: were the flag accepted, the agent must not touch the host's.
    ['run', '--public-ip', '198.18.0.1', '--http', '', '--cni-socket', '', '--data-dir', '/proc/tsnet-test'],
  ];
  for (const argv of commands) {
    const out = spawnSync('unshare', ['--net', agent, ...argv], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      timeout: HANG_GUARD_MS,
      killSignal: 'SIGKILL',
    });
    t.is(out.signal, null, `${argv[0]}: answered`);
    t.is(out.status, 2, out.stderr);
    t.regex(
      out.stderr.split('\n')[0] ?? '',
      /^tsnet-agent: --data-dir \/proc\/tsnet-test is under \/proc, a kernel filesystem: state cannot be kept there( \(tsnet-agent --help for usage\))?$/,
    );
    t.is(out.stderr.trimEnd().split('\n').length, 1, 'one line');
    t.notRegex(out.stderr, /^\s+at /m, 'no stack trace');
  }
});
