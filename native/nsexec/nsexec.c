// tsnet-nsexec: runs one process inside a running container the way `runc exec` does, without starting
// runc (two Go starts, ~40 ms here). The agent writes the whole process description into a file
// (pkg/runtime/nsexec.ts writes it, the format is there) and passes its path; this program
//   1. opens the container's init process as a pidfd and checks it is still that process (its start time),
//   2. moves itself into the container's cgroups (every hierarchy), then into its namespaces (one setns with
//      the pidfd),
//   3. forks: the child is in the container's pid namespace; it takes the session keyring, rlimits and OOM
//      score, the seccomp filter (built with libseccomp from the container's profile, with runc's -ENOSYS
//      answer for system calls newer than the profile), no_new_privs, the capability sets and the user, the
//      working directory and the environment, and executes the command;
//   4. the parent writes the child's pid file, forwards the signals it gets to the child and ends with the
//      child's exit code (128 + the signal when it was killed), as `runc exec` does.
// A failure to start the process is one JSON line `{"level":"error","msg":...}` in the log file (runc's
// format, so the agent reads both alike), the line runc prints on stderr ("exec failed: ..."), and exit
// code 255.
//
// Hardening, as runc's: the program first re-executes itself from a sealed memfd copy, so the host's binary
// is never what runs and what runs cannot be written (CVE-2019-5736), and it is non-dumpable before it joins
// anything, so no container process can open it through /proc while it runs there; execve gives the
// command its own dumpable state. Before the child resolves its working directory and command it closes
// every descriptor but stdio and its error pipe (no host directory to escape through: CVE-2024-21626), and a
// working directory outside the container's root is refused.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ITEMS 4096
#define MAX_ARGS 6
/** The largest uid or gid there is: (uid_t)-1 means "unchanged" to setresuid. */
#define MAX_ID 0xfffffffeULL
#define X32_SYSCALL_BIT 0x40000000u

static int log_fd = -1;

/** One failure, in runc's log format, then exit 255. */
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    buf += n;
    len -= (size_t)n;
  }
}

static void log_error_json(const char *msg) {
  char out[4096];
  size_t o = 0;
  const char *head = "{\"level\":\"error\",\"msg\":\"";
  for (const char *h = head; *h && o < sizeof out - 8; h++) out[o++] = *h;
  for (const unsigned char *p = (const unsigned char *)msg; *p && o < sizeof out - 16; p++) {
    if (*p == '"' || *p == '\\') {
      out[o++] = '\\';
      out[o++] = (char)*p;
    } else if (*p < 0x20) {
      o += (size_t)snprintf(out + o, sizeof out - o, "\\u%04x", *p);
    } else {
      out[o++] = (char)*p;
    }
  }
  const char *tail = "\"}\n";
  for (const char *t = tail; *t; t++) out[o++] = *t;
  if (log_fd >= 0) write_all(log_fd, out, o);
  // and on the exec's stderr, as runc prints it: the user's only word of why
  char line[2100];
  int n = snprintf(line, sizeof line, "exec failed: %s\n", msg);
  if (n > 0) write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void fail(const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  log_error_json(msg);
  _exit(255);
}

// ---- the description ------------------------------------------------------------------------------------

/** The file: entries "key=value", each ended by a NUL byte; repeated keys make lists. */
struct description {
  pid_t pid;
  unsigned long long start_time;
  int ns_flags;
  const char *container_id;
  const char *cgroups[64];
  int n_cgroups;
  const char *args[MAX_ITEMS + 1]; // and the NULL execve needs
  int n_args;
  const char *env[MAX_ITEMS + 1];
  int n_env;
  const char *cwd;
  uid_t uid;
  gid_t gid;
  gid_t groups[256];
  int n_groups;
  mode_t umask;
  uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
  int no_new_privs;
  int has_oom_score;
  int oom_score_adj;
  struct {
    int resource;
    struct rlimit limit;
  } rlimits[32];
  int n_rlimits;
  const char *pid_file;
  // seccomp: the default action, then "ACTION NAME [INDEX OP VALUE VALUE2]..." per rule
  int has_seccomp;
  uint32_t seccomp_default;
  const char *seccomp_arches[16];
  int n_seccomp_arches;
  const char *seccomp_rules[MAX_ITEMS];
  int n_seccomp_rules;
  unsigned int seccomp_flags;
  /** the compiled filter of these rules: read when there, written when not (named by the rules' hash) */
  const char *seccomp_cache;
};

static char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("open %s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) < 0) fail("stat %s: %s", path, strerror(errno));
  char *buf = malloc((size_t)st.st_size + 1);
  if (!buf) fail("out of memory");
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("read %s: %s", path, n < 0 ? strerror(errno) : "short file");
    got += (size_t)n;
  }
  buf[got] = '\0';
  close(fd);
  *len = got;
  return buf;
}

