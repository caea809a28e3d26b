// The native tsnetctl: hands the invocation to a warm tsnetctl process the agent keeps ready (protocol in
// pkg/ctl/warm-protocol.ts), so a command costs a connect and the command's own work instead of a Node start.
// The warm process takes this process's stdin, stdout and stderr itself (pidfd_getfd), so output, terminals,
// redirections and pipes are this process's; this one only forwards signals and ends with its exit code.
//
// When the warm process cannot take the invocation (no agent or no warm socket, a busy pool, a refusal: another
// build, namespace or user; no answer in time), nothing has been done: the Node tsnetctl
// (NODE_CTL_FROM_BIN, relative to this binary) is executed in its place with the same argv and environment.
// It is executed directly, without asking, when the environment sets TSNET_CTL_NO_WARM. (Variables that Node
// reads as it starts, such as NODE_OPTIONS, are the warm process's to compare: it refuses when they differ.)
//
// scripts/build.ts compiles it into dist/bin/tsnetctl with ctl-front.h (generated from the TypeScript
// constants, so both ends share one definition).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl-front.h"

extern char **environ;

/** Signals a terminal or a supervisor sends the client, forwarded to the warm process that is it now. */
static const int FORWARDED[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2, SIGCONT};
/** A pidfd of the warm process once it took the call: signals go to it. */
static volatile int warm_pidfd = -1;
/** TSNET_CTL_DEBUG set: one line on stderr says which path the invocation took. */
static int debug;
static volatile sig_atomic_t last_forwarded;

static char **saved_argv;

static void say(const char *fmt, const char *detail) {
  if (!debug) return;
  fprintf(stderr, "tsnetctl: ");
  fprintf(stderr, fmt, detail);
  fputc('\n', stderr);
}

/** Executes the Node tsnetctl beside this binary with our argv; returns only when that fails. */
static void exec_node_because(const char *why) {
  say("running the Node tsnetctl: %s", why);
  (void)why;
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) {
      *slash = '\0';
      char path[PATH_MAX];
      if (snprintf(path, sizeof path, "%s/%s", self, TSNET_NODE_CTL_FROM_BIN) < (int)sizeof path) {
        execv(path, saved_argv);
        fprintf(stderr, "tsnetctl: cannot execute %s: %s\n", path, strerror(errno));
        exit(TSNET_EXIT_LOST);
      }
    }
  }
  fprintf(stderr, "tsnetctl: cannot find the Node tsnetctl beside /proc/self/exe\n");
  exit(TSNET_EXIT_LOST);
}

/** The agent's API socket path from argv's -H/--host before the command, $TSNET_HOST, else the default. */
static const char *api_socket(int argc, char **argv) {
  const char *host = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || strcmp(a, "--") == 0) break; // the command: global flags come before it
    if ((strcmp(a, "-H") == 0 || strcmp(a, "--host") == 0) && i + 1 < argc)
      host = argv[++i];
    else if (strncmp(a, "--host=", 7) == 0)
      host = a + 7;
    else if (strncmp(a, "-H", 2) == 0 && a[2] != '\0')
      host = a + 2;
  }
  if (!host) host = getenv(TSNET_HOST_ENV);
  if (!host) return TSNET_DEFAULT_API_SOCKET;
  // unix:///abs or unix:/abs, as pkg/api/client.ts accepts; anything else is the Node tsnetctl's to refuse
  if (strncmp(host, "unix:///", 8) == 0) return host + 7;
  if (strncmp(host, "unix:/", 6) == 0 && host[6] != '/') return host + 5;
  return NULL;
}

struct buf {
  char *data;
  size_t len, cap;
};

static int buf_put_bytes(struct buf *b, const char *s, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    char *data = realloc(b->data, cap);
    if (!data) return -1;
    b->data = data;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  return 0;
}

/** A string with its NUL. */
static int buf_put(struct buf *b, const char *s) { return buf_put_bytes(b, s, strlen(s) + 1); }

static int buf_put_count(struct buf *b, size_t count) {
  char tmp[32];
  snprintf(tmp, sizeof tmp, "%zu", count);
  return buf_put(b, tmp);
}

