// The only FFI boundary of tsnet: thin, typed koffi bindings to the libc calls Node lacks.
// Every binding checks the return value and throws a SyscallError naming the call and the errno.

import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants, setPriority } from 'node:os';

// Aliases share a number (EAGAIN/EWOULDBLOCK, EOPNOTSUPP/ENOTSUP, EDEADLK/EDEADLOCK): Linux's name wins.
const PREFERRED_NAMES = new Set(['EAGAIN', 'EOPNOTSUPP', 'EDEADLK']);
const errnoNames: ReadonlyMap<number, string> = Object.entries(constants.errno).reduce(
  (names, [name, num]) => (names.has(num) && !PREFERRED_NAMES.has(name) ? names : names.set(num, name)),
  new Map<number, string>(),
);

/** Name of an errno value (`EEXIST`, `ENOENT`, ...), or `E<number>` when Node does not know it. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** Errno value of a name, for callers that compare against a constant. */
export function errnoValue(name: string): number {
  const value = (constants.errno as Record<string, number>)[name];
  if (value === undefined) throw new Error(`unknown errno name ${name}`);
  return value;
}

/** A failed system call: carries the call's name, the errno value and its symbolic name. */
export class SyscallError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, errno: number, detail?: string) {
    const code = errnoName(errno);
    super(`${syscall}${detail ? ` ${detail}` : ''}: ${code} (${describeErrno(errno)})`);
    this.name = 'SyscallError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

type Koffi = typeof import('koffi');

/** The libc functions tsnet binds. */
function bindLibc(libc: ReturnType<Koffi['load']>) {
  return {
    setns: libc.func('int setns(int fd, int nstype)'),
    unshare: libc.func('int unshare(int flags)'),
    socket: libc.func('int socket(int domain, int type, int protocol)'),
    bind: libc.func('int bind(int fd, const void *addr, uint32_t addrlen)'),
    getsockname: libc.func('int getsockname(int fd, _Out_ void *addr, _Inout_ uint32_t *addrlen)'),
    setsockopt: libc.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    getsockopt: libc.func(
      'int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *len)',
    ),
    sendto: libc.func(
      'intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)',
    ),
    recvfrom: libc.func(
      'intptr_t recvfrom(int fd, _Out_ void *buf, size_t len, int flags, void *addr, void *addrlen)',
    ),
    poll: libc.func('int poll(_Inout_ void *fds, unsigned long nfds, int timeout)'),
    close: libc.func('int close(int fd)'),
    flock: libc.func('int flock(int fd, int operation)'),
    mount: libc.func(
      'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
    ),
    umount2: libc.func('int umount2(const char *target, int flags)'),
    mknod: libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: libc.func(
      'int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)',
    ),
    lgetxattr: libc.func(
      'intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)',
    ),
    llistxattr: libc.func('intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)'),
    gettid: libc.func('int gettid()'),
    dup2: libc.func('int dup2(int oldfd, int newfd)'),
    sched_setscheduler: libc.func('int sched_setscheduler(int pid, int policy, const void *param)'),
    fcntl: libc.func('int fcntl(int fd, int cmd, ...)'),
    prlimit: libc.func('int prlimit(int pid, int resource, const void *limit, _Out_ void *old)'),
    // pidfd_open and pidfd_getfd through syscall(2): glibc wraps them only since 2.36, musl not at all
    syscall: libc.func('long syscall(long number, ...)'),
    strerror: libc.func('const char *strerror(int errnum)'),
    inotify_init1: libc.func('int inotify_init1(int flags)'),
    inotify_add_watch: libc.func('int inotify_add_watch(int fd, const char *path, uint32_t mask)'),
    inotify_rm_watch: libc.func('int inotify_rm_watch(int fd, int wd)'),
    read: libc.func('intptr_t read(int fd, _Out_ void *buf, size_t count)'),
  };
}

/**
 * koffi and the libc bindings, made on the first call of any binding: loading the native module and parsing
 * the prototypes costs a few milliseconds that a CNI plugin answering VERSION (or a DEL without a netns)
 * would pay for nothing. The plain `require` is what the plugin bundles resolve (scripts/build.ts points it
 * at the native module beside the plugin, and esbuild defers it to this call); under an ESM loader (tsx,
 * tests) there is no `require`, so one is made for this file.
 */
let native: { koffi: Koffi; c: ReturnType<typeof bindLibc> } | undefined;

/** koffi's native module could not be loaded (e.g. a plugin copied without its tsnet-native directory). */
export class NativeModuleError extends Error {
  constructor(cause: unknown) {
    // Node's "Cannot find module" message goes on with a require stack: its first line names the file.
    const reason = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0];
    super(`tsnet's native module (koffi) cannot be loaded: ${reason}`, { cause });
    this.name = 'NativeModuleError';
  }
}