static unsigned long long number(const char *key, const char *text, int base) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, base);
  if (errno || end == text || *end) fail("bad %s in the exec description: %s", key, text);
  return v;
}

/** A number no larger than `max`: a value cut to its type could mean another (uid 2^32 is 0, -1 is none). */
static unsigned long long at_most(const char *key, const char *text, unsigned long long max) {
  unsigned long long v = number(key, text, 10);
  if (v > max) fail("bad %s in the exec description: %s (at most %llu)", key, text, max);
  return v;
}

static long long signed_number(const char *key, const char *text) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || end == text || *end) fail("bad %s in the exec description: %s", key, text);
  return v;
}

#define PUSH(list, count, value, what)                                          \
  do {                                                                          \
    if ((size_t)(count) >= sizeof(list) / sizeof((list)[0])) fail("too many " what); \
    (list)[(count)++] = (value);                                                \
  } while (0)

static void parse_rlimit(struct description *d, char *value) {
  int resource;
  unsigned long long soft, hard;
  if (sscanf(value, "%d %llu %llu", &resource, &soft, &hard) != 3) fail("bad rlimit: %s", value);
  if ((size_t)d->n_rlimits >= sizeof d->rlimits / sizeof d->rlimits[0]) fail("too many rlimits");
  d->rlimits[d->n_rlimits].resource = resource;
  d->rlimits[d->n_rlimits].limit.rlim_cur = (rlim_t)soft;
  d->rlimits[d->n_rlimits].limit.rlim_max = (rlim_t)hard;
  d->n_rlimits++;
}

static void parse_description(struct description *d, char *buf, size_t len) {
  memset(d, 0, sizeof *d);
  d->umask = 022;
  for (size_t at = 0; at < len;) {
    char *entry = buf + at;
    size_t n = strlen(entry);
    at += n + 1;
    char *eq = strchr(entry, '=');
    if (!eq) fail("bad entry in the exec description: %s", entry);
    *eq = '\0';
    const char *key = entry;
    char *value = eq + 1;
    if (!strcmp(key, "pid")) d->pid = (pid_t)at_most(key, value, INT_MAX);
    else if (!strcmp(key, "start")) d->start_time = number(key, value, 10);
    else if (!strcmp(key, "ns")) d->ns_flags = (int)at_most(key, value, INT_MAX);
    else if (!strcmp(key, "id")) d->container_id = value;
    else if (!strcmp(key, "cgroup")) PUSH(d->cgroups, d->n_cgroups, value, "cgroups");
    else if (!strcmp(key, "arg") && d->n_args < MAX_ITEMS) d->args[d->n_args++] = value;
    else if (!strcmp(key, "arg")) fail("too many arguments");
    else if (!strcmp(key, "env") && d->n_env < MAX_ITEMS) d->env[d->n_env++] = value;
    else if (!strcmp(key, "env")) fail("too many environment variables");
    else if (!strcmp(key, "cwd")) d->cwd = value;
    else if (!strcmp(key, "uid")) d->uid = (uid_t)at_most(key, value, MAX_ID);
    else if (!strcmp(key, "gid")) d->gid = (gid_t)at_most(key, value, MAX_ID);
    else if (!strcmp(key, "group")) PUSH(d->groups, d->n_groups, (gid_t)at_most(key, value, MAX_ID), "groups");
    else if (!strcmp(key, "umask")) d->umask = (mode_t)at_most(key, value, 07777);
    else if (!strcmp(key, "cap.bounding")) d->cap_bounding = number(key, value, 16);
    else if (!strcmp(key, "cap.effective")) d->cap_effective = number(key, value, 16);
    else if (!strcmp(key, "cap.permitted")) d->cap_permitted = number(key, value, 16);
    else if (!strcmp(key, "cap.inheritable")) d->cap_inheritable = number(key, value, 16);
    else if (!strcmp(key, "cap.ambient")) d->cap_ambient = number(key, value, 16);
    else if (!strcmp(key, "nnp")) d->no_new_privs = value[0] == '1';
    else if (!strcmp(key, "oom")) {
      d->has_oom_score = 1;
      long long oom = signed_number(key, value);
      if (oom < -1000 || oom > 1000) fail("bad %s in the exec description: %s", key, value);
      d->oom_score_adj = (int)oom;
    } else if (!strcmp(key, "rlimit")) parse_rlimit(d, value);
    else if (!strcmp(key, "pidfile")) d->pid_file = value;
    else if (!strcmp(key, "seccomp.default")) {
      d->has_seccomp = 1;
      d->seccomp_default = (uint32_t)number(key, value, 10);
    } else if (!strcmp(key, "seccomp.arch")) PUSH(d->seccomp_arches, d->n_seccomp_arches, value, "arches");
    else if (!strcmp(key, "seccomp.rule")) PUSH(d->seccomp_rules, d->n_seccomp_rules, value, "seccomp rules");
    else if (!strcmp(key, "seccomp.flags")) d->seccomp_flags = (unsigned int)number(key, value, 10);
    else if (!strcmp(key, "seccomp.cache")) d->seccomp_cache = value;
    else fail("unknown entry in the exec description: %s", key);
  }
  if (d->pid <= 0 || !d->start_time) fail("the exec description names no container process");
  if (d->n_args == 0) fail("the exec description has no command");
  if (!d->cwd) d->cwd = "/";
  d->args[d->n_args] = NULL;
  d->env[d->n_env] = NULL;
}

