// The native exec (native/nsexec) against its oracle, `runc exec`: the same process run both ways in the
// same container must see the same world (credentials, capabilities, no_new_privs, seccomp answers - also
// for a system call newer than the profile, namespaces, cgroups, rlimits, OOM score, environment, working
// directory, open descriptors), and fail the same way; rlimits are the container init's. Needs `npm run build` (dist/libexec).
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { type ExecOptions, startExec } from '../../pkg/runtime/exec.ts';
import {
  nativeExecUnsupported,
  nsexecDescription,
  nsexecPath,
  type RuncProcessState,
  readRuncState,
} from '../../pkg/runtime/nsexec.ts';
import type { OciSpec } from '../../pkg/runtime/oci.ts';
import { execTargetOf, type FixtureContainer, runFixtureContainer } from '../helpers/container.ts';
import { readAll, whyAttachCannotRun } from '../helpers/stdio.ts';

const test = anyTest as TestFn<{
  plain: FixtureContainer;
  hardened: FixtureContainer;
  userns: FixtureContainer;
}>;

const helper = nsexecPath();
const skipReason = whyAttachCannotRun() ?? (helper ? undefined : 'dist/libexec/tsnet-nsexec is not built');
const worldTest = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`native exec: ${skipReason}`, () => undefined);

