/**
 * @file log.h
 * One-line logging to stderr with the role of the process in front, and the fatal-error helper.
 */
#pragma once

/**
 * Sets the prefix of every log line of this process: "pid 4711", or from chapter 2 on "parent
 * 4711" and "worker 2 4713". Called once at start-up, and again by a worker right after fork.
 */
void set_log_role(const char* role);

/**
 * Turns per-connection logging (log_verbose) on or off; off by default. Called once by main()
 * (from chapter 2 on, before the fork, so every worker inherits the setting).
 */
void set_verbose(bool on);

/** True when --verbose was given. Runs in every process. */
bool verbose();

/**
 * Writes "[role] message\n" to stderr with a single write(2), so that lines from several
 * processes sharing the terminal never interleave. printf-style; errno is preserved. Never
 * blocks: a line that stderr cannot take now (a pipe nobody reads, a terminal paused with Ctrl-S)
 * is dropped and counted, and the next line that gets through says "N log lines dropped" first.
 * Runs in every process.
 */
void log_line(const char* format, ...) __attribute__((format(printf, 1, 2)));

/** Like log_line, but only with --verbose: for events that happen per connection. */
#define log_verbose(...)                  \
  do {                                    \
    if (verbose()) log_line(__VA_ARGS__); \
  } while (0)

/**
 * Start-up failure: prints "server: <what>: <strerror(errno)>" to stderr and exits with status 1.
 * Runs in any process, but only before its event loop runs; inside the loop we log and carry on.
 */
[[noreturn]] void die(const char* what);