// ---- the container's process ------------------------------------------------------------------------------

/** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
static unsigned long long start_time_of(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char *p = strrchr(buf, ')'); // the command name may hold spaces and parentheses
  if (!p) return 0;
  p++;
  for (int field = 3; field < 22; field++) {
    p = strchr(p + 1, ' ');
    if (!p) return 0;
  }
  return strtoull(p + 1, NULL, 10);
}

static int open_container_process(const struct description *d) {
  int pidfd = (int)syscall(SYS_pidfd_open, d->pid, 0);
  if (pidfd < 0) fail("container process %d is gone: %s", (int)d->pid, strerror(errno));
  // the pidfd holds the process: if its start time is the container's now, it is the container's
  if (start_time_of(d->pid) != d->start_time) fail("container process %d is gone", (int)d->pid);
  return pidfd;
}

/** The cgroup.procs file of each of the container's cgroups, opened while we see the host's cgroupfs. */
static void open_cgroups(const struct description *d, int *fds) {
  for (int i = 0; i < d->n_cgroups; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cgroup.procs", d->cgroups[i]);
    fds[i] = open(path, O_WRONLY | O_CLOEXEC);
    if (fds[i] < 0) fail("join cgroup %s: %s", d->cgroups[i], strerror(errno));
  }
}

/** Moves the child (a host pid: this process stays in the host's pid namespace) into the cgroups. */
static int move_to_cgroups(const struct description *d, const int *fds, pid_t pid) {
  char text[32];
  int len = snprintf(text, sizeof text, "%d", (int)pid);
  for (int i = 0; i < d->n_cgroups; i++) {
    if (write(fds[i], text, (size_t)len) != len) return -1;
    close(fds[i]);
  }
  return 0;
}

/** runc's order when namespaces are joined one by one: the user namespace first, the mount one late. */
static const struct {
  int flag;
  const char *name;
} NAMESPACES[] = {
    {CLONE_NEWUSER, "user"}, {CLONE_NEWIPC, "ipc"}, {CLONE_NEWUTS, "uts"},       {CLONE_NEWNET, "net"},
    {CLONE_NEWPID, "pid"},   {CLONE_NEWNS, "mnt"},  {CLONE_NEWCGROUP, "cgroup"},
};

