/**
 * @file
 * The grader of lab stats-reset (labs/stats-reset/README.md): SIGUSR2 zeroes the counters that
 * SIGUSR1 prints, in the normal context of the loop, and nothing else changes. These tests need
 * no new interface, so they also run against the untouched start (and must fail there); the unit
 * test is reset_stats_test.cpp.
 */
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "harness.h"

using harness::Client;
using harness::ServerProcess;

namespace {

/** The server's next stats line (after "stats: "), asked for with SIGUSR1; "" when none came. */
std::string stats(const ServerProcess& server) {
  return harness::stats_line(server, server.pid()).value_or("");
}

}  // namespace

// The server: accepted and bytes_echoed go back to 0; open_connections is a gauge, not a count,
// so the connection still open is still counted.
TEST(StatsReset, Sigusr2ZeroesTheCountersAndKeepsTheOpenConnection) {
  ServerProcess server;
  ASSERT_TRUE(server.ready());
  Client first(server.port());
  ASSERT_TRUE(first.read_line().has_value());  // the banner
  ASSERT_TRUE(first.send_all("ping\n"));
  ASSERT_EQ(first.read_line(), "ping");
  Client idle(server.port());
  ASSERT_TRUE(idle.read_line().has_value());
  ASSERT_EQ(stats(server), "open_connections=2 accepted=2 bytes_echoed=5") << server.stderr_text();

  server.signal(SIGUSR2);
  ASSERT_TRUE(server.wait_for_stderr("got SIGUSR2: stats reset")) << server.stderr_text();
  EXPECT_EQ(stats(server), "open_connections=2 accepted=0 bytes_echoed=0") << server.stderr_text();

  // Counting starts again from zero.
  ASSERT_TRUE(idle.send_all("abc\n"));
  ASSERT_EQ(idle.read_line(), "abc");
  EXPECT_EQ(stats(server), "open_connections=2 accepted=0 bytes_echoed=4") << server.stderr_text();
}

// A burst of SIGUSR2 is one reset per loop turn at most, like SIGUSR1's stats line, and the
// server stays up and serving.
TEST(StatsReset, AFloodOfSigusr2StarvesNothing) {
  ServerProcess server;
  ASSERT_TRUE(server.ready());
  for (int i = 0; i < 1000; ++i) server.signal(SIGUSR2);
  ASSERT_TRUE(server.wait_for_stderr("got SIGUSR2: stats reset")) << server.stderr_text();
  Client client(server.port());
  EXPECT_TRUE(client.read_line().has_value()) << server.stderr_text();
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(), 0);
}
