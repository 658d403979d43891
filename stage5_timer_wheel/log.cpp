/**
 * @file log.cpp
 * Logging for every process: role prefix, verbose switch, fatal start-up errors.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace {
char g_role[64] = "server";
bool g_verbose = false;
}  // namespace

void set_log_role(const char* role) { snprintf(g_role, sizeof g_role, "%s", role); }

void set_verbose(bool on) { g_verbose = on; }

bool verbose() { return g_verbose; }

void log_line(const char* format, ...) {
  const int saved_errno = errno;
  char line[512];
  int used = snprintf(line, sizeof line, "[%s] ", g_role);
  va_list args;
  va_start(args, format);
  used += vsnprintf(line + used, sizeof line - used, format, args);
  va_end(args);
  if (used > static_cast<int>(sizeof line) - 2) used = sizeof line - 2;  // truncated
  line[used++] = '\n';
  // A failed write to stderr has nowhere to be reported; ignore it.
  if (write(STDERR_FILENO, line, used) < 0) {
  }
  errno = saved_errno;
}

void die(const char* what) {
  fprintf(stderr, "server: %s: %s\n", what, strerror(errno));
  exit(1);
}
