/**
 * @file trace_timer_test.cpp
 * The time wheel as the trace records it (stage 5): a connection's timer is armed at accept,
 * refreshed by a complete request, and fires on a tick once the connection has been idle for
 * --timeout, which closes it with the reason "timeout". Every tick follows a SIGALRM read.
 */
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <map>

#include "harness.h"
#include "http_client.h"
#include "trace_file.h"

namespace {

using harness::Client;
using harness::Millis;
using harness::ServerConfig;
using harness::ServerProcess;
using harness::TraceDir;
using harness::TraceEvent;

TEST(TraceTimer, IdleConnectionIsClosedByATick) {
  TraceDir dir;
  ServerProcess server(
      ServerConfig{{"--workers", "1", "--timeout", "1", "--trace", dir.path()}});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  Client client(server.port());
  ASSERT_TRUE(harness::first_exchange(client));  // one request: refreshes the timer
  ASSERT_TRUE(client.wait_closed(Millis(4000)));
  const auto trace = harness::stop_and_read_trace(server, dir.path());
  ASSERT_FALSE(trace.empty());
  const TraceEvent accept = harness::events_named(trace, "accept").at(0);
  const std::string fd = accept.get("fd");
  // The connection's story in its worker, with the tick that closed it.
  std::vector<std::string> story;
  bool closed = false;
  for (const TraceEvent& e : trace) {
    if (e.pid() != accept.pid() || closed) continue;
    const std::string ev = e.ev();
    if (ev == "tick") {
      if (story.empty() || story.back() != "tick") story.push_back("tick");  // idle ticks merge
    } else if (e.get("fd") == fd && ev != "sent") {
      story.push_back(ev + (e.has("why") ? " " + e.get("why") : ""));
      closed = ev == "close";
    }
  }
  ASSERT_GE(story.size(), 6u) << ::testing::PrintToString(story);
  // Accept arms; the request refreshes (a tick may fall before or after it); the tick fires.
  EXPECT_EQ(story[0], "accept");
  EXPECT_EQ(story[1], "timer_armed");
  EXPECT_NE(std::find(story.begin(), story.end(), "timer_refreshed"), story.end());
  EXPECT_EQ(std::vector<std::string>(story.end() - 3, story.end()),
            (std::vector<std::string>{"tick", "timer_fired", "close timeout"}))
      << ::testing::PrintToString(story);
  EXPECT_EQ(harness::events_named(trace, "timer_armed").at(0).number("ms"), 1000);
  // The timer fires inside the tick: the worker's line just before timer_fired is that tick.
  const int fired = harness::find_event(trace, [](const TraceEvent& e) {
    return e.ev() == "timer_fired";
  });
  ASSERT_GE(fired, 0);
  int before = fired - 1;
  while (before >= 0 && trace[before].pid() != trace[fired].pid()) --before;
  ASSERT_GE(before, 0);
  EXPECT_EQ(trace[before].ev(), "tick") << trace[before].line;
  // Every tick is the work of a SIGALRM read since the previous tick of the same worker.
  std::map<pid_t, bool> alarm_read;
  for (const TraceEvent& e : trace) {
    if (e.ev() == "signal_read" && e.get("sig") == "ALRM") alarm_read[e.pid()] = true;
    if (e.ev() != "tick") continue;
    EXPECT_TRUE(alarm_read[e.pid()]) << "a tick without a SIGALRM read: " << e.line;
    alarm_read[e.pid()] = false;
  }
}

}  // namespace
