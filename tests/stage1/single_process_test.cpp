/**
 * @file single_process_test.cpp
 * What only chapter 1 shows: one process greets with its pid and counts in its stats line.
 */
#include <gtest/gtest.h>
#include <signal.h>

#include "harness.h"

namespace {

using harness::Client;
using harness::ServerProcess;

TEST(SingleProcess, BannerNamesTheServerPid) {
  ServerProcess server;
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  Client client(server.port());
  EXPECT_EQ(client.read_line(), "hello from pid " + std::to_string(server.pid()));
  EXPECT_TRUE(harness::children_of(server.pid()).empty()) << "chapter 1 forks nothing";
}

TEST(SingleProcess, StatsLineCountsConnectionsAndEchoedBytes) {
  ServerProcess server;
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  {
    Client first(server.port());
    ASSERT_TRUE(first.read_line().has_value());
    ASSERT_TRUE(harness::echo_round_trip(first, "12345"));
  }
  Client second(server.port());
  ASSERT_TRUE(second.read_line().has_value());
  ASSERT_TRUE(harness::echo_round_trip(second, "abc"));
  // The first client's close has been seen once the stats say so; wait for that line.
  const std::string expected = "stats: open_connections=1 accepted=2 bytes_echoed=8";
  EXPECT_TRUE(harness::wait_until([&] {
    server.signal(SIGUSR1);
    return server.wait_for_stderr(expected, 1, harness::Millis(200));
  })) << server.stderr_text();
}

}  // namespace
