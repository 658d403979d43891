/**
 * @file trace_handoff_test.cpp
 * The hand-off as the trace records it (stage 2 onwards): the parent's wake-up byte, the
 * worker's read, its accept, its acknowledgement and the parent's read of it, in that order, and
 * the reaping of every worker on SIGTERM.
 */
#include <gtest/gtest.h>

#include "harness.h"
#include "trace_file.h"

namespace {

using harness::ServerConfig;
using harness::ServerProcess;
using harness::TraceDir;
using harness::TraceEvent;

/**
 * The events of process @p pid in @p trace, without wake-ups, signals, start and exit, and
 * without the HTTP and timer events of later chapters: the hand-off's story as @p pid saw it.
 */
std::vector<std::string> story(const std::vector<TraceEvent>& trace, pid_t pid) {
  std::vector<std::string> names;
  for (const TraceEvent& event : trace) {
    const std::string ev = event.ev();
    if (event.pid() != pid || ev == "wake" || ev == "start" || ev == "exit") continue;
    if (ev.rfind("signal_", 0) == 0 || ev == "request" || ev == "sent") continue;
    if (ev.rfind("timer_", 0) == 0 || ev == "tick") continue;
    names.push_back(ev);
  }
  return names;
}

/** Index in @p trace of the first event named @p ev; -1 when there is none. */
int index_of(const std::vector<TraceEvent>& trace, const std::string& ev) {
  return harness::find_event(trace, [&](const TraceEvent& e) { return e.ev() == ev; });
}

TEST(TraceHandoff, OneConnectionIsHandedOffAcceptedAndAcknowledged) {
  TraceDir dir;
  ServerProcess server(ServerConfig{{"--workers", "2", "--trace", dir.path()}});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  ASSERT_EQ(harness::wait_for_workers(server, 2).size(), 2u);
  {
    harness::Client client(server.port());
    ASSERT_TRUE(harness::first_exchange(client));
  }
  const auto trace = harness::stop_and_read_trace(server, dir.path());
  ASSERT_FALSE(trace.empty());
  // Exactly these events in each process, and across processes (the file is in the order the
  // lines were written) hand-off before the worker's read, acknowledgement before the parent's.
  const TraceEvent accept = harness::events_named(trace, "accept").at(0);
  EXPECT_EQ(story(trace, server.pid()),
            (std::vector<std::string>{"handoff_sent", "ack_read", "reaped", "reaped"}));
  EXPECT_EQ(story(trace, accept.pid()),
            (std::vector<std::string>{"handoff_read", "accept", "ack_sent", "close"}));
  EXPECT_LT(index_of(trace, "handoff_sent"), index_of(trace, "handoff_read"));
  EXPECT_LT(index_of(trace, "ack_sent"), index_of(trace, "ack_read"));
  const TraceEvent sent = harness::events_named(trace, "handoff_sent").at(0);
  const TraceEvent read = harness::events_named(trace, "handoff_read").at(0);
  const TraceEvent ack = harness::events_named(trace, "ack_sent").at(0);
  const TraceEvent ack_read = harness::events_named(trace, "ack_read").at(0);
  EXPECT_EQ(sent.pid(), server.pid());
  EXPECT_EQ(sent.get("worker"), read.get("id"));  // to the worker it named
  EXPECT_EQ(accept.pid(), read.pid());
  EXPECT_EQ(ack.pid(), read.pid());
  EXPECT_EQ(read.number("wakeups"), 1);
  EXPECT_EQ(ack.number("took"), 1);
  EXPECT_EQ(ack_read.get("worker"), sent.get("worker"));
  EXPECT_NE(ack_read.get("reports").find('T'), std::string::npos) << ack_read.line;
  // Across processes, the clock agrees with the file: sent < read < accept < ack < ack read.
  EXPECT_LE(sent.number("t_ns"), read.number("t_ns"));
  EXPECT_LE(read.number("t_ns"), accept.number("t_ns"));
  EXPECT_LE(accept.number("t_ns"), ack.number("t_ns"));
  EXPECT_LE(ack.number("t_ns"), ack_read.number("t_ns"));
  for (const TraceEvent& reaped : harness::events_named(trace, "reaped")) {
    EXPECT_EQ(reaped.number("status"), 0) << reaped.line;
    EXPECT_EQ(reaped.get("signal"), "") << reaped.line;
  }
}

}  // namespace
