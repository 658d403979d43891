/**
 * @file pool_test.cpp
 * The process pool (stage 2 onwards): workers, channels, reaping, stopping, orphaned workers.
 */
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "harness.h"

namespace {

using harness::Client;
using harness::Millis;
using harness::ServerConfig;
using harness::ServerProcess;

constexpr int kWorkers = 3;

ServerConfig with_workers(int n) { return ServerConfig{{"--workers", std::to_string(n)}}; }

/** Waits until the parent has @p n children, each of which logged "started"; returns their pids. */
std::vector<pid_t> started_workers(const ServerProcess& server, int n) {
  std::vector<pid_t> workers;
  harness::wait_until([&] {
    workers = harness::children_of(server.pid());
    return static_cast<int>(workers.size()) == n &&
           server.wait_for_stderr("] started", n, Millis(0));
  });
  std::sort(workers.begin(), workers.end());
  return workers;
}

/** The worker id named in the stderr line "[worker I PID] started" of @p pid, or -1. */
int worker_id_of(const ServerProcess& server, pid_t pid) {
  const std::string text = server.stderr_text();
  for (int id = 0; id < 256; ++id)
    if (text.find("[worker " + std::to_string(id) + " " + std::to_string(pid) + "] started") !=
        std::string::npos)
      return id;
  return -1;
}

TEST(Pool, WorkersAreChildrenOfTheParentWithIdsZeroToNMinusOne) {
  ServerProcess server(with_workers(kWorkers));
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto workers = started_workers(server, kWorkers);
  ASSERT_EQ(static_cast<int>(workers.size()), kWorkers) << server.stderr_text();
  std::set<int> ids;
  for (pid_t pid : workers) ids.insert(worker_id_of(server, pid));
  EXPECT_EQ(ids, (std::set<int>{0, 1, 2})) << server.stderr_text();
}

#if STAGE < 4  // chapters 2 and 3 greet with a banner; HTTP has none
TEST(Pool, WorkerBannerNamesItsIdAndPid) {
  ServerProcess server(with_workers(kWorkers));
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto workers = started_workers(server, kWorkers);
  Client client(server.port());
  const auto banner = client.read_line();
  ASSERT_TRUE(banner.has_value());
  bool matched = false;
  for (pid_t pid : workers) {
    const int id = worker_id_of(server, pid);
    matched |= *banner == "hello from worker " + std::to_string(id) + " pid " + std::to_string(pid);
  }
  EXPECT_TRUE(matched) << *banner << "\n" << server.stderr_text();
}
#endif

// A worker that inherited its siblings' channel ends would hold more fds than the first worker.
TEST(Pool, EveryWorkerHoldsTheSameFdsNoSiblingChannels) {
  ServerProcess server(with_workers(4));
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto workers = started_workers(server, 4);
  ASSERT_EQ(workers.size(), 4u);
  std::set<int> counts;
  for (pid_t pid : workers) counts.insert(harness::open_fd_count(pid));
  EXPECT_EQ(counts.size(), 1u) << "fd counts differ between workers";
}

TEST(Pool, KilledWorkerIsReapedAtOnceAndSkipped) {
  ServerProcess server(with_workers(kWorkers));
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto workers = started_workers(server, kWorkers);
  ASSERT_EQ(static_cast<int>(workers.size()), kWorkers);
  pid_t victim = -1;
  for (pid_t pid : workers)
    if (worker_id_of(server, pid) == 0) victim = pid;
  ASSERT_GT(victim, 0);
  kill(victim, SIGKILL);
  EXPECT_TRUE(harness::wait_until([&] { return !harness::pid_exists(victim); }, Millis(1000)))
      << "worker not reaped within a second (state " << harness::process_state(victim) << ")";
  EXPECT_TRUE(server.wait_for_stderr("killed by SIGKILL")) << server.stderr_text();
  for (int i = 0; i < 2 * kWorkers; ++i) {
    const int worker = harness::worker_of_new_connection(server.port());
    EXPECT_TRUE(worker == 1 || worker == 2) << "connection " << i << ": worker " << worker;
  }
}

TEST(Pool, ParentExitsWhenEveryWorkerIsKilled) {
  ServerProcess server(with_workers(kWorkers));
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  for (pid_t pid : started_workers(server, kWorkers)) kill(pid, SIGKILL);
  EXPECT_TRUE(server.wait_exit().has_value()) << server.stderr_text();
  EXPECT_TRUE(server.wait_for_stderr("all workers are gone")) << server.stderr_text();
}

TEST(Pool, SigtermEndsEveryProcessWithinTwoSeconds) {
  ServerProcess server(with_workers(kWorkers));
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto workers = started_workers(server, kWorkers);
  Client client(server.port());
  ASSERT_TRUE(harness::first_exchange(client));
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(Millis(2000)), 0) << server.stderr_text();
  for (pid_t pid : workers) EXPECT_FALSE(harness::pid_exists(pid)) << "worker " << pid << " left";
  EXPECT_TRUE(client.wait_closed(Millis(500)));
}