static void join_namespaces(const struct description *d, int pidfd) {
  if (!d->ns_flags) return;
  if (setns(pidfd, d->ns_flags) == 0) return;
  if (errno != EINVAL) fail("join the container's namespaces: %s", strerror(errno));
  // a kernel before 5.8 takes only namespace files: open them all first, then join
  int fds[sizeof NAMESPACES / sizeof NAMESPACES[0]];
  for (size_t i = 0; i < sizeof NAMESPACES / sizeof NAMESPACES[0]; i++) {
    fds[i] = -1;
    if (!(d->ns_flags & NAMESPACES[i].flag)) continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)d->pid, NAMESPACES[i].name);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) fail("open %s: %s", path, strerror(errno));
  }
  if (start_time_of(d->pid) != d->start_time) fail("container process %d is gone", (int)d->pid);
  for (size_t i = 0; i < sizeof NAMESPACES / sizeof NAMESPACES[0]; i++) {
    if (fds[i] < 0) continue;
    if (setns(fds[i], NAMESPACES[i].flag) < 0)
      fail("join the container's %s namespace: %s", NAMESPACES[i].name, strerror(errno));
    close(fds[i]);
  }
}

// ---- seccomp ----------------------------------------------------------------------------------------------

struct filter {
  struct sock_fprog prog;
  unsigned int flags;
};

/** One rule: "ACTION NAME" then "INDEX OP VALUE VALUE2" per argument condition, space separated. */
static void add_rule(scmp_filter_ctx ctx, const char *text, uint32_t default_action, int *max_native) {
  char name[128];
  unsigned int action;
  int used = 0;
  if (sscanf(text, "%u %127s%n", &action, name, &used) != 2) fail("bad seccomp rule: %s", text);
  struct scmp_arg_cmp cmps[MAX_ARGS];
  int n = 0, index_seen[MAX_ARGS] = {0}, repeated = 0;
  const char *p = text + used;
  for (;;) {
    unsigned int index, op;
    unsigned long long v1, v2;
    int got = 0;
    if (sscanf(p, " %u %u %llu %llu%n", &index, &op, &v1, &v2, &got) != 4) break;
    if (n >= MAX_ARGS || index >= MAX_ARGS || op < SCMP_CMP_NE || op > SCMP_CMP_MASKED_EQ)
      fail("bad seccomp condition in: %s", text);
    cmps[n++] = (struct scmp_arg_cmp){.arg = index, .op = (enum scmp_compare)op, .datum_a = v1, .datum_b = v2};
    if (index_seen[index]++) repeated = 1;
    p += got;
  }
  // a condition that does not parse must not leave the rule with fewer conditions (an ALLOW made wider)
  while (*p == ' ') p++;
  if (*p != '\0' && *p != '\n') fail("bad seccomp condition in: %s", text);
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return; // unknown to libseccomp: runc skips it too
  if (nr > *max_native) *max_native = nr;
  if (action == default_action) return;
  // two conditions on one argument cannot both hold in one rule: as runc does, each becomes its own rule
  int rc = 0;
  if (repeated) {
    for (int i = 0; i < n && rc == 0; i++) rc = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[i]);
  } else {
    rc = seccomp_rule_add_array(ctx, action, nr, (unsigned int)n, cmps);
  }
  if (rc < 0) fail("seccomp rule for %s: %s", name, strerror(-rc));
}

/**
 * The BPF program of the container's profile: libseccomp's, behind runc's stub that answers -ENOSYS for a
 * native system call newer than every one the profile names (so a libc falls back, as it would under runc),
 * rather than the profile's default answer.
 */