/** The request (length prefix included), or NULL when it cannot be built. */
static struct buf *build_request(int argc, char **argv) {
  static struct buf b;
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) return NULL;
  size_t envc = 0;
  for (char **e = environ; *e; e++) envc++;
  if (buf_put_bytes(&b, "\0\0\0\0", 4) < 0) return NULL; // room for the length
  if (buf_put(&b, TSNET_WARM_MAGIC) < 0 || buf_put(&b, TSNET_BUILD_ID) < 0 || buf_put(&b, cwd) < 0 ||
      buf_put_count(&b, (size_t)argc - 1) < 0)
    return NULL;
  for (int i = 1; i < argc; i++)
    if (buf_put(&b, argv[i]) < 0) return NULL;
  if (buf_put_count(&b, envc) < 0) return NULL;
  for (char **e = environ; *e; e++)
    if (buf_put(&b, *e) < 0) return NULL;
  size_t payload = b.len - 4;
  if (payload > TSNET_MAX_REQUEST_BYTES) return NULL;
  b.data[0] = (char)(payload >> 24);
  b.data[1] = (char)(payload >> 16);
  b.data[2] = (char)(payload >> 8);
  b.data[3] = (char)payload;
  return &b;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/** Sends all of it within the deadline; false otherwise. */
static int send_all(int fd, const char *p, size_t len, long deadline) {
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      long left = deadline - now_ms();
      struct pollfd pfd = {.fd = fd, .events = POLLOUT};
      if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) return 0;
      continue;
    }
    if (n <= 0) return 0;
    p += n;
    len -= (size_t)n;
  }
  return 1;
}

/**
 * Reads one line (without its newline) into line; deadline < 0 waits for ever. Returns its length, 0 at the
 * end of the connection or on a timeout (with *timed_out set), -1 for a line longer than the buffer.
 */
static ssize_t read_line(int fd, char *line, size_t size, long deadline, int *timed_out) {
  size_t len = 0;
  *timed_out = 0;
  for (;;) {
    if (deadline >= 0) {
      long left = deadline - now_ms();
      struct pollfd pfd = {.fd = fd, .events = POLLIN};
      int r = left > 0 ? poll(&pfd, 1, (int)left) : 0;
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        *timed_out = 1;
        return 0;
      }
    }
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    if (c == '\n') {
      line[len] = '\0';
      return (ssize_t)len;
    }
    if (len + 1 >= size) return -1;
    line[len++] = c;
  }
}

/** pidfd_send_signal(2): to the process the pidfd names, never to a later one with its pid. */
static void send_signal(int sig) {
  if (warm_pidfd >= 0) (void)syscall(SYS_pidfd_send_signal, warm_pidfd, sig, NULL, 0);
}

static void forward(int sig) {
  int saved = errno;
  last_forwarded = sig;
  send_signal(sig);
  errno = saved;
}

/** Ctrl-Z: the warm process stops with us (it is in no job of the terminal's), and goes on when we do. */
static void suspend(int sig) {
  int saved = errno;
  (void)sig;
  send_signal(SIGSTOP);
  signal(SIGTSTP, SIG_DFL);
  raise(SIGTSTP); // stopped here until SIGCONT, which the SIGCONT handler passes on
  struct sigaction sa = {.sa_handler = suspend, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTSTP, &sa, NULL);
  errno = saved;
}

/** Forwards the signals to the warm process that is the client now (before our "go": none is lost). */
static void install_forwarding(void) {
  struct sigaction sa = {.sa_handler = forward, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof FORWARDED / sizeof FORWARDED[0]; i++) sigaction(FORWARDED[i], &sa, NULL);
  struct sigaction stop = {.sa_handler = suspend, .sa_flags = SA_RESTART};
  sigemptyset(&stop.sa_mask);
  sigaction(SIGTSTP, &stop, NULL);
}

/**
 * The warm process runs the command: wait for its exit line (written once it has put the terminal mode and
 * the file flags back), and end as it ended.
 */
