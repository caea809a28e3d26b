// The native exec (native/nsexec, installed as dist/libexec/tsnet-nsexec): what `runc exec` does for a
// process without a terminal, without starting runc. This module decides whether a process can go that way
// and writes the helper's description of it.
//
// The description is a file of "key=value" entries, each ended by a NUL byte (values may hold anything but
// NUL, as argv and environ do); repeated keys make lists:
//   pid, start       the container's init process on the host and its start time (/proc/PID/stat field 22),
//                    from runc's state: the helper refuses a process whose start time differs (a reused pid)
//   id               the container's id (its session keyring is "_ses.<id>", runc's name)
//   ns               the CLONE_NEW* flags of the namespaces the container has, joined through a pidfd
//   cgroup           each directory of the container's cgroups (runc's cgroup_paths): the process joins them
//   arg, env, cwd    the command, its environment and working directory
//   uid, gid, group, umask
//   cap.bounding, cap.effective, cap.permitted, cap.inheritable, cap.ambient   capability masks in hex
//   nnp              1: no_new_privs
//   oom              oom_score_adj
//   rlimit           "RESOURCE SOFT HARD" (numbers, 18446744073709551615 for unlimited)
//   pidfile          where the process's host pid goes
//   seccomp.default  the default action as libseccomp's number; seccomp.arch (libseccomp's names);
//   seccomp.rule     "ACTION NAME" then "INDEX OP VALUE VALUE2" per condition; seccomp.flags (SECCOMP_FILTER_FLAG_*)
//   seccomp.cache    where the compiled program of these rules is kept (its name holds the rules' hash):
//                    libseccomp takes ~15 ms for Docker's profile, so a container's execs compile it once
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { capabilityMask } from './capabilities.ts';
import { findLibexec } from './libexec.ts';
import type {
  OciNamespaceType,
  OciProcess,
  OciSeccomp,
  OciSpec,
  SeccompAction,
  SeccompOperator,
} from './oci.ts';

export const NSEXEC_NAME = 'tsnet-nsexec';
/** Points at the helper when it is not where the build puts it; "off" turns the native exec off. */
export const NSEXEC_ENV = 'TSNET_NSEXEC';

/** The helper binary, or undefined when it is not built or turned off (exec goes through runc then). */
export function nsexecPath(): string | undefined {
  const fromEnv = process.env[NSEXEC_ENV];
  if (fromEnv === 'off') return undefined;
  if (memfdExecForbidden()) return undefined;
  if (fromEnv) return fromEnv;
  return findLibexec(NSEXEC_NAME);
}

let memfdNoexec: string | undefined;

/**
 * The helper runs from a sealed memfd copy of itself; with vm.memfd_noexec = 2 no memfd may be executed,
 * and every exec goes through runc (which has its own ways).
 */
function memfdExecForbidden(): boolean {
  if (memfdNoexec === undefined) {
    try {
      memfdNoexec = readFileSync('/proc/sys/vm/memfd_noexec', 'utf8').trim();
    } catch {
      memfdNoexec = '0'; // a kernel before 6.3: memfds are executable
    }
  }
  return memfdNoexec === '2';
}

/** What the helper needs of runc's state of a running container (state.json in runc's root). */
export interface RuncProcessState {
  readonly pid: number;
  readonly startTime: string;
  /** every cgroup directory of the container, one per hierarchy */
  readonly cgroupDirs: readonly string[];
}

/** runc's state of container `id` under `root`, or undefined when it has none we can read. */
export async function readRuncState(root: string, id: string): Promise<RuncProcessState | undefined> {
  let state: { init_process_pid?: unknown; init_process_start?: unknown; cgroup_paths?: unknown };
  try {
    state = JSON.parse(await readFile(join(root, id, 'state.json'), 'utf8')) as typeof state;
  } catch {
    return undefined;
  }
  const pid = state.init_process_pid;
  const start = state.init_process_start;
  const paths = state.cgroup_paths;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  if ((typeof start !== 'number' && typeof start !== 'string') || !/^\d+$/.test(String(start)))
    return undefined;
  if (typeof paths !== 'object' || paths === null) return undefined;
  const dirs = new Set<string>();
  for (const dir of Object.values(paths as Record<string, unknown>)) {
    if (typeof dir !== 'string' || !dir.startsWith('/')) return undefined;
    dirs.add(dir); // co-mounted controllers (cpu,cpuacct) share one
  }
  return { pid, startTime: String(start), cgroupDirs: [...dirs] };
}

