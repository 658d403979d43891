/**
 * @file
 * The grader of lab least-connections (labs/least-connections/README.md), its behaviour: loads
 * that round robin piles onto one worker, and least connections spreads. Clients connect one at
 * a time and the test waits until every worker reports (SIGUSR1) what it holds before the next
 * one, so each hand-out sees settled counts and the outcome is exact.
 */
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.h"

namespace {

using harness::Client;
using harness::FrozenProcess;
using harness::ServerProcess;

constexpr int kWorkers = 3;

/** The worker id in the banner "hello from worker I pid P" this client reads; -1 without. */
int worker_of(Client& client) { return harness::banner_worker(client.read_line()); }

/** Every worker's open_connections from its own stats line, in worker order (-1: no answer). */
std::vector<long> open_per_worker(const ServerProcess& server) {
  std::vector<long> open;
  for (int id = 0; id < kWorkers; ++id)
    open.push_back(harness::open_connections(server, harness::worker_pid(server, id)));
  return open;
}

/**
 * Waits until the workers hold exactly @p expected. A worker writes its open or close report
 * in the same step as it counts the connection, so before the stats line that shows it; the
 * next client connects after that, and epoll gives the parent the channel (ready first) before
 * the listening socket: the parent's next hand-out sees the report.
 */
bool settled(const ServerProcess& server, const std::vector<long>& expected) {
  return harness::wait_until([&] { return open_per_worker(server) == expected; });
}

/** A server with kWorkers workers, all started. */
class LeastConnections : public testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(harness::pool_started(server_, kWorkers)); }

  /** Connects and keeps the connection open; counts it for the worker its banner names. */
  void open_long_lived() {
    held_.emplace_back(server_.port());
    const int worker = worker_of(held_.back());
    ASSERT_GE(worker, 0) << server_.stderr_text();
    held_worker_.push_back(worker);
    ++expected_[worker];
    ASSERT_TRUE(settled(server_, expected_)) << server_.stderr_text();
  }

  /** Connects, reads the banner, closes, and waits until the worker has seen the close. */
  void open_short_lived() {
    {
      Client client(server_.port());
      ASSERT_GE(worker_of(client), 0) << server_.stderr_text();
    }
    ASSERT_TRUE(settled(server_, expected_)) << server_.stderr_text();
  }

  /** Closes the first held connection that worker @p worker took. */
  void close_one_on(int worker) {
    for (std::size_t i = 0; i < held_.size(); ++i) {
      if (held_worker_[i] != worker) continue;
      { Client gone = std::move(held_[i]); }
      held_worker_[i] = -1;
      --expected_[worker];
      ASSERT_TRUE(settled(server_, expected_)) << server_.stderr_text();
      return;
    }
    FAIL() << "worker " << worker << " holds no connection";
  }

  ServerProcess server_{harness::with_workers(kWorkers)};
  std::vector<Client> held_;
  std::vector<int> held_worker_;            // which worker took held_[i]; -1 once closed
  std::vector<long> expected_ = {0, 0, 0};  // open connections per worker, as held here
};

// Long-lived, short, short, three times over: round robin hands every long-lived one to worker 0
// (3, 0, 0). Least connections sees worker 0 busy and the others free: one each.
TEST_F(LeastConnections, LongLivedConnectionsSpreadWhereRoundRobinPilesThemOnOneWorker) {
  for (int round = 0; round < 3; ++round) {
    ASSERT_NO_FATAL_FAILURE(open_long_lived());
    ASSERT_NO_FATAL_FAILURE(open_short_lived());
    ASSERT_NO_FATAL_FAILURE(open_short_lived());
  }
  EXPECT_EQ(open_per_worker(server_), (std::vector<long>{1, 1, 1})) << server_.stderr_text();
}

// Closes must reach the parent: after 2, 2, 2 and three closes (0, 1, 2), the next three go where
// the room is, whatever the order of ties. Round robin would make it 1, 2, 3.
TEST_F(LeastConnections, NewConnectionsGoWhereClosesMadeRoom) {
  for (int i = 0; i < 6; ++i) ASSERT_NO_FATAL_FAILURE(open_long_lived());
  ASSERT_EQ(expected_, (std::vector<long>{2, 2, 2}));
  ASSERT_NO_FATAL_FAILURE(close_one_on(0));
  ASSERT_NO_FATAL_FAILURE(close_one_on(0));
  ASSERT_NO_FATAL_FAILURE(close_one_on(1));
  for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(open_long_lived());
  EXPECT_EQ(open_per_worker(server_), (std::vector<long>{2, 2, 2})) << server_.stderr_text();
}

// Ten clients connect while the parent is stopped: on SIGCONT it sees one readable edge and wakes
// one worker, which accepts all ten and answers one wake-up. Counted per answer, that worker
// would hold 1 and soon get more; counted per connection it holds 10, and the next four
// connections go to the other two. Round robin makes it 11, 2, 1.
TEST_F(LeastConnections, CountsConnectionsNotWakeUps) {
  {
    FrozenProcess parent(server_.pid(), FrozenProcess::How::sigstop);
    ASSERT_TRUE(parent.frozen()) << parent.error();
    for (int i = 0; i < 10; ++i) {
      held_.emplace_back(server_.port());  // the kernel completes the handshake: the backlog
      ASSERT_TRUE(held_.back().connected()) << "connection " << i;
    }
  }  // SIGCONT
  const int burst_worker = worker_of(held_.front());
  ASSERT_GE(burst_worker, 0) << server_.stderr_text();
  for (std::size_t i = 0; i < held_.size(); ++i) {
    held_worker_.push_back(i == 0 ? burst_worker : worker_of(held_[i]));
    ASSERT_EQ(held_worker_.back(), burst_worker) << "the burst was not one worker's\n"
                                                 << server_.stderr_text();
  }
  expected_[burst_worker] = 10;
  ASSERT_TRUE(settled(server_, expected_)) << server_.stderr_text();
  for (int i = 0; i < 4; ++i) ASSERT_NO_FATAL_FAILURE(open_long_lived());
  std::vector<long> want(kWorkers, 2);
  want[burst_worker] = 10;
  EXPECT_EQ(open_per_worker(server_), want) << server_.stderr_text();
}

}  // namespace
