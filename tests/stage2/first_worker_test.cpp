/**
 * @file first_worker_test.cpp
 * Chapter 2's dispatch policy (stage 2 only): every connection goes to the first live worker.
 */
#include <gtest/gtest.h>
#include <signal.h>

#include "harness.h"

namespace {

using harness::Client;
using harness::ServerProcess;

TEST(FirstWorker, EveryConnectionLandsOnWorkerZero) {
  ServerProcess server({{"--workers", "3"}});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  for (int i = 0; i < 9; ++i) {
    Client client(server.port());
    EXPECT_EQ(harness::banner_worker(client.read_line()), 0) << "connection " << i;
  }
}

TEST(FirstWorker, WhenWorkerZeroDiesWorkerOneTakesOver) {
  ServerProcess server({{"--workers", "3"}});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  Client first(server.port());
  const auto banner = first.read_line();
  ASSERT_EQ(harness::banner_worker(banner), 0);
  const pid_t worker0 = atoi(banner->c_str() + banner->rfind(' ') + 1);
  kill(worker0, SIGKILL);
  ASSERT_TRUE(server.wait_for_stderr("killed by SIGKILL")) << server.stderr_text();
  for (int i = 0; i < 4; ++i) {
    Client client(server.port());
    EXPECT_EQ(harness::banner_worker(client.read_line()), 1) << "connection " << i;
  }
}

// The policy is "the first *responsive* live worker": a frozen worker 0 is skipped once it has
// left a wake-up unanswered, and takes every connection again once it answers.
TEST(FirstWorker, WhileWorkerZeroIsFrozenWorkerOneTakesOverAndGivesBack) {
  ServerProcess server(harness::with_workers(3));
  ASSERT_TRUE(harness::pool_started(server, 3));
  harness::FrozenProcess frozen(harness::worker_pid(server, 0),
                                harness::FrozenProcess::How::sigstop);
  ASSERT_TRUE(frozen.frozen()) << frozen.error();
  for (int i = 0; i < 4; ++i) {
    Client client(server.port());
    EXPECT_EQ(harness::banner_worker(client.read_line(harness::Millis(1000))), 1)
        << "connection " << i;
  }
  frozen.thaw();
  ASSERT_TRUE(server.wait_for_stderr("worker 0 answers again")) << server.stderr_text();
  for (int i = 0; i < 4; ++i) {
    Client client(server.port());
    EXPECT_EQ(harness::banner_worker(client.read_line()), 0) << "connection " << i;
  }
}

}  // namespace
