/**
 * @file log.cpp
 * Logging for every process: role prefix, verbose switch, lines that never block, fatal errors.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {
char g_role[64] = "server";
bool g_verbose = false;
int g_log_fd = -1;               // where lines go; see open_log()
bool g_log_is_socket = false;    // send() with MSG_DONTWAIT instead of write()
bool g_log_is_terminal = false;  // see write_now()
unsigned long g_dropped = 0;     // lines stderr could not take, not yet reported

// A blocking write to stderr would stop the whole loop whenever stderr is a pipe nobody reads or
// a paused terminal. Setting O_NONBLOCK on fd 2 would change the file description we share with
// the shell (and every process it runs), so we open a description of our own for the same pipe
// or terminal through /proc; a socket takes MSG_DONTWAIT per call; a regular file never blocks.
// Opened once, in the first process that logs: workers forked later share it.
void open_log() {
  g_log_fd = STDERR_FILENO;
  struct stat info {};
  if (fstat(STDERR_FILENO, &info) == -1) return;
  if (S_ISSOCK(info.st_mode)) {
    g_log_is_socket = true;
  } else if (S_ISFIFO(info.st_mode) || S_ISCHR(info.st_mode)) {
    const int fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd != -1) g_log_fd = fd;  // else keep fd 2: blocking, but still a log
    g_log_is_terminal = S_ISCHR(info.st_mode);
  }
}

/** One write of @p length bytes that never blocks for long; true when stderr took them. */
bool write_now(const char* text, std::size_t length) {
  if (g_log_fd == -1) open_log();
  if (g_log_is_socket) return send(g_log_fd, text, length, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
  if (write(g_log_fd, text, length) >= 0) return true;  // a short write to a terminal counts
  // A terminal also refuses a nonblocking write for the instant another process (a sibling) is
  // writing to it, and wakes pollers when that write ends: wait for that, 1 ms at most, unless
  // it is already refusing lines (paused with Ctrl-S), so a pause costs one wait, not one a line.
  if (errno != EAGAIN || !g_log_is_terminal || g_dropped > 0) return false;
  pollfd ready{g_log_fd, POLLOUT, 0};
  return poll(&ready, 1, 1) == 1 && write(g_log_fd, text, length) >= 0;
}
}  // namespace

void set_log_role(const char* role) { snprintf(g_role, sizeof g_role, "%s", role); }

void set_verbose(bool on) { g_verbose = on; }

bool verbose() { return g_verbose; }

void log_line(const char* format, ...) {
  const int saved_errno = errno;
  char line[640];
  int used = 0;
  if (g_dropped > 0)  // said in the same write as the line itself, so it cannot be lost alone
    used = snprintf(line, 128, "[%s] %lu log lines dropped\n", g_role, g_dropped);
  used += snprintf(line + used, sizeof line - used, "[%s] ", g_role);
  va_list args;
  va_start(args, format);
  used += vsnprintf(line + used, sizeof line - used, format, args);
  va_end(args);
  if (used > static_cast<int>(sizeof line) - 2) used = sizeof line - 2;  // truncated
  line[used++] = '\n';
  // A pipe takes a write of at most PIPE_BUF (4096) bytes whole or not at all.
  if (write_now(line, static_cast<std::size_t>(used)))
    g_dropped = 0;
  else
    ++g_dropped;  // EAGAIN, or nowhere to report it: count it, serve on
  errno = saved_errno;
}

void die(const char* what) {
  fprintf(stderr, "server: %s: %s\n", what, strerror(errno));
  exit(1);
}
