// Docker's default seccomp profile as data (the shape of moby/profiles/seccomp: an allow list under an
// EPERM default, rules that apply only with or without a capability, per-architecture rules), and the
// specialisation Docker performs for one container: keep the rules whose conditions hold for its
// capabilities, the host's architecture and kernel, and emit the OCI `linux.seccomp` section.
import { release } from 'node:os';
import type { OciSeccomp, OciSeccompArg, OciSeccompSyscall, SeccompAction } from './oci.ts';

export interface SeccompRuleCondition {
  /** the container holds every one of these capabilities */
  readonly caps?: readonly string[];
  /** Docker's architecture names: amd64, x86, x32, arm, arm64, ppc64le, s390, s390x, riscv64 */
  readonly arches?: readonly string[];
  /** "major.minor": the host kernel is at least this */
  readonly minKernel?: string;
}

export interface SeccompRule {
  readonly names: readonly string[];
  readonly action: SeccompAction;
  readonly errnoRet?: number;
  readonly args?: readonly OciSeccompArg[];
  readonly includes?: SeccompRuleCondition;
  readonly excludes?: SeccompRuleCondition;
}

export interface SeccompProfile {
  readonly defaultAction: SeccompAction;
  readonly defaultErrnoRet?: number;
  /** native architecture → the sub-architectures its processes may also use */
  readonly archMap: Readonly<Record<string, readonly string[]>>;
  readonly syscalls: readonly SeccompRule[];
}

const EPERM = 1;
const ENOSYS = 38;
/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone may not make namespaces without CAP_SYS_ADMIN */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

/** The system calls every container may make (the factual list of Docker's default profile). */
const ALLOWED_SYSCALLS =
  `accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep
clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1
epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit
exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown
fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64
fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd
getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer
getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32
getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid
getuid32 getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy
io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter
io_uring_register io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown
lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64
madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2
mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64
mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep
newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free
pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6
pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg
recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir rseq
rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max
sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid
setgid32 setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid
setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socket
socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync sync_file_range syncfs
sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime
timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill
truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice
wait4 waitid waitpid write writev`
    .split(/\s+/)
    .filter((name) => name !== '');

const allow = (names: string[], extra: Omit<SeccompRule, 'names' | 'action'> = {}): SeccompRule => ({
  names,
  action: 'SCMP_ACT_ALLOW',
  ...extra,
});
const withCap = (cap: string, names: string[]): SeccompRule => allow(names, { includes: { caps: [cap] } });
const personality = (value: number): SeccompRule =>
  allow(['personality'], { args: [{ index: 0, value, valueTwo: 0, op: 'SCMP_CMP_EQ' }] });

export const DEFAULT_SECCOMP_PROFILE: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: EPERM,
  archMap: {
    SCMP_ARCH_X86_64: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    SCMP_ARCH_AARCH64: ['SCMP_ARCH_ARM'],
    SCMP_ARCH_MIPS64: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64N32'],
    SCMP_ARCH_MIPSEL64: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32'],
    SCMP_ARCH_PPC64LE: [],
    SCMP_ARCH_S390X: ['SCMP_ARCH_S390'],
    SCMP_ARCH_RISCV64: [],
  },
  syscalls: [
    allow(ALLOWED_SYSCALLS),
    // ptrace could escape seccomp before 4.8
    allow(['process_vm_readv', 'process_vm_writev', 'ptrace'], { includes: { minKernel: '4.8' } }),
    // personality(2) only for the harmless execution domains (Linux, UNAME26, ADDR_NO_RANDOMIZE, query)
    personality(0x0),
    personality(0x8),
    personality(0x20000),
    personality(0x20008),
    personality(0xffffffff),
    allow(['sync_file_range2', 'swapcontext'], { includes: { arches: ['ppc64le'] } }),
    allow(
      ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'],
      {
        includes: { arches: ['arm', 'arm64'] },
      },
    ),
    allow(['arch_prctl'], { includes: { arches: ['amd64', 'x32'] } }),
    allow(['modify_ldt'], { includes: { arches: ['amd64', 'x32', 'x86'] } }),
    allow(['s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr'], {
      includes: { arches: ['s390', 's390x'] },
    }),
    allow(['riscv_flush_icache'], { includes: { arches: ['riscv64'] } }),
    withCap('CAP_DAC_READ_SEARCH', ['open_by_handle_at']),
    withCap('CAP_SYS_ADMIN', [
      'bpf',
      'clone',
      'clone3',
      'fanotify_init',
      'fsconfig',
      'fsmount',
      'fsopen',
      'fspick',
      'lookup_dcookie',
      'mount',
      'mount_setattr',
      'move_mount',
      'open_tree',
      'perf_event_open',
      'quotactl',
      'quotactl_fd',
      'setdomainname',
      'sethostname',
      'setns',
      'syslog',
      'umount',
      'umount2',
      'unshare',
    ]),
    // Without CAP_SYS_ADMIN, clone is allowed only when it creates no namespace (the flags are argument 0,
    // argument 1 on s390); clone3 hides its flags in memory, so it answers ENOSYS and libc falls back to clone.
    allow(['clone'], {
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
    }),
    allow(['clone'], {
      args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      includes: { arches: ['s390', 's390x'] },
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    }),
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    withCap('CAP_SYS_BOOT', ['reboot']),
    withCap('CAP_SYS_CHROOT', ['chroot']),
    withCap('CAP_SYS_MODULE', ['delete_module', 'init_module', 'finit_module']),
    withCap('CAP_SYS_PACCT', ['acct']),
    withCap('CAP_SYS_PTRACE', [
      'kcmp',
      'pidfd_getfd',
      'process_madvise',
      'process_vm_readv',
      'process_vm_writev',
      'ptrace',
    ]),
    withCap('CAP_SYS_RAWIO', ['iopl', 'ioperm']),
    withCap('CAP_SYS_TIME', ['settimeofday', 'stime', 'clock_settime', 'clock_settime64']),
    withCap('CAP_SYS_TTY_CONFIG', ['vhangup']),
    withCap('CAP_SYS_NICE', ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node']),
    withCap('CAP_SYSLOG', ['syslog']),
    withCap('CAP_BPF', ['bpf']),
    withCap('CAP_PERFMON', ['perf_event_open']),
  ],
};