const CLONE_FLAGS: Readonly<Record<OciNamespaceType, number>> = {
  mount: 0x00020000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  cgroup: 0x02000000,
};

const RLIMITS = [
  'RLIMIT_CPU',
  'RLIMIT_FSIZE',
  'RLIMIT_DATA',
  'RLIMIT_STACK',
  'RLIMIT_CORE',
  'RLIMIT_RSS',
  'RLIMIT_NPROC',
  'RLIMIT_NOFILE',
  'RLIMIT_MEMLOCK',
  'RLIMIT_AS',
  'RLIMIT_LOCKS',
  'RLIMIT_SIGPENDING',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME',
];

const EPERM = 1;
const SECCOMP_OPERATORS: Readonly<Record<SeccompOperator, number>> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};
const SECCOMP_FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};

/** libseccomp's (the kernel's) return value for an action; errno-carrying ones default to EPERM, as runc's. */
function seccompAction(action: SeccompAction | string, errnoRet: number | undefined): number | undefined {
  const ret = (errnoRet ?? EPERM) & 0xffff;
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return 0;
    case 'SCMP_ACT_KILL_PROCESS':
      return 0x80000000;
    case 'SCMP_ACT_TRAP':
      return 0x00030000;
    case 'SCMP_ACT_ERRNO':
      return (0x00050000 | ret) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (0x7ff00000 | ret) >>> 0;
    case 'SCMP_ACT_LOG':
      return 0x7ffc0000;
    case 'SCMP_ACT_ALLOW':
      return 0x7fff0000;
    default:
      return undefined; // SCMP_ACT_NOTIFY needs a listener: runc's
  }
}

/** A 64-bit unsigned decimal of a JSON number (OCI's values are uint64; unlimited is 2^64-1). */
function uint64(value: number): string {
  if (!Number.isFinite(value) || value >= 2 ** 64 - 1) return '18446744073709551615';
  if (value < 0 || !Number.isInteger(value)) throw new Error(`not a uint64: ${value}`);
  return BigInt(value).toString();
}

/** What the helper's description holds at most (native/nsexec/nsexec.c sizes its lists so). */
const MAX_LIST = 4096;
const MAX_GROUPS = 256;
const MAX_ARCHES = 16;

/** Why the native exec cannot run this process as runc would, or undefined when it can. */
export function nativeExecUnsupported(spec: OciSpec, proc: OciProcess): string | undefined {
  const p = proc as OciProcess & Record<string, unknown>;
  if (proc.terminal) return 'a terminal';
  // (one variable is kept for the HOME the exec may add)
  if (proc.args.length > MAX_LIST || proc.env.length >= MAX_LIST)
    return 'more arguments or variables than it takes';
  if ((proc.user.additionalGids?.length ?? 0) > MAX_GROUPS) return 'more groups than it takes';
  const rules = (spec.linux.seccomp?.syscalls ?? []).reduce((n, s) => n + s.names.length, 0);
  if (rules > MAX_LIST || (spec.linux.seccomp?.architectures?.length ?? 0) > MAX_ARCHES)
    return 'a larger seccomp profile than it takes';
  for (const field of ['apparmorProfile', 'selinuxLabel', 'scheduler', 'ioPriority', 'execCPUAffinity']) {
    if (p[field] !== undefined && p[field] !== '') return `process.${field}`;
  }
  const linux = spec.linux as OciSpec['linux'] & Record<string, unknown>;
  // what runc exec gives the process too: the container's execution domain and its resctrl group
  for (const field of ['personality', 'intelRdt']) if (linux[field] !== undefined) return `linux.${field}`;
  for (const ns of spec.linux.namespaces) if (!(ns.type in CLONE_FLAGS)) return `a ${ns.type} namespace`;
  for (const r of proc.rlimits ?? []) if (!RLIMITS.includes(r.type)) return `rlimit ${r.type}`;
  const seccomp = linux.seccomp as (OciSeccomp & Record<string, unknown>) | undefined;
  if (seccomp) {
    if (seccomp['listenerPath']) return 'a seccomp listener';
    if (seccompAction(seccomp.defaultAction, seccomp.defaultErrnoRet) === undefined)
      return seccomp.defaultAction;
    for (const s of seccomp.syscalls ?? []) {
      if (seccompAction(s.action, s.errnoRet) === undefined) return s.action;
      for (const a of s.args ?? []) if (!(a.op in SECCOMP_OPERATORS)) return a.op;
    }
    for (const f of (seccomp['flags'] as string[] | undefined) ?? []) if (!(f in SECCOMP_FLAGS)) return f;
  }
  return undefined;
}

