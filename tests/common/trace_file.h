/**
 * @file trace_file.h
 * Reading what `server --trace FILE` wrote (the format of notes/tracing.md), for the trace tests
 * of every chapter: one flat JSON object per line, string and integer values only.
 */
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness.h"

namespace harness {

/** One trace line: its keys with their values (strings unescaped, integers as written). */
struct TraceEvent {
  std::map<std::string, std::string> fields;  ///< every key of the line
  std::string line;                           ///< the line as written, for failure messages

  /** The event's name ("accept", …). */
  std::string ev() const { return get("ev"); }
  /** True when the line has @p key. */
  bool has(const std::string& key) const { return fields.count(key) != 0; }
  /** The value of @p key ("" when absent). */
  std::string get(const std::string& key) const;
  /** The value of @p key as a number (-1 when absent). */
  long long number(const std::string& key) const;
  /** The process that wrote the line. */
  pid_t pid() const { return static_cast<pid_t>(number("pid")); }
};

/**
 * Parses one line as a flat JSON object whose values are strings or integers, and checks the
 * keys every line must have (t_ns, pid, role, ev; id exactly when the role is "worker").
 * nullopt when the line is anything else.
 */
std::optional<TraceEvent> parse_trace_line(const std::string& line);

/**
 * Every line of the trace at @p path, in file order. A line that parse_trace_line() refuses is
 * returned with the single key "invalid" (so a test can assert that there are none).
 */
std::vector<TraceEvent> read_trace(const std::string& path);

/** The events named @p ev, in file order. */
std::vector<TraceEvent> events_named(const std::vector<TraceEvent>& trace, const std::string& ev);

/**
 * Waits until the trace at @p path holds at least @p count events for which @p match is true;
 * returns the whole trace as it was then (what it held at the deadline otherwise).
 */
std::vector<TraceEvent> wait_for_trace(const std::string& path,
                                       const std::function<bool(const TraceEvent&)>& match,
                                       int count = 1, Millis deadline = kDeadline);

/** Index of the first event at or after @p from for which @p match is true; -1 when none. */
int find_event(const std::vector<TraceEvent>& trace,
               const std::function<bool(const TraceEvent&)>& match, int from = 0);

/**
 * The end of every traced scenario: waits until the trace at @p path holds @p closes "close"
 * events, stops @p server with SIGTERM and returns the whole trace. Records a test failure, and
 * returns an empty trace, when the server does not exit 0 or a line is not a valid event.
 */
std::vector<TraceEvent> stop_and_read_trace(ServerProcess& server, const std::string& path,
                                            int closes = 1);

/** A temporary directory for trace files, removed with what it holds when destroyed. */
class TraceDir {
 public:
  TraceDir();
  ~TraceDir();
  TraceDir(const TraceDir&) = delete;
  TraceDir& operator=(const TraceDir&) = delete;
  /** A path inside the directory: "DIR/trace.jsonl" by default. */
  std::string path(const std::string& name = "trace.jsonl") const { return dir_ + "/" + name; }

 private:
  std::string dir_;
};

}  // namespace harness