static int wait_for_exit(int fd, pid_t pid) {
  char line[64];
  int timed_out;
  for (;;) {
    ssize_t n = read_line(fd, line, sizeof line, -1, &timed_out);
    int code;
    if (n > 0 && sscanf(line, "exit %d", &code) == 1) return code & 0xff;
    if (n != 0) continue; // not ours to understand: wait for the exit line or the end
    int sig = last_forwarded;
    if (sig != 0 && sig != SIGWINCH && sig != SIGCONT) {
      // it died of the signal we passed on (its default action): so do we, as the client would have
      signal(sig, SIG_DFL);
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, sig);
      sigprocmask(SIG_UNBLOCK, &set, NULL);
      raise(sig);
      return 128 + sig;
    }
    fprintf(stderr, "tsnetctl: the agent's warm tsnetctl (pid %d) ended without an exit status\n", (int)pid);
    return TSNET_EXIT_LOST;
  }
}

/** Whether a terminal on fds 0-2 has another foreground job (we run in the background): Node's job control. */
static int in_background(void) {
  for (int fd = 0; fd <= 2; fd++) {
    if (!isatty(fd)) continue;
    pid_t fg = tcgetpgrp(fd);
    if (fg > 0 && fg != getpgrp()) return 1;
  }
  return 0;
}

/** The listener is root or ourselves (never a stranger's socket), and the announced pid is its child. */
static const char *untrusted(int fd, pid_t pid) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return "cannot read the listener's credentials";
  if (cred.uid != 0 && cred.uid != geteuid()) return "the warm socket's listener is another user";
  char path[64], stat[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "re");
  if (!f) return "the announced process is not visible";
  size_t n = fread(stat, 1, sizeof stat - 1, f);
  fclose(f);
  stat[n] = '\0';
  const char *close_paren = strrchr(stat, ')');
  int ppid = 0;
  if (!close_paren || sscanf(close_paren + 1, " %*c %d", &ppid) != 1 || ppid != cred.pid)
    return "the announced process is not the listener's";
  return NULL;
}

int main(int argc, char **argv) {
  saved_argv = argv;
  const char *debug_env = getenv(TSNET_DEBUG_ENV);
  debug = debug_env && *debug_env;
  const char *no_warm = getenv(TSNET_NO_WARM_ENV);
  if (no_warm && *no_warm) exec_node_because(TSNET_NO_WARM_ENV " is set");
  if (in_background()) exec_node_because("a terminal's foreground is another job");
  const char *api = api_socket(argc, argv);
  if (!api) exec_node_because("the host is not a unix socket");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (snprintf(addr.sun_path, sizeof addr.sun_path, "%s%s", api, TSNET_WARM_SOCKET_SUFFIX) >=
      (int)sizeof addr.sun_path)
    exec_node_because("the warm socket's path is too long");
  struct buf *req = build_request(argc, argv);
  if (!req) exec_node_because("the invocation does not fit a request");
  // non-blocking: a listener whose backlog is full says EAGAIN at once instead of holding us
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) exec_node_because(strerror(errno));
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    say("no warm tsnetctl at %s", addr.sun_path);
    exec_node_because(strerror(errno));
  }
  long deadline = now_ms() + TSNET_ANSWER_TIMEOUT_MS;
  char line[256];
  int timed_out = 0;
  int pid = 0;
  ssize_t n = 0;
  const char *why = NULL;
  if (!send_all(fd, req->data, req->len, deadline))
    why = "cannot send the request";
  else if ((n = read_line(fd, line, sizeof line, deadline, &timed_out)) <= 0)
    why = timed_out ? "no answer in time" : "no answer";
  else if (strncmp(line, "no ", 3) == 0)
    why = line + 3;
  else if (sscanf(line, "ok %d", &pid) != 1 || pid <= 0)
    why = "an answer it does not understand";
  else if ((why = untrusted(fd, (pid_t)pid)) == NULL &&
           (warm_pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
    why = "the announced process is gone";
  if (why == NULL) {
    install_forwarding();
    if (!send_all(fd, "go\n", 3, deadline)) why = "cannot say go";
  }
  if (why != NULL) {
    // nothing was taken over (the warm process starts only on our "go"): the Node tsnetctl runs it
    close(fd);
    exec_node_because(why);
  }
  say("served by the warm tsnetctl, pid %s", line + 3);
  // from here on the reads wait for ever: the warm process ends the connection when it ends
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return wait_for_exit(fd, (pid_t)pid);
}