export interface NsexecInput {
  readonly id: string;
  readonly spec: OciSpec;
  readonly process: OciProcess;
  readonly state: RuncProcessState;
  readonly pidFile: string;
  /** a directory (root's, gone with the container) for the compiled seccomp program */
  readonly cacheDir?: string;
}

function hexMask(caps: readonly string[] | undefined): string {
  return capabilityMask(caps ?? []).toString(16);
}

function seccompEntries(seccomp: OciSeccomp & { flags?: string[] }): [string, string][] {
  const entries: [string, string][] = [];
  entries.push(['seccomp.default', String(seccompAction(seccomp.defaultAction, seccomp.defaultErrnoRet))]);
  for (const arch of seccomp.architectures ?? []) {
    entries.push(['seccomp.arch', arch.replace(/^SCMP_ARCH_/, '').toLowerCase()]);
  }
  for (const s of seccomp.syscalls ?? []) {
    const action = seccompAction(s.action, s.errnoRet);
    const conditions = (s.args ?? []).map(
      (a) => `${a.index} ${SECCOMP_OPERATORS[a.op]} ${uint64(a.value)} ${uint64(a.valueTwo ?? 0)}`,
    );
    for (const name of s.names) entries.push(['seccomp.rule', [action, name, ...conditions].join(' ')]);
  }
  const flags = (seccomp.flags ?? []).reduce((all, f) => all | (SECCOMP_FLAGS[f] ?? 0), 0);
  if (flags) entries.push(['seccomp.flags', String(flags)]);
  return entries;
}

/** The helper's description of the process (the format is at the top of this file). */
export function nsexecDescription(input: NsexecInput): Buffer {
  const { spec, process: proc, state } = input;
  const entries: [string, string][] = [
    ['pid', String(state.pid)],
    ['start', state.startTime],
    ['id', input.id],
    ['ns', String(spec.linux.namespaces.reduce((flags, ns) => flags | CLONE_FLAGS[ns.type], 0))],
    ...state.cgroupDirs.map((d): [string, string] => ['cgroup', d]),
    ...proc.args.map((a): [string, string] => ['arg', a]),
    ...proc.env.map((e): [string, string] => ['env', e]),
    ['cwd', proc.cwd],
    ['uid', String(proc.user.uid)],
    ['gid', String(proc.user.gid)],
    ...(proc.user.additionalGids ?? []).map((g): [string, string] => ['group', String(g)]),
    ['umask', String(proc.user.umask ?? 0o022)],
    ['cap.bounding', hexMask(proc.capabilities?.bounding)],
    ['cap.effective', hexMask(proc.capabilities?.effective)],
    ['cap.permitted', hexMask(proc.capabilities?.permitted)],
    ['cap.inheritable', hexMask(proc.capabilities?.inheritable)],
    ['cap.ambient', hexMask(proc.capabilities?.ambient)],
    ['nnp', proc.noNewPrivileges ? '1' : '0'],
    ...(proc.oomScoreAdj !== undefined ? [['oom', String(proc.oomScoreAdj)] as [string, string]] : []),
    ...(proc.rlimits ?? []).map((r): [string, string] => [
      'rlimit',
      `${RLIMITS.indexOf(r.type)} ${uint64(r.soft)} ${uint64(r.hard)}`,
    ]),
    ['pidfile', input.pidFile],
  ];
  if (spec.linux.seccomp) {
    const seccomp = seccompEntries(spec.linux.seccomp);
    entries.push(...seccomp);
    if (input.cacheDir) {
      const hash = createHash('sha256');
      for (const [k, v] of seccomp) hash.update(`${k}=${v}\0`);
      entries.push(['seccomp.cache', join(input.cacheDir, `seccomp-${hash.digest('hex').slice(0, 32)}.bpf`)]);
    }
  }
  for (const [key, value] of entries) {
    if (value.includes('\0')) throw new Error(`exec: ${key} holds a NUL byte`);
  }
  return Buffer.from(entries.map(([k, v]) => `${k}=${v}\0`).join(''), 'utf8');
}
