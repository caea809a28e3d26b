// The native front of a CNI plugin tsnet-agent serves: hands the invocation to the warm agent over its CNI
// socket (protocol in pkg/cni/socket-protocol.ts) and prints its answer, so a CNI call costs a connect and a
// round trip instead of a Node start. When the agent cannot take the call (no socket, nobody listening, a
// hello that does not come or does not fit: another protocol, namespace or build, a peer it will refuse, a
// type it does not serve),
// nothing has been sent: the Node plugin beside this binary is executed in its place with the same argv,
// environment and stdin bytes. Once the request is sent the agent's answer is the plugin's; a connection
// broken after that is answered with the spec's error code 11 (as pkg/cni/client.ts).
// Stdin is read before connecting, as pkg/cni/client.ts does: a runtime slow to close the plugin's stdin
// must not hold a connection the agent times out (it waits REQUEST_TIMEOUT_MS for the request line). The
// Node plugin then gets the bytes read on a memfd (or a pipe fed by a child) as its stdin.
//
// scripts/build.ts compiles it once per served type with build-info.h (generated from the TypeScript
// constants, so both ends share one definition) and -DTSNET_PLUGIN_TYPE="<type>".
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build-info.h"

#ifndef TSNET_PLUGIN_TYPE
#error "compile with -DTSNET_PLUGIN_TYPE=\"<type>\""
#endif

extern char **environ;

/** Nesting deeper than this is treated as unparseable (only the code-11 path parses caller input). */
#define MAX_JSON_DEPTH 512
/** An answer larger than this is not one (stdout of a CNI call is kilobytes). */
#define MAX_ANSWER_BYTES (64u << 20)

// --- growable byte buffer ------------------------------------------------------------------------------------

struct buf {
  char *data;
  size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t more) {
  if (b->len + more <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more) cap *= 2;
  char *data = realloc(b->data, cap);
  if (!data) {
    // Out of memory before or after the request: either way there is nothing sensible left to do.
    static const char msg[] = "tsnet cni-forward: out of memory\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(1);
  }
  b->data = data;
  b->cap = cap;
}

static void buf_put(struct buf *b, const void *p, size_t n) {
  buf_reserve(b, n);
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void buf_putc(struct buf *b, char c) { buf_put(b, &c, 1); }
static void buf_puts(struct buf *b, const char *s) { buf_put(b, s, strlen(s)); }

static void buf_printf(struct buf *b, const char *fmt, ...) {
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) buf_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

// --- JSON string encoding ------------------------------------------------------------------------------------

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; // U+FFFD

/**
 * Length of the well-formed UTF-8 sequence at s[0..n), or 0 when it is not one. The bounds are the WHATWG
 * decoder's, so an ill-formed input is replaced by U+FFFD per maximal subpart, as Node decodes it.
 */
static size_t utf8_sequence(const unsigned char *s, size_t n, size_t *consumed) {
  unsigned char b = s[0];
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b < 0x80) return *consumed = 1;
  if (b >= 0xC2 && b <= 0xDF) need = 1;
  else if (b == 0xE0) need = 2, lo = 0xA0;
  else if (b == 0xED) need = 2, hi = 0x9F;
  else if (b >= 0xE1 && b <= 0xEF) need = 2;
  else if (b == 0xF0) need = 3, lo = 0x90;
  else if (b == 0xF4) need = 3, hi = 0x8F;
  else if (b >= 0xF1 && b <= 0xF3) need = 3;
  else return *consumed = 1, 0;
  size_t j = 1;
  for (size_t k = 0; k < need; k++, j++) {
    if (j >= n || s[j] < lo || s[j] > hi) return *consumed = j, 0;
    lo = 0x80, hi = 0xBF;
  }
  return *consumed = j;
}

/** `s` as a JSON string literal, escaped as JSON.stringify does; ill-formed UTF-8 becomes U+FFFD. */
static void json_put_string(struct buf *out, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  buf_putc(out, '"');
  for (size_t i = 0; i < n;) {
    unsigned char c = u[i];
    if (c >= 0x80) {
      size_t consumed;
      size_t len = utf8_sequence(u + i, n - i, &consumed);
      if (len) buf_put(out, u + i, len);
      else buf_puts(out, REPLACEMENT);
      i += consumed;
      continue;
    }
    i++;
    switch (c) {
      case '"': buf_puts(out, "\\\""); break;
      case '\\': buf_puts(out, "\\\\"); break;
      case '\b': buf_puts(out, "\\b"); break;
      case '\f': buf_puts(out, "\\f"); break;
      case '\n': buf_puts(out, "\\n"); break;
      case '\r': buf_puts(out, "\\r"); break;
      case '\t': buf_puts(out, "\\t"); break;
      default:
        if (c < 0x20) buf_printf(out, "\\u%04x", c);
        else buf_putc(out, (char)c);
    }
  }
  buf_putc(out, '"');
}