function loadNative(): NonNullable<typeof native> {
  let koffi: Koffi;
  try {
    koffi = typeof require === 'function' ? require('koffi') : createRequire(import.meta.url)('koffi');
  } catch (err) {
    throw new NativeModuleError(err);
  }
  return { koffi, c: bindLibc(koffi.load('libc.so.6')) };
}

/** Loads the native module now; throws NativeModuleError when it is missing. */
export function requireNativeModule(): void {
  native ??= loadNative();
}

function libc(): ReturnType<typeof bindLibc> {
  native ??= loadNative();
  return native.c;
}

/** errno of the last binding called on this thread (the native module is loaded by then). */
function lastErrno(): number {
  native ??= loadNative();
  return native.koffi.errno();
}

function describeErrno(errno: number): string {
  return String(libc().strerror(errno));
}

function check(syscall: string, ret: number | bigint, detail?: string): number {
  const value = Number(ret);
  if (value < 0) throw new SyscallError(syscall, lastErrno(), detail);
  return value;
}

// Namespace and clone flags (linux/sched.h).
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

// Socket constants (linux/socket.h, linux/netlink.h).
export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
export const SO_PEERCRED = 17;
export const SO_PEERPIDFD = 77;
export const SOL_NETLINK = 270;
export const NETLINK_ADD_MEMBERSHIP = 1;
export const NETLINK_EXT_ACK = 11;
export const NETLINK_GET_STRICT_CHK = 12;
export const MSG_DONTWAIT = 0x40;
export const MSG_TRUNC = 0x20;
export const MSG_PEEK = 0x2;
export const POLLIN = 0x1;

// flock(2) operations.
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

// mount(2) flags and umount2(2) flags.
export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MS_SHARED = 0x100000;
export const MNT_DETACH = 0x2;

/** setns(2): move the calling thread into the namespace referred to by `fd`. */
export function setns(fd: number, nstype = 0): void {
  check('setns', libc().setns(fd, nstype));
}

/** unshare(2) for the calling thread. */
export function unshare(flags: number): void {
  check('unshare', libc().unshare(flags));
}

export function socket(domain: number, type: number, protocol: number): number {
  return check('socket', libc().socket(domain, type, protocol));
}

export function bind(fd: number, addr: Buffer): void {
  check('bind', libc().bind(fd, addr, addr.length));
}

export function getsockname(fd: number, size: number): Buffer {
  const addr = Buffer.alloc(size);
  const len = [size];
  check('getsockname', libc().getsockname(fd, addr, len));
  return addr.subarray(0, len[0]);
}

export function setsockoptInt(fd: number, level: number, name: number, value: number): void {
  const buf = Buffer.alloc(4);
  buf.writeInt32LE(value);
  check('setsockopt', libc().setsockopt(fd, level, name, buf, 4), `(level ${level}, option ${name})`);
}

/** The credentials of a unix socket's peer, as the kernel recorded them at connect(2) (struct ucred). */
export interface PeerCredentials {
  /** 0 when the peer's process is not visible in this PID namespace. */
  pid: number;
  uid: number;
  gid: number;
}