static struct filter build_filter(const struct description *d) {
  scmp_filter_ctx ctx = seccomp_init(d->seccomp_default);
  if (!ctx) fail("seccomp: bad default action %u", d->seccomp_default);
  // no_new_privs is ours to set, as the process spec says
  if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) fail("seccomp: cannot leave no_new_privs alone");
  for (int i = 0; i < d->n_seccomp_arches; i++) {
    uint32_t arch = seccomp_arch_resolve_name(d->seccomp_arches[i]);
    if (!arch) fail("seccomp: unknown architecture %s", d->seccomp_arches[i]);
    int rc = seccomp_arch_add(ctx, arch);
    if (rc < 0 && rc != -EEXIST) fail("seccomp: architecture %s: %s", d->seccomp_arches[i], strerror(-rc));
  }
  int max_native = -1;
  for (int i = 0; i < d->n_seccomp_rules; i++) add_rule(ctx, d->seccomp_rules[i], d->seccomp_default, &max_native);

  int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0) fail("seccomp: memfd: %s", strerror(errno));
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0) fail("seccomp: export the filter: %s", strerror(-rc));
  seccomp_release(ctx);
  off_t size = lseek(fd, 0, SEEK_END);
  if (size <= 0 || size % (off_t)sizeof(struct sock_filter)) fail("seccomp: bad exported filter");
  size_t count = (size_t)size / sizeof(struct sock_filter);

  int stub = d->seccomp_default != SCMP_ACT_ALLOW && max_native >= 0;
  size_t prefix = stub ? 6 : 0;
  if (count + prefix > BPF_MAXINSNS) fail("seccomp: the filter is too long");
  struct sock_filter *code = calloc(count + prefix, sizeof *code);
  if (!code) fail("out of memory");
  if (pread(fd, code + prefix, (size_t)size, 0) != size) fail("seccomp: read the filter: %s", strerror(errno));
  close(fd);
  if (stub) {
    uint32_t native = seccomp_arch_native();
    // [0] arch; not native: the profile. [2] nr; x32: the profile; > newest named: ENOSYS; else the profile
    code[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    code[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native, 0, 4);
    code[2] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    code[3] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
                                           native == AUDIT_ARCH_X86_64 ? X32_SYSCALL_BIT : UINT32_MAX, 2, 0);
    code[4] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, (uint32_t)max_native, 0, 1);
    code[5] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
  }
  return (struct filter){.prog = {.len = (unsigned short)(count + prefix), .filter = code},
                         .flags = d->seccomp_flags};
}


/** The cached program, or 0 when there is none (or it is not a whole program). */
static int read_cached_filter(const struct description *d, struct filter *f) {
  int fd = open(d->seccomp_cache, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) ||
      st.st_size > (off_t)(BPF_MAXINSNS * sizeof(struct sock_filter))) {
    close(fd);
    return 0;
  }
  struct sock_filter *code = malloc((size_t)st.st_size);
  if (!code || pread(fd, code, (size_t)st.st_size, 0) != st.st_size) {
    close(fd);
    free(code);
    return 0;
  }
  close(fd);
  *f = (struct filter){.prog = {.len = (unsigned short)((size_t)st.st_size / sizeof *code), .filter = code},
                       .flags = d->seccomp_flags};
  return 1;
}

/** Keeps the compiled program for the next exec: temp + fsync + rename, so a reader sees all of it or none. */
static void write_cached_filter(const struct description *d, const struct filter *f) {
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s.%d.tmp", d->seccomp_cache, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return; // only a cache
  size_t size = f->prog.len * sizeof(struct sock_filter);
  int ok = write(fd, f->prog.filter, size) == (ssize_t)size && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp, d->seccomp_cache) < 0) unlink(tmp);
}

/** The container's filter: compiled once per container (libseccomp takes ~15 ms for Docker's profile). */
static struct filter container_filter(const struct description *d) {
  struct filter f;
  if (d->seccomp_cache && read_cached_filter(d, &f)) return f;
  f = build_filter(d);
  if (d->seccomp_cache) write_cached_filter(d, &f);
  return f;
}

// ---- the child: becomes the process -------------------------------------------------------------------------

static int err_pipe = -1;

/** strerror as Go words it (the agent reads runc's messages): "no such file or directory". */
static const char *go_error(int err) {
  static char text[256];
  snprintf(text, sizeof text, "%s", strerror(err));
  if (text[0] >= 'A' && text[0] <= 'Z') text[0] = (char)(text[0] - 'A' + 'a');
  return text;
}

/** Tells the parent why the process could not start, then ends. */
static void child_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void child_fail(const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof msg - 1) n = (int)sizeof msg - 1;
  write_all(err_pipe, msg, (size_t)n);
  _exit(255);
}

static void load_filter(const struct filter *f) {
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &f->prog) < 0)
    child_fail("load the seccomp filter: %s", strerror(errno));
}