static void base64_put(struct buf *out, const unsigned char *s, size_t n) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  buf_reserve(out, (n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
    char q[4] = {A[v >> 18], A[v >> 12 & 63], A[v >> 6 & 63], A[v & 63]};
    buf_put(out, q, 4);
  }
  if (i < n) {
    uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
    char q[4] = {A[v >> 18], A[v >> 12 & 63], i + 1 < n ? A[v >> 6 & 63] : '=', '='};
    buf_put(out, q, 4);
  }
}

// --- a minimal JSON reader -----------------------------------------------------------------------------------
// Enough for the hello, the answer and the cniVersion of a config: objects walked key by key, strings
// decoded (\uXXXX with surrogate pairs; a lone surrogate becomes U+FFFD, as Node encodes it), numbers read,
// anything else validated and skipped.

struct json {
  const char *p, *end;
};

static void json_ws(struct json *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int json_lit(struct json *j, char c) {
  json_ws(j);
  if (j->p < j->end && *j->p == c) return j->p++, 1;
  return 0;
}

static int hex4(const char *p, unsigned *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                 : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                 : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                        : 16u;
    if (d == 16) return 0;
    *v = *v << 4 | d;
  }
  return 1;
}

static void put_utf8(struct buf *out, unsigned cp) {
  char b[4];
  if (cp < 0x80) b[0] = (char)cp, buf_put(out, b, 1);
  else if (cp < 0x800) b[0] = (char)(0xC0 | cp >> 6), b[1] = (char)(0x80 | (cp & 63)), buf_put(out, b, 2);
  else if (cp < 0x10000) {
    b[0] = (char)(0xE0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 63)), b[2] = (char)(0x80 | (cp & 63));
    buf_put(out, b, 3);
  } else {
    b[0] = (char)(0xF0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 63));
    b[2] = (char)(0x80 | (cp >> 6 & 63)), b[3] = (char)(0x80 | (cp & 63));
    buf_put(out, b, 4);
  }
}

/** A string literal at the cursor, decoded into `out` (NULL: validated only). */
static int json_string(struct json *j, struct buf *out) {
  if (!json_lit(j, '"')) return 0;
  while (j->p < j->end) {
    unsigned char c = (unsigned char)*j->p++;
    if (c == '"') return 1;
    if (c < 0x20) return 0;
    if (c != '\\') {
      if (out) buf_putc(out, (char)c);
      continue;
    }
    if (j->p >= j->end) return 0;
    char e = *j->p++;
    const char *simple = strchr("\"\\/bfnrt", e);
    if (e && simple) {
      if (out) buf_putc(out, "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"]);
      continue;
    }
    unsigned cp, lo;
    if (e != 'u' || j->end - j->p < 4 || !hex4(j->p, &cp)) return 0;
    j->p += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u' &&
        hex4(j->p + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
      j->p += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = 0xFFFD;
    }
    if (out) put_utf8(out, cp);
  }
  return 0;
}

/** A number at the cursor, strictly in JSON's grammar; its value when it is an integer that fits. */
static int json_number(struct json *j, long long *value, int *integral) {
  json_ws(j);
  const char *s = j->p;
  const char *p = s;
  if (p < j->end && *p == '-') p++;
  if (p < j->end && *p == '0') p++;
  else if (p < j->end && *p >= '1' && *p <= '9')
    while (p < j->end && *p >= '0' && *p <= '9') p++;
  else return 0;
  *integral = 1;
  if (p < j->end && *p == '.') {
    *integral = 0;
    if (++p >= j->end || *p < '0' || *p > '9') return 0;
    while (p < j->end && *p >= '0' && *p <= '9') p++;
  }
  if (p < j->end && (*p == 'e' || *p == 'E')) {
    *integral = 0;
    p++;
    if (p < j->end && (*p == '+' || *p == '-')) p++;
    if (p >= j->end || *p < '0' || *p > '9') return 0;
    while (p < j->end && *p >= '0' && *p <= '9') p++;
  }
  if (*integral) {
    char tmp[32];
    size_t n = (size_t)(p - s);
    if (n >= sizeof tmp) *integral = 0;
    else {
      memcpy(tmp, s, n);
      tmp[n] = 0;
      errno = 0;
      *value = strtoll(tmp, NULL, 10);
      if (errno) *integral = 0;
    }
  }
  j->p = p;
  return 1;
}