/** Node's process.arch → Docker's architecture name and libseccomp's native architecture. */
const ARCHES: Record<string, { docker: string; scmp: string }> = {
  x64: { docker: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  arm64: { docker: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
  ppc64: { docker: 'ppc64le', scmp: 'SCMP_ARCH_PPC64LE' },
  s390x: { docker: 's390x', scmp: 'SCMP_ARCH_S390X' },
  riscv64: { docker: 'riscv64', scmp: 'SCMP_ARCH_RISCV64' },
  mips64el: { docker: 'mips64le', scmp: 'SCMP_ARCH_MIPSEL64' },
};

export interface SeccompTarget {
  /** the container's capabilities (CAP_ names) */
  readonly capabilities: readonly string[];
  /** Node's arch name; this host's by default */
  readonly arch?: string;
  /** the kernel release, "6.18.44-…"; this host's by default */
  readonly kernelRelease?: string;
}

function kernelAtLeast(releaseText: string, min: string): boolean {
  const [major = 0, minor = 0] = releaseText.split(/[.-]/).map(Number);
  const [wantMajor = 0, wantMinor = 0] = min.split('.').map(Number);
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

/** Docker's specialisation of a profile for one container (moby's setupSeccomp). */
export function seccompForContainer(profile: SeccompProfile, target: SeccompTarget): OciSeccomp {
  const arch = ARCHES[target.arch ?? process.arch];
  if (arch === undefined)
    throw new Error(`seccomp: architecture ${target.arch ?? process.arch} is not supported`);
  const kernel = target.kernelRelease ?? release();
  const caps = new Set(target.capabilities);
  const holds = (c: SeccompRuleCondition | undefined, all: boolean): boolean => {
    if (c === undefined) return all;
    const checks: boolean[] = [];
    if (c.caps) checks.push(all ? c.caps.every((x) => caps.has(x)) : c.caps.some((x) => caps.has(x)));
    if (c.arches) checks.push(c.arches.includes(arch.docker));
    if (c.minKernel) checks.push(kernelAtLeast(kernel, c.minKernel));
    return all ? checks.every(Boolean) : checks.some(Boolean);
  };
  const syscalls: OciSeccompSyscall[] = [];
  for (const rule of profile.syscalls) {
    if (!holds(rule.includes, true) || holds(rule.excludes, false)) continue;
    syscalls.push({
      names: [...rule.names],
      action: rule.action,
      ...(rule.errnoRet !== undefined && { errnoRet: rule.errnoRet }),
      ...(rule.args && { args: rule.args.map((a) => ({ ...a })) }),
    });
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined && { defaultErrnoRet: profile.defaultErrnoRet }),
    architectures: [arch.scmp, ...(profile.archMap[arch.scmp] ?? [])],
    syscalls,
  };
}