/** getsockopt(2) SO_PEERCRED on a connected unix socket: who is at the other end, as the kernel says. */
export function getPeerCredentials(fd: number): PeerCredentials {
  const ucred = Buffer.alloc(12);
  const len = [ucred.length];
  check('getsockopt', libc().getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ucred, len), '(SO_PEERCRED)');
  return { pid: ucred.readInt32LE(0), uid: ucred.readUInt32LE(4), gid: ucred.readUInt32LE(8) };
}

/** sendto(2) to a netlink or other datagram address; returns the byte count. */
export function sendto(fd: number, data: Buffer, flags: number, addr: Buffer | null): number {
  return check('sendto', libc().sendto(fd, data, data.length, flags, addr, addr ? addr.length : 0));
}

/**
 * sendto(2) on one of libuv's worker threads, for sends the kernel does slow work inside (rtnetlink creates
 * and deletes links within sendmsg). Resolves with the return value, -1 on failure: errno is per thread and
 * not carried back, so a caller needing it repeats the send synchronously.
 */
export function sendtoOffThread(
  fd: number,
  data: Buffer,
  flags: number,
  addr: Buffer | null,
): Promise<number> {
  return new Promise((resolve, reject) => {
    libc().sendto.async(
      fd,
      data,
      data.length,
      flags,
      addr,
      addr ? addr.length : 0,
      (err: unknown, ret: number | bigint) => {
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve(Number(ret));
      },
    );
  });
}

/**
 * recvfrom(2) into `buf`. Returns the datagram length (which may exceed buf.length with MSG_TRUNC),
 * or -1 when MSG_DONTWAIT was given and nothing is queued (EAGAIN).
 */
export function recv(fd: number, buf: Buffer, flags: number): number {
  const ret = Number(libc().recvfrom(fd, buf, buf.length, flags, null, null));
  if (ret < 0) {
    const errno = lastErrno();
    if (errnoName(errno) === 'EAGAIN') return -1;
    throw new SyscallError('recvfrom', errno);
  }
  return ret;
}

/**
 * Waits on a worker thread until `fd` is readable or `timeoutMs` passes, so the event loop never blocks.
 * Resolves true when readable.
 */
export function pollReadable(fd: number, timeoutMs: number): Promise<boolean> {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLIN, 4);
  return new Promise((resolve, reject) => {
    libc().poll.async(pfd, 1, timeoutMs, (err: unknown, ret: number) => {
      if (err) return reject(err instanceof Error ? err : new Error(String(err)));
      if (ret < 0) {
        const errno = lastErrno();
        if (errnoName(errno) === 'EINTR') return resolve(false);
        return reject(new SyscallError('poll', errno));
      }
      resolve(ret > 0 && (pfd.readInt16LE(6) & POLLIN) !== 0);
    });
  });
}

export function close(fd: number): void {
  check('close', libc().close(fd));
}

/** flock(2). With LOCK_NB returns false when the lock is held elsewhere; otherwise blocks. */
export function flock(fd: number, operation: number): boolean {
  const ret = Number(libc().flock(fd, operation));
  if (ret < 0) {
    const errno = lastErrno();
    if ((operation & LOCK_NB) !== 0 && errnoName(errno) === 'EAGAIN') return false;
    throw new SyscallError('flock', errno);
  }
  return true;
}

/** flock(2) with LOCK_EX on a worker thread, so waiting for the lock never blocks the event loop. */
export function flockExclusiveAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    libc().flock.async(fd, LOCK_EX, (err: unknown, ret: number) => {
      if (err) return reject(err instanceof Error ? err : new Error(String(err)));
      if (ret < 0) return reject(new SyscallError('flock', lastErrno()));
      resolve();
    });
  });
}

export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  check('mount', libc().mount(source, target, fstype, flags, data), `${source ?? 'none'} on ${target}`);
}