static void set_capabilities(const struct description *d, int last_cap) {
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {
      {.effective = (uint32_t)d->cap_effective,
       .permitted = (uint32_t)d->cap_permitted,
       .inheritable = (uint32_t)d->cap_inheritable},
      {.effective = (uint32_t)(d->cap_effective >> 32),
       .permitted = (uint32_t)(d->cap_permitted >> 32),
       .inheritable = (uint32_t)(d->cap_inheritable >> 32)},
  };
  if (syscall(SYS_capset, &header, data) < 0) child_fail("set capabilities: %s", strerror(errno));
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    child_fail("clear ambient capabilities: %s", strerror(errno));
  for (int cap = 0; cap <= last_cap; cap++) {
    if (!(d->cap_ambient >> cap & 1)) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      child_fail("raise ambient capability %d: %s", cap, strerror(errno));
  }
}

static void drop_bounding(const struct description *d, int last_cap) {
  for (int cap = 0; cap <= last_cap; cap++) {
    if (d->cap_bounding >> cap & 1) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      child_fail("drop capability %d from the bounding set: %s", cap, strerror(errno));
  }
}

static const char *env_value(const struct description *d, const char *name) {
  size_t len = strlen(name);
  for (int i = 0; i < d->n_env; i++) {
    if (!strncmp(d->env[i], name, len) && d->env[i][len] == '=') return d->env[i] + len + 1;
  }
  return NULL;
}

/** Go's exec.LookPath (what runc uses): a name with a slash as it is, else the first executable in $PATH. */
static const char *look_path(const struct description *d, char *buf, size_t size) {
  const char *name = d->args[0];
  struct stat st;
  if (strchr(name, '/')) {
    if (stat(name, &st) < 0) child_fail("exec: \"%s\": stat %s: %s", name, name, go_error(errno));
    if (S_ISDIR(st.st_mode) || !(st.st_mode & 0111)) child_fail("exec: \"%s\": permission denied", name);
    return name;
  }
  const char *path = env_value(d, "PATH");
  for (const char *dir = path; dir && *dir;) {
    const char *colon = strchr(dir, ':');
    size_t len = colon ? (size_t)(colon - dir) : strlen(dir);
    snprintf(buf, size, "%.*s/%s", (int)len, len ? dir : ".", name);
    if (stat(buf, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111)) return buf;
    if (!colon) break;
    dir = colon + 1;
  }
  child_fail("exec: \"%s\": executable file not found in $PATH", name);
}

/**
 * Closes every descriptor but stdio and the error pipe (moved to 3): the log, the pid file's directory and
 * the cgroup files are the host's, and an open host directory is a way out while the child resolves its
 * working directory and command (a cwd or $PATH of /proc/self/fd/N/..: runc's CVE-2024-21626).
 */
static void close_host_descriptors(void) {
  if (err_pipe != 3) {
    if (dup3(err_pipe, 3, O_CLOEXEC) < 0) _exit(255);
    close(err_pipe);
    err_pipe = 3;
  }
  if (syscall(SYS_close_range, 4, ~0U, 0) == 0) return;
  if (errno != ENOSYS && errno != EINVAL) child_fail("close descriptors: %s", strerror(errno));
  // a kernel before 5.9: each descriptor the process could have (the rlimits are still the agent's)
  struct rlimit nofile;
  rlim_t top = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 1048576 ? nofile.rlim_cur : 1048576;
  for (int fd = 4; fd < (int)top; fd++) close(fd);
}

/** After a chdir: the working directory must be inside the container's root (not a host directory). */
static void check_cwd_inside(const char *cwd) {
  char now[PATH_MAX];
  // the kernel names a directory outside the process's root "(unreachable)...", and glibc fails with ENOENT
  if (!getcwd(now, sizeof now) || now[0] != '/')
    child_fail("the working directory \"%s\" is outside the container's root: refused", cwd);
}