// A worker that ignores SIGTERM (here: stopped) is killed 3 s after the stop began, however many
// events the parent handles meanwhile: new clients must not push the deadline back.
TEST(Pool, StuckWorkerIsKilledThreeSecondsAfterTheStopEvenUnderTraffic) {
  ServerProcess server(with_workers(2));
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto workers = started_workers(server, 2);
  ASSERT_EQ(workers.size(), 2u);
  kill(workers[0], SIGSTOP);
  const auto start = std::chrono::steady_clock::now();
  server.signal(SIGTERM);
  std::vector<Client> late_clients;
  while (!server.wait_exit(Millis(250)).has_value() &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(8))
    late_clients.emplace_back(server.port());  // an event for the parent every 250 ms
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(server.exited()) << server.stderr_text();
  EXPECT_GE(elapsed, std::chrono::milliseconds(2900));
  EXPECT_LE(elapsed, std::chrono::milliseconds(4500)) << "the SIGKILL deadline was pushed back";
  EXPECT_TRUE(server.wait_for_stderr("sending SIGKILL")) << server.stderr_text();
}

// Ctrl-C in a terminal sends SIGINT to the whole foreground process group at once.
TEST(Pool, CtrlCToTheWholeGroupEndsEverythingCleanly) {
  ServerProcess server(with_workers(kWorkers));
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto workers = started_workers(server, kWorkers);
  kill(-server.pid(), SIGINT);
  EXPECT_EQ(server.wait_exit(Millis(2000)), 0) << server.stderr_text();
  for (pid_t pid : workers) EXPECT_FALSE(harness::pid_exists(pid));
}

TEST(Pool, WorkersExitWhenTheParentIsKilled) {
  ServerProcess server(with_workers(kWorkers));
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto workers = started_workers(server, kWorkers);
  ASSERT_EQ(static_cast<int>(workers.size()), kWorkers);
  server.signal(SIGKILL);
  server.wait_exit(Millis(1000));
  // The orphans are re-parented to the test runner (a subreaper), which reaps them.
  EXPECT_TRUE(harness::wait_until(
      [&] {
        harness::reap_adopted_children();
        return std::none_of(workers.begin(), workers.end(), harness::pid_exists);
      },
      Millis(2000)))
      << "workers outlived their parent by more than 2 s";
}

TEST(Pool, SigusrOneToAWorkerPrintsThatWorkersStats) {
  ServerProcess server(with_workers(2));
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto workers = started_workers(server, 2);
  ASSERT_EQ(workers.size(), 2u);
  kill(workers[1], SIGUSR1);
  const std::string prefix = "[worker " + std::to_string(worker_id_of(server, workers[1])) + " " +
                             std::to_string(workers[1]) + "] stats:";
  EXPECT_TRUE(server.wait_for_stderr(prefix)) << server.stderr_text();
  server.signal(SIGUSR1);
  EXPECT_TRUE(server.wait_for_stderr("[parent " + std::to_string(server.pid()) + "] stats:"))
      << server.stderr_text();
}

// Many connections arrive before any worker runs; their notifications coalesce in the channels.
// Each one must still be accepted: none may stay stranded in the backlog.
TEST(Pool, BurstOfFiveHundredConnectionsAllServed) {
  ServerProcess server(with_workers(kWorkers));
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  std::vector<Client> clients;
  for (int i = 0; i < 500; ++i) {
    clients.emplace_back(server.port());
    ASSERT_TRUE(clients.back().connected()) << "connection " << i;
  }
  int served = 0;
  for (auto& client : clients) served += harness::first_exchange(client) ? 1 : 0;
  EXPECT_EQ(served, 500) << server.stderr_text();
}

TEST(Pool, BadWorkerCountsAreUsageErrors) {
  for (const char* count : {"0", "257", "-1", "two"}) {
    const auto result = harness::run_server_to_exit({"--workers", count});
    EXPECT_EQ(result.exit_status, 2) << count << ": " << result.err;
    EXPECT_NE(result.err.find("--workers"), std::string::npos) << result.err;
  }
}

}  // namespace
