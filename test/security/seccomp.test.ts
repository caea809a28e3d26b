// The default seccomp profile blocks what Docker's blocks. The specification is the table "Significant
// syscalls blocked by the default profile" of Docker's seccomp documentation (docs.docker.com/engine/
// security/seccomp): for a container with Docker's default capabilities, none of those calls may be allowed
// without an argument filter; the calls the table says a capability gates open with that capability, as
// Docker's do. End to end through tsnetctl, a container cannot `unshare -U` (a user namespace needs no
// capability: seccomp alone stops it) nor mount, and can both once seccomp is unconfined and SYS_ADMIN added.
import test from 'ava';
import { DEFAULT_CAPABILITIES } from '../../pkg/runtime/capabilities.ts';
import type { OciSeccomp } from '../../pkg/runtime/oci.ts';
import { DEFAULT_SECCOMP_PROFILE, seccompForContainer } from '../../pkg/runtime/seccomp.ts';
import { whyContainersCannotRun } from '../helpers/container.ts';
import { TEST_IMAGE, withEngine } from '../helpers/engine.ts';

/**
 * Docker's table, less what today's moby profile (moby/profiles seccomp/default.json) allows after the table
 * was written: ptrace and process_vm_readv/writev on kernels >= 4.8, clock_adjtime, name_to_handle_at.
 */
const BLOCKED_BY_DOCKER = `acct add_key bpf clock_settime create_module delete_module finit_module
get_kernel_syms get_mempolicy init_module ioperm iopl kcmp kexec_file_load kexec_load keyctl lookup_dcookie mbind
mount move_pages nfsservctl open_by_handle_at perf_event_open pivot_root query_module quotactl
 reboot request_key set_mempolicy setns settimeofday swapon swapoff sysfs
_sysctl umount umount2 unshare uselib userfaultfd ustat vm86 vm86old`
  .split(/\s+/)
  .filter(Boolean);

/** Calls allowed with any arguments: in an SCMP_ACT_ALLOW rule without an argument filter. */
function allowedOutright(profile: OciSeccomp): Set<string> {
  const out = new Set<string>();
  for (const rule of profile.syscalls ?? [])
    if (rule.action === 'SCMP_ACT_ALLOW' && (rule.args ?? []).length === 0)
      for (const name of rule.names) out.add(name);
  return out;
}

function profileWith(capabilities: readonly string[]): OciSeccomp {
  return seccompForContainer(DEFAULT_SECCOMP_PROFILE, { capabilities, arch: 'x64', kernelRelease: '6.18.0' });
}

test("Docker's blocked calls are not allowed to a container with the default capabilities", (t) => {
  const profile = profileWith(DEFAULT_CAPABILITIES);
  t.is(profile.defaultAction, 'SCMP_ACT_ERRNO', 'what no rule allows is refused');
  const allowed = allowedOutright(profile);
  t.deepEqual(
    BLOCKED_BY_DOCKER.filter((name) => allowed.has(name)),
    [],
  );
  // clone and personality are allowed only for argument values: no namespace flags, the usual personalities
  for (const name of ['clone', 'personality']) {
    const rules = (profile.syscalls ?? []).filter(
      (r) => r.names.includes(name) && r.action === 'SCMP_ACT_ALLOW',
    );
    t.true(rules.length > 0, `${name} is allowed with filtered arguments`);
    t.true(
      rules.every((r) => (r.args ?? []).length > 0),
      `${name} only with an argument filter`,
    );
  }
  t.false(allowed.has('clone3'), 'clone3 cannot be filtered by flags: Docker answers ENOSYS');
});

test('a capability opens what it gates, as in Docker (SYS_ADMIN: mount, unshare, setns; SYS_TIME: settimeofday)', (t) => {
  const withAdmin = allowedOutright(profileWith([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']));
  for (const name of ['mount', 'umount2', 'unshare', 'setns', 'bpf'])
    t.true(withAdmin.has(name), `${name} with CAP_SYS_ADMIN`);
  t.false(withAdmin.has('kexec_load'), 'kexec_load stays blocked');
  t.false(withAdmin.has('pivot_root'), 'pivot_root stays blocked (runc uses it before the filter applies)');
  const withTime = allowedOutright(profileWith([...DEFAULT_CAPABILITIES, 'CAP_SYS_TIME']));
  t.true(withTime.has('settimeofday'));
  t.false(withTime.has('mount'));
});

const skip = whyContainersCannotRun({ conmon: true });
const e2e = skip ? test.skip : test.serial;
if (skip) test.skip(`seccomp end to end (${skip})`, () => undefined);

e2e(
  'in a container: no user namespace and no mount under the default profile; both once it is lifted',
  async (t) => {
    await withEngine(t, async (e) => {
      const script =
        'unshare -U true; echo "unshare=$?"; mkdir -p /m; mount -t tmpfs tmpfs /m; echo "mount=$?"';
      /** The script in a throwaway container with `flags`. */
      const runScript = (...flags: string[]) =>
        e.ctl('run', '--rm', '--network', 'none', ...flags, TEST_IMAGE, 'sh', '-c', script);
      const confined = await runScript();
      t.log(confined.stdout, confined.stderr);
      t.is(confined.code, 0, confined.stderr);
      t.regex(confined.stdout, /^unshare=[1-9]/m, 'seccomp refuses an unprivileged user namespace');
      t.regex(confined.stdout, /^mount=[1-9]/m);
      t.regex(confined.stdout + confined.stderr, /Operation not permitted/);
      // unshare -U needs no capability: seccomp alone decides it
      const unconfined = await runScript('--security-opt', 'seccomp=unconfined');
      t.regex(unconfined.stdout, /^unshare=0$/m, unconfined.stdout + unconfined.stderr);
      const admin = await runScript('--cap-add', 'SYS_ADMIN');
      t.regex(admin.stdout, /^mount=0$/m, `with SYS_ADMIN Docker's profile allows mount: ${admin.stderr}`);
    });
  },
);