export function umount2(target: string, flags = 0): void {
  check('umount2', libc().umount2(target, flags), target);
}

export function gettid(): number {
  return libc().gettid();
}

export function dup2(oldfd: number, newfd: number): void {
  check('dup2', libc().dup2(oldfd, newfd), `${oldfd} onto ${newfd}`);
}

const F_GETFL = 3;
const F_SETFL = 4;

/** fcntl(F_GETFL): the file status flags of the open file behind `fd` (O_APPEND, O_NONBLOCK...). */
export function fileStatusFlags(fd: number): number {
  return check('fcntl', libc().fcntl(fd, F_GETFL), `F_GETFL of ${fd}`);
}

export function setFileStatusFlags(fd: number, flags: number): void {
  check('fcntl', libc().fcntl(fd, F_SETFL, 'int', flags), `F_SETFL of ${fd}`);
}

/** RLIMIT_CPU .. RLIMIT_RTTIME (sys/resource.h): every resource limit Linux has. */
export const RLIMIT_COUNT = 16;

/** prlimit(2): process `pid`'s soft and hard limit of `resource` (RLIM_INFINITY as 2^64-1). */
export function resourceLimit(pid: number, resource: number): Buffer {
  const old = Buffer.alloc(16); // struct rlimit { rlim_t rlim_cur, rlim_max }
  check('prlimit', libc().prlimit(pid, resource, null, old), `of pid ${pid}, resource ${resource}`);
  return old;
}

export function setResourceLimit(resource: number, limit: Buffer): void {
  check('prlimit', libc().prlimit(0, resource, limit, null), `resource ${resource}`);
}

/** SO_PEERPIDFD (Linux 6.5+): a pidfd of the process that connected, taken at connect(2); null when unknown. */
export function peerPidfd(fd: number): number | null {
  const value = Buffer.alloc(4);
  const len = [4];
  const ret = Number(libc().getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, value, len));
  if (ret < 0) {
    const errno = lastErrno();
    if (errnoName(errno) === 'ENOPROTOOPT') return null;
    throw new SyscallError('getsockopt', errno, '(SO_PEERPIDFD)');
  }
  return value.readInt32LE(0);
}

export const SCHED_OTHER = 0;
/** Runs only on a CPU that has nothing else to run (sched(7)). */
export const SCHED_IDLE = 5;

/** sched_setscheduler(2) of thread `tid` (0: the calling one) to a policy without a static priority. */
export function setSchedulingPolicy(tid: number, policy: typeof SCHED_OTHER | typeof SCHED_IDLE): void {
  const param = Buffer.alloc(4); // struct sched_param { int sched_priority = 0 }
  check('sched_setscheduler', libc().sched_setscheduler(tid, policy, param), `thread ${tid}`);
}

/**
 * Every thread of process `pid` (a thread takes its own policy and niceness) to SCHED_OTHER at niceness
 * `nice`. A thread that ends meanwhile is skipped; a process that has ended throws ENOENT.
 */
export function runEveryThreadAt(pid: number | 'self', nice: number): void {
  for (const tid of readdirSync(`/proc/${pid}/task`))
    try {
      setSchedulingPolicy(Number(tid), SCHED_OTHER);
      setPriority(Number(tid), nice);
    } catch {
      // a thread that ended meanwhile
    }
}

/** The same number on every architecture (the unified syscall table of Linux 5.1+). */
const SYS_PIDFD_OPEN = 434;
const SYS_PIDFD_GETFD = 438;

const SYS_PIDFD_SEND_SIGNAL = 424;

function pidfdSignal(pidfd: number, signal: number): number {
  const ret = libc().syscall(
    SYS_PIDFD_SEND_SIGNAL,
    'int',
    pidfd,
    'int',
    signal,
    'void *',
    null,
    'unsigned int',
    0,
  );
  return Number(ret);
}

