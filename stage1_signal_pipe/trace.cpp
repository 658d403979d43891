/**
 * @file trace.cpp
 * The trace file: one JSON line per event, one write(2) per line, shared by every process.
 */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>

#include "log.h"

bool trace_detail::g_on = false;

namespace {
int g_trace_fd = -1;
// The part of every line that names the process: "\"pid\":4713,\"role\":\"worker\",\"id\":2".
// Written by set_trace_role() while no handler of ours can run, read by the handler.
char g_who[80] = "";
unsigned long g_lost = 0;  // lines the file did not take, said in the next line that it takes

std::uint64_t now_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000000000u +
         static_cast<std::uint64_t>(now.tv_nsec);
}

/** One write of a whole line. O_APPEND makes the offset and the write one step, so lines of
 * several processes never overlap; O_NONBLOCK means a FIFO that is full drops a line instead of
 * stopping the server. A short write is a torn line we cannot take back: count it as lost. */
bool write_line(const char* line, std::size_t length) {
  return write(g_trace_fd, line, length) == static_cast<ssize_t>(length);
}

/** Appends @p text to the line being built in the handler; no library call that may lock. */
void append(char* line, std::size_t& used, std::size_t capacity, const char* text) {
  while (*text != '\0' && used < capacity) line[used++] = *text++;
}

/** Appends @p value in decimal, for the handler (snprintf is not async-signal-safe). */
void append_number(char* line, std::size_t& used, std::size_t capacity, std::uint64_t value) {
  char digits[24];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (count > 0 && used < capacity) line[used++] = digits[--count];
}

/** Builds and writes one event line; @p format null: no fields. Keeps errno. */
void append_event(const char* event, const char* format, va_list args) {
  const int saved_errno = errno;
  char line[2048];
  int used = snprintf(line, sizeof line, "{\"t_ns\":%llu,%s,\"ev\":\"%s\"",
                      static_cast<unsigned long long>(now_ns()), g_who, event);
  if (format != nullptr) {
    line[used++] = ',';
    used += vsnprintf(line + used, sizeof line - used, format, args);
  }
  if (g_lost > 0 && used < static_cast<int>(sizeof line))
    used += snprintf(line + used, sizeof line - used, ",\"lost\":%lu", g_lost);
  if (used > static_cast<int>(sizeof line) - 3) {  // a cut line would not be JSON: drop it
    ++g_lost;
  } else {
    used += snprintf(line + used, sizeof line - used, "}\n");
    if (write_line(line, static_cast<std::size_t>(used)))
      g_lost = 0;
    else
      ++g_lost;
  }
  errno = saved_errno;
}
}  // namespace

void open_trace(const char* path) {
  // A file that exists is appended to, never truncated: a mistyped --trace cannot destroy one.
  g_trace_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_CLOEXEC, 0644);
  if (g_trace_fd == -1) die(("--trace " + std::string(path)).c_str());
  trace_detail::g_on = true;
}

void set_trace_role(const char* role, int worker) {
  if (worker >= 0)
    snprintf(g_who, sizeof g_who, "\"pid\":%d,\"role\":\"%s\",\"id\":%d", getpid(), role, worker);
  else
    snprintf(g_who, sizeof g_who, "\"pid\":%d,\"role\":\"%s\"", getpid(), role);
  g_lost = 0;  // a worker's count starts with the worker
  TRACE("start");
}

void trace_event(const char* event, const char* format, ...) {
  va_list args;
  va_start(args, format);
  append_event(event, format, args);
  va_end(args);
}

void trace_event(const char* event) {
  va_list none{};
  append_event(event, nullptr, none);
}

// Built by hand: clock_gettime and write are async-signal-safe (signal-safety(7)), snprintf is
// not. g_lost is left alone: the code we interrupted may be updating it. All our handlers block
// every signal while they run, so this never interrupts itself.
void trace_signal_caught(int sig) {
  const int saved_errno = errno;
  char line[256];
  std::size_t used = 0;
  const std::size_t capacity = sizeof line;
  append(line, used, capacity, "{\"t_ns\":");
  append_number(line, used, capacity, now_ns());
  append(line, used, capacity, ",");
  append(line, used, capacity, g_who);
  append(line, used, capacity, ",\"ev\":\"signal_caught\",\"sig\":\"");
  append(line, used, capacity, trace_signal_name(sig));
  append(line, used, capacity, "\"}\n");
  if (used < capacity) write_line(line, used);
  errno = saved_errno;
}

const char* trace_signal_name(int sig) {
  switch (sig) {
    case SIGINT: return "INT";
    case SIGTERM: return "TERM";
    case SIGQUIT: return "QUIT";
    case SIGHUP: return "HUP";
    case SIGUSR1: return "USR1";
    case SIGCHLD: return "CHLD";
    case SIGALRM: return "ALRM";
    default: return "";
  }
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text.substr(0, 200)) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {  // control bytes, and bytes that may not be UTF-8
      char escaped[8];
      snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}