static int json_skip(struct json *j, int depth) {
  if (depth > MAX_JSON_DEPTH) return 0;
  json_ws(j);
  if (j->p >= j->end) return 0;
  char c = *j->p;
  if (c == '"') return json_string(j, NULL);
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    j->p++;
    if (json_lit(j, close)) return 1;
    do {
      if (c == '{' && (!json_string(j, NULL) || !json_lit(j, ':'))) return 0;
      if (!json_skip(j, depth + 1)) return 0;
    } while (json_lit(j, ','));
    return json_lit(j, close);
  }
  static const char *const words[] = {"true", "false", "null"};
  for (size_t i = 0; i < 3; i++) {
    size_t n = strlen(words[i]);
    if ((size_t)(j->end - j->p) >= n && memcmp(j->p, words[i], n) == 0) return j->p += n, 1;
  }
  long long v;
  int integral;
  return json_number(j, &v, &integral);
}

/**
 * Walks the members of the object at the cursor: `member` is called with each key (decoded, NUL-terminated)
 * and must consume its value. The whole text must be that one object.
 */
static int json_object(struct json *j, int (*member)(struct json *, const char *, void *), void *ctx) {
  if (!json_lit(j, '{')) return 0;
  if (!json_lit(j, '}')) {
    struct buf key = {0};
    do {
      key.len = 0;
      if (!json_string(j, &key) || !json_lit(j, ':')) return free(key.data), 0;
      buf_putc(&key, 0);
      if (!member(j, key.data, ctx)) return free(key.data), 0;
    } while (json_lit(j, ','));
    free(key.data);
    if (!json_lit(j, '}')) return 0;
  }
  json_ws(j);
  return j->p == j->end;
}

static int json_int_member(struct json *j, long long *out, int *seen) {
  int integral;
  if (!json_number(j, out, &integral)) return json_skip(j, 1) && (*seen = 0, 1);
  *seen = integral;
  return 1;
}

// --- the hello ------------------------------------------------------------------------------------------------

struct hello {
  long long version, netns, mntns;
  int has_version, has_netns, has_mntns, has_build, serves_us, refused;
  struct buf build;
};

static int hello_member(struct json *j, const char *key, void *ctx) {
  struct hello *h = ctx;
  if (strcmp(key, "tsnetCni") == 0) return json_int_member(j, &h->version, &h->has_version);
  if (strcmp(key, "netns") == 0) return json_int_member(j, &h->netns, &h->has_netns);
  if (strcmp(key, "mntns") == 0) return json_int_member(j, &h->mntns, &h->has_mntns);
  if (strcmp(key, "buildId") == 0) {
    h->build.len = 0;
    json_ws(j);
    h->has_build = j->p < j->end && *j->p == '"';
    return h->has_build ? json_string(j, &h->build) : json_skip(j, 1);
  }
  if (strcmp(key, "refusal") == 0) {
    h->refused = 1; // the agent will refuse this peer: run in-process instead
    return json_skip(j, 1);
  }
  if (strcmp(key, "plugins") == 0) {
    h->serves_us = 0;
    if (!json_lit(j, '[')) return json_skip(j, 1);
    if (json_lit(j, ']')) return 1;
    struct buf name = {0};
    do {
      json_ws(j);
      if (j->p < j->end && *j->p == '"') {
        name.len = 0;
        if (!json_string(j, &name)) return free(name.data), 0;
        if (name.len == strlen(TSNET_PLUGIN_TYPE) && memcmp(name.data, TSNET_PLUGIN_TYPE, name.len) == 0)
          h->serves_us = 1;
      } else if (!json_skip(j, 1)) {
        return free(name.data), 0;
      }
    } while (json_lit(j, ','));
    free(name.data);
    return json_lit(j, ']');
  }
  return json_skip(j, 1);
}

// --- the answer -----------------------------------------------------------------------------------------------

struct answer {
  struct buf out, err;
  long long exit_code;
  int has_out, has_err, has_exit;
};