/** errno names the probe prints for a few system calls the default seccomp profile decides on. */
const PROBE_SOURCE = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>
static void show(const char *what, long rc) { printf("%s %s\\n", what, rc < 0 ? strerrorname_np(errno) : "ok"); }
int main(void) {
  show("unshare-user", syscall(SYS_unshare, CLONE_NEWUSER));
  show("personality-no-randomize", syscall(SYS_personality, ADDR_NO_RANDOMIZE));
  show("fchmodat2", syscall(452, AT_FDCWD, "/no-such-file", 0, 0));
  show("syslog-read-all", syscall(SYS_syslog, 3, NULL, 0));
  show("getpid", syscall(SYS_getpid));
  return 0;
}
`;

/** Everything a process can tell about where and as whom it runs (one line per fact). */
const WORLD_SCRIPT = [
  "grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status",
  'for ns in /proc/self/ns/*; do echo "$ns $(readlink $ns)"; done',
  'cat /proc/self/cgroup',
  'cat /proc/self/oom_score_adj',
  'env | sort',
  'pwd',
  'umask',
  'ls /proc/self/fd | wc -l',
  'syscall-probe',
].join('; ');

test.before(async (t) => {
  if (skipReason) return;
  const probeDir = mkdtempSync(join(tmpdir(), 'tsnet-test-probe-'));
  try {
    writeFileSync(join(probeDir, 'probe.c'), PROBE_SOURCE);
    execFileSync('cc', ['-static', '-O1', '-o', join(probeDir, 'syscall-probe'), join(probeDir, 'probe.c')]);
    const withProbe = async (opts: Parameters<typeof runFixtureContainer>[0]) => {
      const ctr = await runFixtureContainer(opts);
      const target = join(ctr.bundleDir, 'rootfs', 'bin', 'syscall-probe');
      writeFileSync(target, readFileSync(join(probeDir, 'syscall-probe')));
      chmodSync(target, 0o755);
      return ctr;
    };
    t.context.plain = await withProbe({ args: ['sleep', '1000'] });
    t.context.hardened = await withProbe({
      args: ['sleep', '1000'],
      user: '1000:1000',
      groupAdd: ['10'],
      workingDir: '/tmp',
      securityOpt: ['no-new-privileges'],
      ulimits: ['nofile=512:1024'],
      oomScoreAdj: 300,
      capDrop: ['CHOWN', 'KILL'],
    });
    t.context.userns = await withProbe({
      args: ['sleep', '1000'],
      userns: {
        uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
        gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      },
    });
  } finally {
    rmSync(probeDir, { recursive: true, force: true });
  }
});

test.after.always(async (t) => {
  await t.context.plain?.cleanup();
  await t.context.hardened?.cleanup();
  await t.context.userns?.cleanup();
});

async function execBoth(ctr: FixtureContainer, opts: ExecOptions) {
  const run = async (nsexecBinary: string | null) => {
    const session = await startExec(execTargetOf(ctr), { ...opts, nsexecBinary });
    const [stdout, stderr, exit] = await Promise.all([
      readAll(session.stdout),
      readAll(session.stderr),
      session.exit,
    ]);
    return { stdout, stderr, exitCode: exit.exitCode, error: exit.error };
  };
  return { runc: await run(null), native: await run(helper ?? null) };
}

for (const which of ['plain', 'hardened'] as const) {
  worldTest(`the native exec sees the world runc exec gives (${which} container)`, async (t) => {
    const ctr = t.context[which];
    const { runc, native } = await execBoth(ctr, { cmd: ['sh', '-c', WORLD_SCRIPT] });
    t.is(runc.exitCode, 0, runc.stderr);
    t.is(native.stderr, runc.stderr);
    t.is(native.stdout, runc.stdout);
    t.is(native.exitCode, 0);
    // rlimits: runc 1.1 leaves an exec with runc's own limits, whatever the process spec says; the native exec
    // applies the spec's, so the process has the limits of the container's init (what Docker users expect)
    const limits = async (nsexecBinary: string | null, of: string) =>
      readAll(
        (await startExec(execTargetOf(ctr), { cmd: ['cat', `/proc/${of}/limits`], nsexecBinary })).stdout,
      );
    t.is(await limits(helper ?? null, 'self'), await limits(null, '1'));
    // and the world is the confined one, not merely the same
    t.regex(native.stdout, /^Seccomp:\s+2$/m);
    t.regex(native.stdout, /^unshare-user EPERM$/m);
    t.regex(native.stdout, /^personality-no-randomize EPERM$/m);
    t.regex(native.stdout, /^fchmodat2 ENOSYS$/m, 'a call newer than the profile answers ENOSYS');
    t.regex(native.stdout, /^getpid ok$/m);
    // the filter compiled by the first exec is kept for the next ones (the limits execs below use it)
    t.true(readdirSync(ctr.bundleDir).some((f) => /^seccomp-[0-9a-f]{32}\.bpf$/.test(f)));
    const again = await startExec(execTargetOf(ctr), {
      cmd: ['sh', '-c', WORLD_SCRIPT],
      nsexecBinary: helper ?? null,
    });
    t.is(await readAll(again.stdout), native.stdout, 'the same world with the kept filter');
    t.regex(native.stdout, which === 'hardened' ? /^NoNewPrivs:\s+1$/m : /^NoNewPrivs:\s+0$/m);
    if (which === 'hardened') {
      t.regex(native.stdout, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
      t.regex(await limits(helper ?? null, 'self'), /^Max open files\s+512\s+1024/m);
      t.regex(native.stdout, /^300$/m);
      t.regex(native.stdout, /^\/tmp$/m);
    }
  });
}

/** The container's init is the oracle where runc is none: its namespaces and cgroups are the exec's. */
const SAME_AS_INIT = [
  'for n in cgroup ipc mnt net pid user uts; do [ "$(readlink /proc/self/ns/$n)" = "$(readlink /proc/1/ns/$n)" ] && echo same-$n; done',
  '[ "$(cat /proc/self/cgroup)" = "$(cat /proc/1/cgroup)" ] && echo same-cgroups',
  'cat /proc/self/uid_map',
  "grep -E '^(Uid|CapEff|Seccomp):' /proc/self/status",
].join('; ');

worldTest(
  'in a user namespace (where runc 1.1 here cannot exec) the native exec joins the init',
  async (t) => {
    const ctr = t.context.userns;
    const session = await startExec(execTargetOf(ctr), {
      cmd: ['sh', '-c', SAME_AS_INIT],
      nsexecBinary: helper ?? null,
    });
    const [stdout, stderr, exit] = await Promise.all([
      readAll(session.stdout),
      readAll(session.stderr),
      session.exit,
    ]);
    t.is(exit.exitCode, 0, stderr);
    for (const n of ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts', 'cgroups'])
      t.regex(stdout, new RegExp(`^same-${n}$`, 'm'));
    t.regex(stdout, /^\s+0\s+100000\s+65536$/m);
    t.regex(stdout, /^Uid:\s+0\s+0\s+0\s+0$/m);
    t.regex(stdout, /^CapEff:\s+00000000a80425fb$/m);
    t.regex(stdout, /^Seccomp:\s+2$/m);
  },
);

worldTest(
  'the native exec fails like runc exec: a missing command, a file that is no program, a bad cwd',
  async (t) => {
    const ctr = t.context.plain;
    for (const opts of [
      { cmd: ['no-such-command'] },
      { cmd: ['/no/such/file'] },
      { cmd: ['/etc/passwd'] },
      { cmd: ['true'], workingDir: '/no/such/dir' },
    ]) {
      const { runc, native } = await execBoth(ctr, opts);
      t.is(native.exitCode, runc.exitCode, JSON.stringify(opts));
      t.is(
        native.error?.replace(/^unable to start container process: /, ''),
        runc.error?.replace(/^.*?: (?=exec:|chdir)/, ''),
      );
      t.is(native.stdout, '');
      t.regex(native.stderr, /^exec failed: unable to start container process: /);
      t.is(native.stderr, runc.stderr, 'the line runc prints');
    }
  },
);

worldTest(
  'no host descriptor is a way out: a cwd or a $PATH through /proc/self/fd is refused (CVE-2024-21626)',
  async (t) => {
    const ctr = t.context.plain;
    const run = async (opts: ExecOptions) => {
      const session = await startExec(execTargetOf(ctr), { ...opts, nsexecBinary: helper ?? null });
      const [stdout, , exit] = await Promise.all([
        readAll(session.stdout),
        readAll(session.stderr),
        session.exit,
      ]);
      return { stdout, exitCode: exit.exitCode };
    };
    for (let fd = 0; fd < 16; fd++) {
      const viaCwd = await run({
        cmd: ['sh', '-c', 'pwd; ls ../../../..'],
        workingDir: `/proc/self/fd/${fd}`,
      });
      t.not(viaCwd.exitCode, 0, `cwd /proc/self/fd/${fd}: ${viaCwd.stdout}`);
      t.is(viaCwd.stdout, '', `cwd /proc/self/fd/${fd}`);
      // skopeo is the host's (the test command installs it), not the container's
      const up = `/proc/self/fd/${fd}${'/..'.repeat(12)}`;
      const viaPath = await run({ cmd: ['skopeo', '--version'], env: [`PATH=${up}/usr/bin`] });
      t.is(viaPath.exitCode, 127, `PATH through /proc/self/fd/${fd}: ${viaPath.stdout}`);
      const hostProgram = await run({ cmd: [`${up}/usr/bin/skopeo`, '--version'] });
      t.not(hostProgram.exitCode, 0, `a host program through /proc/self/fd/${fd}: ${hostProgram.stdout}`);
    }
  },
);

worldTest('the process is in the container, the helper that waits for it is not', async (t) => {
  const ctr = t.context.plain;
  const session = await startExec(execTargetOf(ctr), { cmd: ['sleep', '30'], nsexecBinary: helper ?? null });
  try {
    const state = await readRuncState(ctr.runc.root, ctr.id);
    if (!state) throw new Error('no runc state');
    let procs: number[] = [];
    for (let i = 0; i < 100 && procs.length < 2; i++) {
      procs = readFileSync(join(state.cgroupDirs[0] ?? '', 'cgroup.procs'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(Number);
      await new Promise((r) => setTimeout(r, 20));
    }
    t.is(procs.length, 2, 'the container init and the exec process');
    const execPid = procs.find((p) => p !== state.pid) ?? 0;
    const helperPid = Number(readFileSync(`/proc/${execPid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
    t.regex(readFileSync(`/proc/${helperPid}/cmdline`, 'utf8'), /tsnet-nsexec/);
    t.not(readFileSync(`/proc/${helperPid}/cgroup`, 'utf8'), readFileSync(`/proc/${execPid}/cgroup`, 'utf8'));
    t.regex(readFileSync(`/proc/${helperPid}/status`, 'utf8'), /^Name:\s+tsnet-nsexec$/m);
    // what runs is a sealed copy, never the host's binary (CVE-2019-5736)
    t.regex(readlinkSync(`/proc/${helperPid}/exe`), /^\/memfd:tsnet-nsexec/);
  } finally {
    await session.kill();
  }
  t.is((await session.exit).exitCode, 137);
});