static void become_process(const struct description *d, const struct filter *filter, int last_cap) {
  // the container's session keyring, by its name (runc's), rather than the agent's
  if (d->container_id) {
    char name[128];
    snprintf(name, sizeof name, "_ses.%s", d->container_id);
    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0 && errno != ENOSYS && errno != EDQUOT)
      child_fail("join the session keyring: %s", strerror(errno));
  }
  for (int i = 0; i < d->n_rlimits; i++) {
    if (setrlimit(d->rlimits[i].resource, &d->rlimits[i].limit) < 0)
      child_fail("set rlimit %d: %s", d->rlimits[i].resource, strerror(errno));
  }
  if (d->has_oom_score) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    char text[16];
    int len = snprintf(text, sizeof text, "%d", d->oom_score_adj);
    if (fd < 0 || write(fd, text, (size_t)len) != len) child_fail("set oom_score_adj: %s", strerror(errno));
    close(fd);
  }
  // without no_new_privs the filter needs CAP_SYS_ADMIN: loaded while we hold it (runc's order)
  if (d->has_seccomp && !d->no_new_privs) load_filter(filter);
  if (d->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    child_fail("set no_new_privs: %s", strerror(errno));
  // the working directory first as root (the user may not reach it), again as the user on EACCES
  int chdir_later = 0;
  if (chdir(d->cwd) < 0) {
    if (errno != EACCES) child_fail("chdir to cwd (\"%s\") set in config.json failed: %s", d->cwd, go_error(errno));
    chdir_later = 1;
  } else {
    check_cwd_inside(d->cwd);
  }
  drop_bounding(d, last_cap);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) child_fail("keep capabilities: %s", strerror(errno));
  if (setgroups((size_t)d->n_groups, d->groups) < 0) child_fail("setgroups: %s", strerror(errno));
  if (setresgid(d->gid, d->gid, d->gid) < 0) child_fail("setgid %u: %s", (unsigned)d->gid, strerror(errno));
  if (setresuid(d->uid, d->uid, d->uid) < 0) child_fail("setuid %u: %s", (unsigned)d->uid, strerror(errno));
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) child_fail("keep capabilities: %s", strerror(errno));
  if (chdir_later) {
    if (chdir(d->cwd) < 0)
      child_fail("chdir to cwd (\"%s\") set in config.json failed: %s", d->cwd, go_error(errno));
    check_cwd_inside(d->cwd);
  }
  set_capabilities(d, last_cap);
  umask(d->umask);

  char found[PATH_MAX];
  const char *path = look_path(d, found, sizeof found);
  if (d->has_seccomp && d->no_new_privs) load_filter(filter);
  execve(path, (char *const *)d->args, (char *const *)d->env);
  child_fail("exec: \"%s\": %s", d->args[0], go_error(errno));
}

// ---- a sealed copy of this program ---------------------------------------------------------------------------

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern char **environ;

/**
 * Runs this program from a sealed in-memory copy of itself (runc's defence against CVE-2019-5736): a
 * container that makes its /bin/sh "#!/proc/self/exe" gets this program executed inside it, dumpable, and
 * could then write to the binary through /proc/PID/exe once it no longer runs. A sealed memfd cannot be
 * written, and the file on the host is never what runs. Returns when this already is the sealed copy.
 */