static int answer_member(struct json *j, const char *key, void *ctx) {
  struct answer *a = ctx;
  int is_out = strcmp(key, "stdout") == 0, is_err = strcmp(key, "stderr") == 0;
  if (is_out || is_err) {
    struct buf *b = is_out ? &a->out : &a->err;
    int *has = is_out ? &a->has_out : &a->has_err;
    b->len = 0;
    json_ws(j);
    *has = j->p < j->end && *j->p == '"';
    return *has ? json_string(j, b) : json_skip(j, 1);
  }
  if (strcmp(key, "exitCode") == 0) return json_int_member(j, &a->exit_code, &a->has_exit);
  return json_skip(j, 1);
}

// --- the config's cniVersion (for the code-11 answer) -----------------------------------------------------------

struct version_scan {
  struct buf version;
  int is_string;
};

static int version_member(struct json *j, const char *key, void *ctx) {
  struct version_scan *v = ctx;
  if (strcmp(key, "cniVersion") != 0) return json_skip(j, 1);
  v->version.len = 0;
  json_ws(j);
  v->is_string = j->p < j->end && *j->p == '"';
  return v->is_string ? json_string(j, &v->version) : json_skip(j, 1);
}

/** errorVersionOf (pkg/cni/output.ts): the config's version when it parses and is supported, else current. */
static const char *error_version_of(const char *stdin_data, size_t n) {
  static const char *const supported[] = {TSNET_SUPPORTED_VERSIONS};
  // Node reads stdin as UTF-8 before JSON.parse: ill-formed bytes become U+FFFD first.
  struct buf text = {0};
  for (size_t i = 0; i < n;) {
    size_t consumed, len = utf8_sequence((const unsigned char *)stdin_data + i, n - i, &consumed);
    if (len) buf_put(&text, stdin_data + i, len);
    else buf_puts(&text, REPLACEMENT);
    i += consumed;
  }
  struct version_scan scan = {0};
  struct json j = {text.data ? text.data : "", text.data ? text.data + text.len : ""};
  const char *found = TSNET_CURRENT_VERSION;
  if (json_object(&j, version_member, &scan) && scan.is_string) {
    for (size_t i = 0; i < sizeof supported / sizeof *supported; i++)
      if (scan.version.len == strlen(supported[i]) && memcmp(scan.version.data, supported[i], scan.version.len) == 0)
        found = supported[i];
  }
  free(scan.version.data);
  free(text.data);
  return found;
}

// --- I/O ------------------------------------------------------------------------------------------------------

/** Writes all of `p` to `fd`; `socket` sends without SIGPIPE (a peer gone is an error, not a death). */
static int write_out(int fd, const char *p, size_t n, int socket) {
  while (n > 0) {
    ssize_t w = socket ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return 0;
    p += w;
    n -= (size_t)w;
  }
  return 1;
}

/** write_out to stdout, stderr or the agent's socket (the descriptors above 2). */
static int write_all(int fd, const char *p, size_t n) { return write_out(fd, p, n, fd > 2); }

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/**
 * Reads from `fd` into `b` until a newline (kept out of `b`; what follows it is discarded: one request per
 * connection), at most `max` bytes, for at most `timeout_ms` (< 0: no limit). 1 when a line was read.
 */