/** Whether the process a pidfd names is still running (pidfd_send_signal(2) of signal 0). */
export function processAlive(pidfd: number): boolean {
  return pidfdSignal(pidfd, 0) === 0;
}

/**
 * pidfd_send_signal(2): `signal` to the process the pidfd names, never to a process that reused its pid.
 * False when it has ended (ESRCH).
 */
export function pidfdSendSignal(pidfd: number, signal: number): boolean {
  if (pidfdSignal(pidfd, signal) === 0) return true;
  const errno = lastErrno();
  if (errnoName(errno) === 'ESRCH') return false;
  throw new SyscallError('pidfd_send_signal', errno, `signal ${signal}`);
}

/** pidfd_open(2): a descriptor for process `pid` that names it even after its pid is reused. */
export function pidfdOpen(pid: number): number {
  const fd = Number(libc().syscall(SYS_PIDFD_OPEN, 'int', pid, 'unsigned int', 0));
  if (fd < 0) throw new SyscallError('pidfd_open', lastErrno(), `pid ${pid}`);
  return fd;
}

/**
 * pidfd_getfd(2): a duplicate, in this process, of the other process's descriptor `targetfd`: the same open
 * file (offset, flags, terminal) as dup(2) would give it. Needs ptrace rights over it (root here). Null when
 * it has no such descriptor (EBADF).
 */
export function pidfdGetfd(pidfd: number, targetfd: number): number | null {
  const fd = Number(libc().syscall(SYS_PIDFD_GETFD, 'int', pidfd, 'int', targetfd, 'unsigned int', 0));
  if (fd >= 0) return fd;
  const errno = lastErrno();
  if (errnoName(errno) === 'EBADF') return null;
  throw new SyscallError('pidfd_getfd', errno, `descriptor ${targetfd}`);
}

/** glibc's malloc_trim, bound on first use; null where the C library has none (musl). */
let mallocTrimFn: ((pad: number) => number) | null | undefined;

/**
 * malloc_trim(3): hands the free pages inside every malloc arena back to the kernel, not only those at the
 * top of the heap that free() gives back by itself. False when the C library has no malloc_trim or had
 * nothing to give back. Microseconds for a heap of a few megabytes.
 */
export function mallocTrim(): boolean {
  if (mallocTrimFn === undefined) {
    try {
      native ??= loadNative();
      mallocTrimFn = native.koffi.load('libc.so.6').func('int malloc_trim(size_t pad)') as (
        pad: number,
      ) => number;
    } catch {
      mallocTrimFn = null;
    }
  }
  return mallocTrimFn !== null && mallocTrimFn(0) === 1;
}

// File types for mknod(2) (sys/stat.h).
export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

/** makedev(3) as glibc encodes it: the 64-bit device number of a major and minor. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

/** mknod(2): a device node or FIFO; `mode` includes the file type (S_IFCHR, S_IFBLK, S_IFIFO). */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  check('mknod', libc().mknod(path, mode, makedev(major, minor)), path);
}

/** lsetxattr(2): sets an extended attribute on the path itself (a symlink is not followed). */
export function lsetxattr(path: string, name: string, value: Buffer): void {
  check('lsetxattr', libc().lsetxattr(path, name, value, value.length, 0), `${name} on ${path}`);
}

/** lgetxattr(2): the attribute's value, or undefined when the path does not have it (ENODATA). */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  for (let size = 256; ; size *= 4) {
    const buf = Buffer.alloc(size);
    const ret = Number(libc().lgetxattr(path, name, buf, size));
    if (ret >= 0) return buf.subarray(0, ret);
    const code = errnoName(lastErrno());
    if (code === 'ENODATA') return undefined;
    if (code !== 'ERANGE' || size > 1 << 20)
      throw new SyscallError('lgetxattr', errnoValue(code), `${name} on ${path}`);
  }
}

