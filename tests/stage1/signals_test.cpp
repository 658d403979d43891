/**
 * @file signals_test.cpp
 * Signals through the pipe (every stage): SIGTERM and SIGINT stop cleanly, SIGUSR1 prints stats.
 */
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "harness.h"

namespace {

using harness::Client;
using harness::Millis;
using harness::ServerProcess;

// Stage 1 is one process; from stage 2 on, the parent also waits for its workers.
const Millis kStopDeadline{STAGE == 1 ? 1000 : 2000};

/** An open connection that has completed one exchange. */
Client open_connection(const ServerProcess& server) {
  Client client(server.port());
  EXPECT_TRUE(harness::first_exchange(client));
  return client;
}

void expect_clean_stop(int sig) {
  ServerProcess server;
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  Client client = open_connection(server);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(harness::serves_a_new_client(server.port()));

  server.signal(sig);
  const auto status = server.wait_exit(kStopDeadline);
  ASSERT_TRUE(status.has_value()) << "no clean exit within " << kStopDeadline.count() << " ms\n"
                                  << server.stderr_text();
  EXPECT_EQ(*status, 0) << server.stderr_text();
  EXPECT_TRUE(client.wait_closed(Millis(500))) << "the open connection was not closed";
  EXPECT_TRUE(harness::wait_until([&] { return kill(-server.pid(), 0) == -1; }, kStopDeadline))
      << "a process of the server outlived it";
  EXPECT_NE(server.stderr_text().find(std::string("got SIG") + sigabbrev_np(sig)),
            std::string::npos)
      << "no log line for the shutdown:\n"
      << server.stderr_text();
}

TEST(Signals, SigtermStopsCleanlyWithExitZero) { expect_clean_stop(SIGTERM); }

TEST(Signals, SigintStopsCleanlyWithExitZero) { expect_clean_stop(SIGINT); }

TEST(Signals, SigusrOnePrintsStatsAndServerKeepsServing) {
  ServerProcess server;
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  server.signal(SIGUSR1);
  EXPECT_TRUE(server.wait_for_stderr("stats:")) << server.stderr_text();
  EXPECT_TRUE(harness::serves_a_new_client(server.port()));
  EXPECT_FALSE(server.wait_exit(Millis(0)).has_value()) << "SIGUSR1 must not stop the server";
}

// epoll_wait fails with EINTR whenever a handler runs: that must never be taken as an error.
TEST(Signals, ManySignalsInARowAreNotErrors) {
  ServerProcess server;
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  Client client = open_connection(server);
  for (int i = 0; i < 50; ++i) server.signal(SIGUSR1);
  EXPECT_TRUE(server.wait_for_stderr("stats:", 1)) << server.stderr_text();
  EXPECT_TRUE(harness::serves_a_new_client(server.port()));
  EXPECT_FALSE(server.wait_exit(Millis(0)).has_value());
}

TEST(Signals, SigpipeIsIgnored) {
  ServerProcess server;
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  // Clients that vanish with unread data make the server's next write fail with EPIPE/ECONNRESET.
  for (int i = 0; i < 20; ++i) {
    Client client(server.port());
    ASSERT_TRUE(client.connected());
    client.send_all(std::string(100000, 'x'), Millis(200));
    client.reset();
  }
  EXPECT_TRUE(harness::serves_a_new_client(server.port())) << server.stderr_text();
  EXPECT_FALSE(server.wait_exit(Millis(0)).has_value());
}

}  // namespace
