/**
 * @file trace_round_robin_test.cpp
 * Round robin as the trace records it (stage 3 onwards): five connections one after the other
 * over three workers, worker 1 killed after the third. The trace shows what the banners alone
 * do not: reaping a worker nudges the next survivor (worker 0) at once, in case the dead one took
 * wake-ups with it, so the next two connections go to 2, then 0.
 */
#include <gtest/gtest.h>
#include <signal.h>

#include "harness.h"
#include "trace_file.h"

namespace {

using harness::ServerConfig;
using harness::ServerProcess;
using harness::TraceDir;
using harness::TraceEvent;

TEST(TraceRoundRobin, HandOffsSkipTheKilledWorker) {
  TraceDir dir;
  ServerProcess server(ServerConfig{{"--workers", "3", "--trace", dir.path()}});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto workers = harness::wait_for_workers(server, 3);
  ASSERT_EQ(workers.size(), 3u);
  for (int expected : {0, 1, 2})
    ASSERT_EQ(harness::worker_of_new_connection(server.port()), expected);
  ASSERT_EQ(kill(harness::worker_pid(server, 1), SIGKILL), 0);
  harness::wait_for_trace(dir.path(), [](const TraceEvent& e) { return e.ev() == "reaped"; });
  for (int expected : {2, 0})
    ASSERT_EQ(harness::worker_of_new_connection(server.port()), expected);
  const auto trace = harness::stop_and_read_trace(server, dir.path(), 5);
  ASSERT_FALSE(trace.empty());
  std::vector<std::string> story;  // hand-offs by worker, and the reaping of worker 1
  for (const TraceEvent& event : trace) {
    if (event.ev() == "handoff_sent") story.push_back("to " + event.get("worker"));
    if (event.ev() == "reaped" && event.get("signal") == "KILL")
      story.push_back("reaped " + event.get("worker"));
  }
  EXPECT_EQ(story, (std::vector<std::string>{"to 0", "to 1", "to 2", "reaped 1", "to 0", "to 2",
                                             "to 0"}));
  // Every accept is in the worker the preceding hand-off named.
  for (int i = 0; i < static_cast<int>(trace.size()); ++i) {
    if (trace[i].ev() != "accept") continue;
    int sent = i;
    while (sent >= 0 && trace[sent].ev() != "handoff_sent") --sent;
    ASSERT_GE(sent, 0) << "an accept before any hand-off: " << trace[i].line;
    EXPECT_EQ(trace[i].get("id"), trace[sent].get("worker")) << trace[i].line;
  }
}

}  // namespace