/** The helper run by hand on a description of `true` in `ctr`, its runc state or its entries changed. */
async function runHelperOn(
  ctr: FixtureContainer,
  change: {
    state?: (state: RuncProcessState) => RuncProcessState;
    entries?: (entries: string[]) => string[];
  },
): Promise<{ rc: number; log: string }> {
  const spec = JSON.parse(readFileSync(join(ctr.bundleDir, 'config.json'), 'utf8')) as OciSpec;
  const state = await readRuncState(ctr.runc.root, ctr.id);
  if (!state) throw new Error('no runc state');
  const dir = mkdtempSync(join(tmpdir(), 'tsnet-test-nsexec-'));
  try {
    const text = nsexecDescription({
      id: ctr.id,
      spec,
      process: { ...spec.process, args: ['true'] },
      state: change.state?.(state) ?? state,
      pidFile: join(dir, 'pid'),
    }).toString('latin1');
    const entries = change.entries?.(text.split('\0')) ?? text.split('\0');
    const description = join(dir, 'description');
    writeFileSync(description, Buffer.from(entries.join('\0'), 'latin1'));
    const log = join(dir, 'log');
    let rc = 0;
    try {
      execFileSync(helper ?? '', [description, log], { stdio: 'ignore' });
    } catch (err) {
      rc = (err as { status: number }).status;
    }
    return { rc, log: readFileSync(log, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

worldTest('the helper refuses a process that is not the container any more (a reused pid)', async (t) => {
  const { rc, log } = await runHelperOn(t.context.plain, {
    state: (state) => ({ ...state, startTime: String(BigInt(state.startTime) + 1n) }),
  });
  t.is(rc, 255);
  t.regex(log, /"level":"error","msg":"container process \d+ is gone"/);
});

worldTest(
  'a seccomp condition the helper cannot read fails the exec, never drops the condition',
  async (t) => {
    let changed = false;
    const { rc, log } = await runHelperOn(t.context.plain, {
      // a rule with a condition (Docker's clone or personality ones), its condition made unreadable
      entries: (entries) =>
        entries.map((e) => {
          if (changed || !/^seccomp\.rule=\d+ \S+ \d/.test(e)) return e;
          changed = true;
          return `${e} 0 4 x y`;
        }),
    });
    t.true(changed, 'the profile has a rule with conditions');
    t.is(rc, 255);
    t.regex(log, /bad seccomp condition in: /);
  },
);

worldTest(
  'a uid, group or umask that does not fit its type is refused, not cut to another value',
  async (t) => {
    for (const [key, value] of [
      ['uid', '4294967295'],
      ['uid', '4294967296'],
      ['group', '4294967296'],
      ['umask', '65536'],
      ['oom', '-1001'],
    ] as const) {
      const { rc, log } = await runHelperOn(t.context.plain, {
        entries: (entries) => [
          ...entries.filter((e) => !e.startsWith(`${key}=`) && e !== ''),
          `${key}=${value}`,
          '',
        ],
      });
      t.is(rc, 255, `${key}=${value}`);
      t.regex(log, new RegExp(`bad ${key} in the exec description: ${value}`));
    }
  },
);

test('what the native exec leaves to runc: a terminal, a huge argv, an AppArmor profile, a seccomp listener, unknown actions', (t) => {
  const spec = {
    ociVersion: '1.0.2',
    process: { user: { uid: 0, gid: 0 }, args: ['true'], env: [], cwd: '/' },
    root: { path: 'rootfs' },
    mounts: [],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] },
  } as OciSpec;
  t.is(nativeExecUnsupported(spec, spec.process), undefined);
  t.is(nativeExecUnsupported(spec, { ...spec.process, terminal: true }), 'a terminal');
  t.is(
    nativeExecUnsupported(spec, { ...spec.process, args: Array.from({ length: 5000 }, () => 'x') }),
    'more arguments or variables than it takes',
  );
  t.is(
    nativeExecUnsupported(spec, { ...spec.process, apparmorProfile: 'docker-default' }),
    'process.apparmorProfile',
  );
  for (const [field, value] of [
    ['personality', { domain: 'LINUX32' }],
    ['intelRdt', { closID: 'guaranteed_group' }],
  ] as const) {
    const other = { ...spec, linux: { ...spec.linux, [field]: value } } as OciSpec;
    t.is(nativeExecUnsupported(other, spec.process), `linux.${field}`);
  }
  const withSeccomp = (seccomp: unknown) => ({ ...spec, linux: { ...spec.linux, seccomp } }) as OciSpec;
  t.is(
    nativeExecUnsupported(
      withSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', listenerPath: '/run/x' }),
      spec.process,
    ),
    'a seccomp listener',
  );
  t.is(
    nativeExecUnsupported(
      withSeccomp({
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }],
      }),
      spec.process,
    ),
    'SCMP_ACT_NOTIFY',
  );
  t.is(
    nativeExecUnsupported(
      withSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }),
      spec.process,
    ),
    'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
  );
});

