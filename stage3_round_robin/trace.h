/**
 * @file trace.h
 * `--trace FILE`: every process appends one JSON line per event (signal caught and read, epoll
 * wake-up, hand-off, accept, request, bytes sent, timer, close, reap) to one shared file. The
 * event list and the line format are documented in one place: notes/tracing.md.
 */
#pragma once

#include <string>
#include <string_view>

/** Internal to the trace module: the switch that tracing() reads. */
namespace trace_detail {
extern bool g_on;  ///< true once open_trace() has opened the file; never set back
}

/** True when --trace was given. Inline, so that a TRACE costs one predictable branch when off. */
inline bool tracing() { return trace_detail::g_on; }

/**
 * Opens @p path for appending (created 0644 if missing) and turns tracing on. Called once by
 * main() before any fork, so every process shares the file; exits 1 ("server: --trace PATH: …")
 * when it cannot be opened.
 */
void open_trace(const char* path);

/**
 * Names the calling process in its trace lines ("single", "parent", or "worker" with its
 * number @p worker) and records a "start" event. Called by main(), and by each worker's main
 * (the WorkerMain that main() gives the pool) before its EventLoop installs signal handlers: the
 * handler reads the name this writes.
 */
void set_trace_role(const char* role, int worker = -1);

/**
 * Appends one line {"t_ns":…,"pid":…,"role":…,"ev":"@p event",FIELDS} with one write(2), where
 * FIELDS is @p format (printf-style, e.g. R"("fd":%d)") filled in. Never blocks and keeps errno;
 * a line the file does not take whole is dropped and counted in the next line ("lost"). Runs in
 * every process, only through TRACE.
 */
void trace_event(const char* event, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

/** Like trace_event, for an event with no fields of its own. */
void trace_event(const char* event);

/**
 * The "signal_caught" line, written from inside the signal handler: only async-signal-safe calls
 * (clock_gettime, write), no locks, no allocation, errno kept. Runs in whichever process
 * receives the signal.
 */
void trace_signal_caught(int sig);

/** "TERM" for SIGTERM, … ("" for a signal we never handle). Async-signal-safe. */
const char* trace_signal_name(int sig);

/**
 * @p text as a JSON string with its quotes, escaped, at most 200 of its bytes (a request target
 * can be 8 KiB; a trace line stays short). For TRACE arguments only: it allocates.
 */
std::string json_string(std::string_view text);

/** Records an event when tracing is on; when off, its arguments are not even evaluated. */
#define TRACE(...)                          \
  do {                                      \
    if (tracing()) trace_event(__VA_ARGS__); \
  } while (0)
