// Relays one client of conmon's attach socket to stdio pipes, so Node can talk to it through ordinary
// event-driven child-process pipes: the socket is AF_UNIX SOCK_SEQPACKET, which libuv cannot wrap (Node's
// net fails with EPROTOTYPE and rejects the fd as an unknown handle type), and polling it through FFI would
// hold a libuv pool thread per attached client.
//
// conmon's protocol: every packet it sends is one read of the container's output, its first byte the stream
// (2 stdout, 3 stderr); every packet it receives is written as is to the container's stdin; our shutdown of
// the writing side closes the container's stdin (unless conmon runs with --leave-stdin-open); conmon closes
// the connection when the process ends.
//
// Here: `attach-relay SOCKET`. stdout carries frames [u8 kind][u32 big-endian length][payload]: kind 0
// (empty) once connected, then kind 2 and 3 with conmon's packets, in conmon's order. stdin is raw input
// bytes, sent as packets; its end shuts down the writing side. stderr carries one line on failure (exit 1);
// the exit is 0 when conmon closes the connection or the reader of stdout goes away. It dies with its
// parent.
//
// scripts/build.ts compiles it into dist/libexec/tsnet-attach-relay.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/** conmon sends at most one 8 KiB read plus its stream byte per packet; more room costs nothing. */
#define PACKET_MAX (64 * 1024)
/** conmon receives into a buffer of a few KiB and drops what does not fit: stay well below it. */
#define INPUT_CHUNK 4096
#define KIND_CONNECTED 0

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "attach-relay: %s%s%s: %s\n", what, detail ? " " : "", detail ? detail : "", strerror(errno));
  exit(1);
}

/** Writes all of buf; false when the reader has gone (EPIPE). */
static int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) return 0;
      fail("write", "stdout");
    }
    p += n;
    len -= (size_t)n;
  }
  return 1;
}

static int write_frame(uint8_t kind, const void *payload, size_t len) {
  uint8_t header[5] = {kind, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
  return write_all(STDOUT_FILENO, header, sizeof header) && (len == 0 || write_all(STDOUT_FILENO, payload, len));
}

/**
 * Connects through /proc/self/fd/<dir>/<name>: the socket's full path may exceed sun_path's 108 bytes (conmon
 * binds it the same way).
 */
static int connect_attach_socket(const char *path) {
  char *dir_copy = strdup(path), *base_copy = strdup(path);
  if (!dir_copy || !base_copy) fail("strdup", NULL);
  int dirfd = open(dirname(dir_copy), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) fail("open", path);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int n = snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dirfd, basename(base_copy));
  if (n < 0 || (size_t)n >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    fail("connect", path);
  }
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket", NULL);
  while (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
    if (errno != EINTR) fail("connect", path);
  close(dirfd);
  free(dir_copy);
  free(base_copy);
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s ATTACH_SOCKET\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  // Nobody reads the frames once the parent has died.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail("prctl", "PR_SET_PDEATHSIG");
  if (getppid() == 1) return 0;

  int sock = connect_attach_socket(argv[1]);
  if (!write_frame(KIND_CONNECTED, NULL, 0)) return 0;

  static char packet[PACKET_MAX];
  struct pollfd fds[2] = {{.fd = sock, .events = POLLIN}, {.fd = STDIN_FILENO, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll", NULL);
    }
    if (fds[0].revents) {
      ssize_t n = recv(sock, packet, sizeof packet, 0);
      if (n < 0 && errno != EINTR && errno != EAGAIN) fail("recv", argv[1]);
      if (n == 0) return 0; // conmon closed the connection: the process has ended
      if (n > 0 && !write_frame((uint8_t)packet[0], packet + 1, (size_t)n - 1)) return 0;
    }
    if (fds[1].revents) {
      ssize_t n = read(STDIN_FILENO, packet, INPUT_CHUNK);
      if (n < 0 && errno != EINTR && errno != EAGAIN) fail("read", "stdin");
      if (n == 0) {
        shutdown(sock, SHUT_WR); // the client's input ended: conmon closes the container's stdin
        fds[1].fd = -1;          // poll ignores negative fds
      } else if (n > 0) {
        while (send(sock, packet, (size_t)n, MSG_NOSIGNAL) < 0) {
          if (errno == EINTR) continue;
          if (errno == EPIPE || errno == ECONNRESET) return 0;
          fail("send", argv[1]);
        }
      }
    }
  }
}