test('the description names every value once per entry and refuses a NUL byte', (t) => {
  const spec = {
    ociVersion: '1.0.2',
    process: {
      user: { uid: 5, gid: 6, additionalGids: [7] },
      args: ['sh', '-c', 'a\nb'],
      env: ['A=1'],
      cwd: '/w',
    },
    root: { path: 'rootfs' },
    mounts: [],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network', path: '/run/netns/x' }],
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [
          {
            names: ['personality'],
            action: 'SCMP_ACT_ALLOW',
            args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }],
          },
        ],
      },
    },
  } as OciSpec;
  const state = { pid: 42, startTime: '99', cgroupDirs: ['/sys/fs/cgroup/pids/x'] };
  const entries = nsexecDescription({ id: 'c1', spec, process: spec.process, state, pidFile: '/r/pid' })
    .toString('utf8')
    .split('\0');
  t.is(entries.at(-1), '', 'each entry ends with a NUL byte');
  for (const e of [
    'pid=42',
    'start=99',
    'ns=1610612736',
    'arg=sh',
    'arg=a\nb',
    'group=7',
    'cwd=/w',
    'seccomp.default=327681',
    'seccomp.arch=x86_64',
    'seccomp.rule=2147418112 personality 0 4 8 0',
    'cgroup=/sys/fs/cgroup/pids/x',
  ]) {
    t.true(entries.includes(e), e);
  }
  t.throws(
    () =>
      nsexecDescription({
        id: 'c1',
        spec,
        process: { ...spec.process, args: ['a\0b'] },
        state,
        pidFile: '/r/pid',
      }),
    {
      message: /arg holds a NUL byte/,
    },
  );
});