/** llistxattr(2): the names of the path's extended attributes. */
export function llistxattr(path: string): string[] {
  for (let size = 1024; ; size *= 4) {
    const buf = Buffer.alloc(size);
    const ret = Number(libc().llistxattr(path, buf, size));
    if (ret >= 0)
      return buf
        .subarray(0, ret)
        .toString('utf8')
        .split('\0')
        .filter((n) => n.length > 0);
    const code = errnoName(lastErrno());
    if (code !== 'ERANGE' || size > 1 << 20) throw new SyscallError('llistxattr', errnoValue(code), path);
  }
}

// inotify(7): event bits, and inotify_init1's flags (O_NONBLOCK, O_CLOEXEC).
export const IN_MODIFY = 0x2;
export const IN_ATTRIB = 0x4;
export const IN_CLOSE_WRITE = 0x8;
export const IN_MOVED_FROM = 0x40;
export const IN_MOVED_TO = 0x80;
export const IN_CREATE = 0x100;
export const IN_DELETE = 0x200;
export const IN_DELETE_SELF = 0x400;
export const IN_MOVE_SELF = 0x800;
export const IN_UNMOUNT = 0x2000;
export const IN_Q_OVERFLOW = 0x4000;
export const IN_IGNORED = 0x8000;
export const IN_ONLYDIR = 0x1000000;
export const IN_EXCL_UNLINK = 0x4000000;
const IN_NONBLOCK = 0o4000;
const IN_CLOEXEC = 0o2000000;

/** One inotify event: the watch, its mask and the name inside a watched directory ('' for the directory). */
export interface InotifyEvent {
  readonly wd: number;
  readonly mask: number;
  readonly name: string;
}

/** inotify_init1(2), non-blocking and close-on-exec. */
export function inotifyInit(): number {
  return check('inotify_init1', libc().inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
}

/** inotify_add_watch(2): the watch descriptor (the same one again for a path already watched). */
export function inotifyAddWatch(fd: number, path: string, mask: number): number {
  return check('inotify_add_watch', libc().inotify_add_watch(fd, path, mask), path);
}

/** inotify_rm_watch(2); a watch the kernel already dropped (EINVAL) is fine. */
export function inotifyRemoveWatch(fd: number, wd: number): void {
  if (Number(libc().inotify_rm_watch(fd, wd)) >= 0) return;
  const errno = lastErrno();
  if (errnoName(errno) !== 'EINVAL') throw new SyscallError('inotify_rm_watch', errno);
}

/** struct inotify_event: int wd; uint32_t mask, cookie, len; char name[len] (NUL-padded). */
const INOTIFY_HEADER = 16;

/**
 * Every event queued on the non-blocking inotify descriptor `fd` now, in the kernel's order, read into
 * `buffer` (at least 4096 bytes: one event with the longest name fits) until the queue is empty. Reading
 * never waits: a drained queue answers EAGAIN at once.
 */
export function readInotifyEvents(fd: number, buffer: Buffer): InotifyEvent[] {
  const events: InotifyEvent[] = [];
  for (;;) {
    const n = Number(libc().read(fd, buffer, buffer.length));
    if (n < 0) {
      const errno = lastErrno();
      if (errnoName(errno) === 'EAGAIN') return events;
      if (errnoName(errno) === 'EINTR') continue;
      throw new SyscallError('read', errno, 'of an inotify descriptor');
    }
    if (n === 0) return events;
    for (let off = 0; off + INOTIFY_HEADER <= n; ) {
      const len = buffer.readUInt32LE(off + 12);
      const raw = buffer.subarray(off + INOTIFY_HEADER, off + INOTIFY_HEADER + len);
      const nul = raw.indexOf(0);
      events.push({
        wd: buffer.readInt32LE(off),
        mask: buffer.readUInt32LE(off + 4),
        name: (nul < 0 ? raw : raw.subarray(0, nul)).toString('utf8'),
      });
      off += INOTIFY_HEADER + len;
    }
  }
}