static void run_from_sealed_copy(char **argv) {
  const int sealed = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
  int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (exe < 0) fail("open /proc/self/exe: %s", strerror(errno));
  int seals = fcntl(exe, F_GET_SEALS);
  if (seals >= 0 && (seals & sealed) == sealed) {
    close(exe);
    return;
  }
  int copy = memfd_create("tsnet-nsexec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (copy < 0 && errno == EINVAL) copy = memfd_create("tsnet-nsexec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (copy < 0) fail("memfd_create for a sealed copy of the program: %s", strerror(errno));
  struct stat st;
  if (fstat(exe, &st) < 0) fail("stat /proc/self/exe: %s", strerror(errno));
  for (off_t done = 0; done < st.st_size;) {
    ssize_t n = sendfile(copy, exe, &done, (size_t)(st.st_size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("copy the program into its sealed copy: %s", n < 0 ? strerror(errno) : "short copy");
  }
  if (fcntl(copy, F_ADD_SEALS, sealed) < 0) fail("seal the program's copy: %s", strerror(errno));
  close(exe);
  syscall(SYS_execveat, copy, "", argv, environ, AT_EMPTY_PATH);
  fail("execute the sealed copy of the program: %s", strerror(errno));
}

// ---- the parent: waits ----------------------------------------------------------------------------------------

static volatile pid_t child_pid;

static void forward_signal(int sig) {
  if (child_pid > 0) kill(child_pid, sig);
}

/** The pid file, temp + rename in its directory (opened before we left the host's mount namespace). */
static void write_pid_file(int dir_fd, const char *name, pid_t pid) {
  char tmp[NAME_MAX + 1], text[32];
  snprintf(tmp, sizeof tmp, ".%.*s.tmp", NAME_MAX - 6, name);
  int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  int len = snprintf(text, sizeof text, "%d", (int)pid);
  write_all(fd, text, (size_t)len);
  close(fd);
  renameat(dir_fd, tmp, dir_fd, name);
}

static int last_capability(void) {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  char buf[16] = {0};
  if (fd < 0 || read(fd, buf, sizeof buf - 1) <= 0) return CAP_LAST_CAP;
  close(fd);
  return atoi(buf);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s DESCRIPTION LOG\n", argv[0]);
    return 2;
  }
  log_fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) fail("open the log %s: %s", argv[2], strerror(errno));
  run_from_sealed_copy(argv);
  prctl(PR_SET_NAME, "tsnet-nsexec", 0, 0, 0); // an execveat of a descriptor names the process by its number
  // nothing in the container may reach this binary through /proc while it runs there
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail("set non-dumpable: %s", strerror(errno));

  size_t len;
  char *text = read_file(argv[1], &len);
  static struct description d;
  parse_description(&d, text, len);
  int last_cap = last_capability();

  // what the parent needs on the host, opened while it is still there
  int pid_dir = -1;
  const char *pid_name = NULL;
  if (d.pid_file) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", d.pid_file);
    char *slash = strrchr(dir, '/');
    if (!slash || !slash[1]) fail("bad pid file %s", d.pid_file);
    *slash = '\0';
    pid_name = strrchr(d.pid_file, '/') + 1;
    pid_dir = open(slash == dir ? "/" : dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (pid_dir < 0) fail("open %s: %s", dir, strerror(errno));
  }
  struct filter filter = {0};
  if (d.has_seccomp) filter = container_filter(&d);

  int pidfd = open_container_process(&d);
  static int cgroup_fds[64];
  open_cgroups(&d, cgroup_fds);
  join_namespaces(&d, pidfd);
  close(pidfd);

  // go: the parent has put the child in the cgroups; why: the child's reason for not starting
  int go[2], why_fds[2];
  if (pipe2(go, O_CLOEXEC) < 0 || pipe2(why_fds, O_CLOEXEC) < 0) fail("pipe: %s", strerror(errno));
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old); // no handler runs in the child before it resets them
  pid_t pid = fork();
  if (pid < 0) fail("fork: %s", strerror(errno));
  if (pid == 0) {
    close(go[1]);
    close(why_fds[0]);
    err_pipe = why_fds[1];
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    char byte;
    ssize_t n;
    while ((n = read(go[0], &byte, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) _exit(255); // the parent failed and said why
    close_host_descriptors();
    become_process(&d, &filter, last_cap);
  }
  child_pid = pid;
  close(go[0]);
  close(why_fds[1]);
  static const int FORWARDED[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
  struct sigaction sa = {.sa_handler = forward_signal, .sa_flags = SA_RESTART};
  for (size_t i = 0; i < sizeof FORWARDED / sizeof FORWARDED[0]; i++) sigaction(FORWARDED[i], &sa, NULL);
  sigprocmask(SIG_SETMASK, &old, NULL);
  signal(SIGPIPE, SIG_IGN); // a child gone before its go byte is told by its status, not by our death
  if (move_to_cgroups(&d, cgroup_fds, pid) < 0) {
    int err = errno;
    kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    // a signal forwarded before it could start ended it (the client's Ctrl-C): that is how it ended
    if (err == ESRCH && WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL) return 128 + WTERMSIG(status);
    fail("join the container's cgroups: %s", strerror(err));
  }
  if (pid_dir >= 0) write_pid_file(pid_dir, pid_name, pid);
  write_all(go[1], "1", 1);
  close(go[1]);

  char why[2048];
  size_t got = 0;
  for (;;) {
    ssize_t n = read(why_fds[0], why + got, sizeof why - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
    if (got == sizeof why - 1) break;
  }
  why[got] = '\0';
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (got > 0) {
    char msg[2100];
    snprintf(msg, sizeof msg, "unable to start container process: %s", why);
    log_error_json(msg);
    return 255;
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