static int read_line(int fd, struct buf *b, size_t max, int timeout_ms) {
  long long deadline = timeout_ms < 0 ? 0 : now_ms() + timeout_ms;
  for (;;) {
    if (timeout_ms >= 0) {
      long long left = deadline - now_ms();
      if (left <= 0) return 0;
      struct pollfd pfd = {.fd = fd, .events = POLLIN};
      int r = poll(&pfd, 1, (int)left);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return 0;
    }
    buf_reserve(b, 4096);
    ssize_t n = read(fd, b->data + b->len, b->cap - b->len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    char *nl = memchr(b->data + b->len, '\n', (size_t)n);
    if (nl) {
      b->len = (size_t)(nl - b->data);
      return b->len <= max;
    }
    b->len += (size_t)n;
    if (b->len > max) return 0;
  }
}

static int read_all(int fd, struct buf *b) {
  for (;;) {
    buf_reserve(b, 65536);
    ssize_t n = read(fd, b->data + b->len, b->cap - b->len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return 0;
    if (n == 0) return 1;
    b->len += (size_t)n;
  }
}

// --- the two ways out ------------------------------------------------------------------------------------------

/**
 * Makes `data` this process's stdin: a memfd holding it (a regular file to the Node plugin), else a pipe fed
 * by a child. False when neither works.
 */
static int stdin_from(const struct buf *data) {
  int fd = memfd_create("cni-stdin", 0);
  if (fd >= 0) {
    if (write_out(fd, data->data ? data->data : "", data->len, 0) && lseek(fd, 0, SEEK_SET) == 0 &&
        dup2(fd, 0) == 0) {
      close(fd);
      return 1;
    }
    close(fd);
  }
  int p[2];
  if (pipe(p) != 0) return 0;
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return 0;
  }
  if (pid == 0) {
    close(p[0]);
    // A grandchild writes, so the plugin (this process after exec) never has a child to reap.
    if (fork() == 0) _exit(write_out(p[1], data->data ? data->data : "", data->len, 0) ? 0 : 1);
    _exit(0);
  }
  close(p[1]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
  if (dup2(p[0], 0) != 0) return 0;
  close(p[0]);
  return 1;
}

/**
 * Executes the Node plugin beside this binary in this process: same argv and environment, and as stdin
 * `read` (the bytes this process read from its stdin) or, when NULL, the unread stdin itself.
 */
static _Noreturn void run_node_plugin(char **argv, const struct buf *read) {
  if (read && !stdin_from(read)) {
    static const char msg[] = "tsnet cni-forward: cannot hand stdin to the Node plugin\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(1);
  }
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  const char *dir = ".";
  if (n > 0) {
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash) *slash = 0, dir = self[0] ? self : "/";
  } else if (argv[0] && strchr(argv[0], '/')) {
    snprintf(self, sizeof self, "%s", argv[0]);
    *strrchr(self, '/') = 0;
    dir = self[0] ? self : "/";
  }
  char node_plugin[PATH_MAX + sizeof TSNET_NODE_PLUGIN_NAME + 1];
  snprintf(node_plugin, sizeof node_plugin, "%s/%s", dir, TSNET_NODE_PLUGIN_NAME);
  char *fallback_argv[] = {TSNET_PLUGIN_TYPE, NULL};
  execve(node_plugin, argv[0] ? argv : fallback_argv, environ);
  // Still answered in the spec's format, as the Node plugin answers a load failure.
  struct buf msg = {0}, out = {0};
  buf_puts(&msg, "cannot execute the Node plugin ");
  buf_puts(&msg, node_plugin);
  buf_puts(&msg, ": ");
  buf_puts(&msg, strerror(errno));
  buf_printf(&out, "{\n    \"cniVersion\": \"%s\",\n    \"code\": 999,\n    \"msg\": ", TSNET_CURRENT_VERSION);
  json_put_string(&out, msg.data, msg.len);
  buf_puts(&out, "\n}");
  write_all(1, out.data, out.len);
  _exit(1);
}

/** pkg/cni/client.ts's answer to a connection broken after the request was sent, byte for byte. */
static _Noreturn void answer_broken(const char *path, const char *command, const char *reason,
                                    const struct buf *stdin_data) {
  struct buf msg = {0}, details = {0}, out = {0};
  buf_puts(&msg, "tsnet-agent (");
  buf_puts(&msg, path);
  buf_puts(&msg, ") did not answer the ");
  buf_puts(&msg, command);
  buf_puts(&msg, " request");
  buf_puts(&details, reason);
  buf_puts(&details, "; the request may have been partly applied, retry it");
  buf_puts(&out, "{\n    \"cniVersion\": ");
  const char *version = error_version_of(stdin_data->data ? stdin_data->data : "", stdin_data->len);
  json_put_string(&out, version, strlen(version));
  buf_printf(&out, ",\n    \"code\": %d,\n    \"msg\": ", TSNET_CODE_TRY_AGAIN_LATER);
  json_put_string(&out, msg.data, msg.len);
  buf_puts(&out, ",\n    \"details\": ");
  json_put_string(&out, details.data, details.len);
  buf_puts(&out, "\n}");
  write_all(1, out.data, out.len);
  _exit(1);
}

static int ns_inode(const char *path, long long *ino) {
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  *ino = (long long)st.st_ino;
  return 1;
}

/** The commands whose stdin is the config: the others (VERSION, the about text) never read it. */
static int reads_stdin(const char *command) {
  static const char *const commands[] = {"ADD", "DEL", "CHECK", "GC", "STATUS"};
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (strcmp(command, commands[i]) == 0) return 1;
  return 0;
}

/** The request line: {"plugin", "netns", "env", "stdinBase64"} (stdin as exact bytes). */
static void build_request(struct buf *req, long long netns, const struct buf *stdin_data) {
  buf_puts(req, "{\"plugin\":");
  json_put_string(req, TSNET_PLUGIN_TYPE, strlen(TSNET_PLUGIN_TYPE));
  buf_printf(req, ",\"netns\":%lld,\"env\":{", netns);
  int first = 1;
  for (char **e = environ; *e; e++) {
    const char *eq = strchr(*e, '=');
    if (!eq || eq == *e) continue;
    size_t klen = (size_t)(eq - *e);
    // getenv's rule: the first of duplicate names wins.
    int dup = 0;
    for (char **f = environ; f < e && !dup; f++) dup = strncmp(*f, *e, klen + 1) == 0;
    if (dup) continue;
    if (!first) buf_putc(req, ',');
    first = 0;
    json_put_string(req, *e, klen);
    buf_putc(req, ':');
    json_put_string(req, eq + 1, strlen(eq + 1));
  }
  buf_puts(req, "},\"stdinBase64\":\"");
  base64_put(req, (const unsigned char *)stdin_data->data, stdin_data->len);
  buf_puts(req, "\"}\n");
}

int main(int argc, char **argv) {
  (void)argc;
  const char *command = getenv("CNI_COMMAND");
  if (!command) command = "";
  const char *override = getenv(TSNET_SOCKET_ENV);
  const char *path = override && override[0] == '/' ? override : TSNET_DEFAULT_SOCKET;

  struct buf stdin_data = {0};
  const struct buf *read_stdin = NULL;
  if (reads_stdin(command)) {
    // A failed read: the Node plugin reads what is left and reports the error as it would have.
    if (!read_all(0, &stdin_data)) run_node_plugin(argv, NULL);
    read_stdin = &stdin_data;
  }

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) run_node_plugin(argv, read_stdin);
  memcpy(addr.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) run_node_plugin(argv, read_stdin);
  int r;
  do r = connect(fd, (struct sockaddr *)&addr, sizeof addr);
  while (r != 0 && errno == EINTR);
  if (r != 0) run_node_plugin(argv, read_stdin);

  struct buf line = {0};
  struct hello hello = {0};
  long long netns, mntns;
  if (!read_line(fd, &line, TSNET_MAX_HELLO_BYTES, TSNET_HELLO_TIMEOUT_MS)) run_node_plugin(argv, read_stdin);
  struct json j = {line.data, line.data + line.len};
  if (!json_object(&j, hello_member, &hello) || !hello.has_version || hello.version != TSNET_PROTOCOL_VERSION ||
      !ns_inode("/proc/self/ns/net", &netns) || !hello.has_netns || hello.netns != netns ||
      !ns_inode("/proc/self/ns/mnt", &mntns) || !hello.has_mntns || hello.mntns != mntns ||
      !hello.has_build || hello.build.len != strlen(TSNET_BUILD_ID) ||
      memcmp(hello.build.data, TSNET_BUILD_ID, hello.build.len) != 0 || !hello.serves_us || hello.refused) {
    close(fd); // nothing sent: the agent sees a client that hung up after the hello
    run_node_plugin(argv, read_stdin);
  }

  struct buf request = {0};
  build_request(&request, netns, &stdin_data);
  // From here on the request may be running in the agent: never run it a second time.
  if (!write_all(fd, request.data, request.len))
    answer_broken(path, command, "connection closed before a complete answer", &stdin_data);
  free(request.data);

  line.len = 0;
  if (!read_line(fd, &line, MAX_ANSWER_BYTES, -1))
    answer_broken(path, command, "connection closed before a complete answer", &stdin_data);
  struct answer answer = {0};
  j = (struct json){line.data, line.data + line.len};
  if (!json_object(&j, answer_member, &answer) || !answer.has_out || !answer.has_err || !answer.has_exit)
    answer_broken(path, command, "malformed answer from tsnet-agent", &stdin_data);
  // The Node plugin's order: stderr, then stdout.
  write_all(2, answer.err.data ? answer.err.data : "", answer.err.len);
  write_all(1, answer.out.data ? answer.out.data : "", answer.out.len);
  return (int)(answer.exit_code & 0xff);
}
