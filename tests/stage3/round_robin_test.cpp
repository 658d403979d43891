/**
 * @file round_robin_test.cpp
 * Chapter 3's dispatch policy (stage 3 onwards): workers take new connections in turn.
 */
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

#include "harness.h"

namespace {

using harness::Client;
using harness::ServerProcess;

TEST(RoundRobin, SequentialConnectionsLandOnEachWorkerInTurn) {
  ServerProcess server({{"--workers", "3"}});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  std::vector<int> order;
  for (int i = 0; i < 9; ++i) order.push_back(harness::worker_of_new_connection(server.port()));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 0, 1, 2, 0, 1, 2})) << server.stderr_text();
}

TEST(RoundRobin, DeadWorkerIsSkipped) {
  ServerProcess server(harness::with_workers(3));
  ASSERT_TRUE(harness::pool_started(server, 3));
  const pid_t worker1 = harness::worker_pid(server, 1);
  ASSERT_GT(worker1, 0) << server.stderr_text();
  kill(worker1, SIGKILL);
  ASSERT_TRUE(server.wait_for_stderr("killed by SIGKILL")) << server.stderr_text();
  // After reaping, the parent nudges one survivor (a spare wake-up, in case the dead worker took
  // notifications with it), and until that worker has read its byte it may take any connection.
  // The parent's stats line comes after the nudge, and a worker that answers SIGUSR1 twice has
  // finished the turn that read it: from then on the turn is strict.
  server.signal(SIGUSR1);
  ASSERT_TRUE(server.wait_for_stderr("stats: workers_alive=2")) << server.stderr_text();
  for (int id : {0, 2}) {
    const pid_t pid = harness::worker_pid(server, id);
    for (int round = 0; round < 2; ++round)
      ASSERT_EQ(harness::open_connections(server, pid), 0) << server.stderr_text();
  }
  std::vector<int> order;
  for (int i = 0; i < 8; ++i) order.push_back(harness::worker_of_new_connection(server.port()));
  for (std::size_t i = 0; i < order.size(); ++i) {
    EXPECT_TRUE(order[i] == 0 || order[i] == 2) << "connection " << i << " went to " << order[i];
    if (i > 0) {
      EXPECT_NE(order[i], order[i - 1]) << "not in turn at connection " << i;
    }
  }
}

// A frozen worker is skipped like a dead one once it has left a wake-up unanswered, and rejoins
// the turn when it answers again.
TEST(RoundRobin, FrozenWorkerIsSkippedUntilItAnswersAgain) {
  ServerProcess server(harness::with_workers(3));
  ASSERT_TRUE(harness::pool_started(server, 3));
  const pid_t worker1 = harness::worker_pid(server, 1);
  ASSERT_GT(worker1, 0) << server.stderr_text();
  harness::FrozenProcess frozen(worker1, harness::FrozenProcess::How::sigstop);
  ASSERT_TRUE(frozen.frozen()) << frozen.error();
  std::vector<int> order;
  for (int i = 0; i < 8; ++i) order.push_back(harness::worker_of_new_connection(server.port()));
  for (std::size_t i = 0; i < order.size(); ++i)
    EXPECT_TRUE(order[i] == 0 || order[i] == 2) << "connection " << i << " went to " << order[i];
  frozen.thaw();
  ASSERT_TRUE(server.wait_for_stderr("worker 1 answers again")) << server.stderr_text();
  order.clear();
  for (int i = 0; i < 6; ++i) order.push_back(harness::worker_of_new_connection(server.port()));
  EXPECT_GE(std::count(order.begin(), order.end(), 1), 1) << "worker 1 is not back in the turn";
}

}  // namespace
