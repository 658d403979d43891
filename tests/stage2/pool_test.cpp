/**
 * @file pool_test.cpp
 * The process pool (stage 2 onwards): workers, channels, reaping, stopping, orphaned workers.
 */
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "harness.h"

namespace {

using harness::Client;
using harness::Millis;
using harness::ServerProcess;
using harness::with_workers;

constexpr int kWorkers = 3;

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
  std::vector<pid_t> workers;
  ASSERT_TRUE(harness::pool_started(server, kWorkers, &workers));
  std::set<int> ids;
  for (pid_t pid : workers) ids.insert(worker_id_of(server, pid));
  EXPECT_EQ(ids, (std::set<int>{0, 1, 2})) << server.stderr_text();
}

#if STAGE < 4  // chapters 2 and 3 greet with a banner; HTTP has none
TEST(Pool, WorkerBannerNamesItsIdAndPid) {
  ServerProcess server(with_workers(kWorkers));
  std::vector<pid_t> workers;
  ASSERT_TRUE(harness::pool_started(server, kWorkers, &workers));
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

/** What each open fd of @p pid refers to (readlink of /proc/PID/fd/N: "socket:[123]", ...). */
std::vector<std::string> fd_targets(pid_t pid) {
  std::vector<std::string> targets;
  for (int fd : harness::open_fds(pid)) {
    const std::string link = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
    char target[256];
    const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n > 0) targets.emplace_back(target, n);
  }
  return targets;
}

// A worker holds two sockets: the listening socket, the same in every worker, and its own end of
// its channel. One more is a leaked channel end: its parent's end (the same leak in every worker,
// so counting fds would not see it) or a sibling's (so a worker could keep it alive).
TEST(Pool, EveryWorkerHoldsTheListenerAndItsOwnChannelEndOnly) {
  ServerProcess server(with_workers(4));
  std::vector<pid_t> workers;
  ASSERT_TRUE(harness::pool_started(server, 4, &workers));
  std::map<std::string, int> holders;  // socket -> how many workers hold it
  for (pid_t pid : workers) {
    int sockets = 0;
    for (const std::string& target : fd_targets(pid)) {
      if (target.rfind("socket:", 0) != 0) continue;
      ++sockets;
      ++holders[target];
    }
    EXPECT_EQ(sockets, 2) << "worker " << worker_id_of(server, pid) << " holds " << sockets
                          << " sockets";
  }
  int shared = 0;
  for (const auto& [socket, workers_holding] : holders) {
    if (workers_holding == 4)
      ++shared;
    else
      EXPECT_EQ(workers_holding, 1) << socket << " is held by " << workers_holding << " workers";
  }
  EXPECT_EQ(shared, 1) << "the listening socket, and nothing else, is in every worker";
}

TEST(Pool, KilledWorkerIsReapedAtOnceAndSkipped) {
  ServerProcess server(with_workers(kWorkers));
  std::vector<pid_t> workers;
  ASSERT_TRUE(harness::pool_started(server, kWorkers, &workers));
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
  std::vector<pid_t> workers;
  ASSERT_TRUE(harness::pool_started(server, kWorkers, &workers));
  for (pid_t pid : workers) kill(pid, SIGKILL);
  EXPECT_TRUE(server.wait_exit().has_value()) << server.stderr_text();
  EXPECT_TRUE(server.wait_for_stderr("all workers are gone")) << server.stderr_text();
}

TEST(Pool, SigtermEndsEveryProcessWithinTwoSeconds) {
  ServerProcess server(with_workers(kWorkers));
  std::vector<pid_t> workers;
  ASSERT_TRUE(harness::pool_started(server, kWorkers, &workers));
  Client client(server.port());
  ASSERT_TRUE(harness::first_exchange(client));
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(Millis(2000)), 0) << server.stderr_text();
  for (pid_t pid : workers) EXPECT_FALSE(harness::pid_exists(pid)) << "worker " << pid << " left";
  EXPECT_TRUE(client.wait_closed(Millis(500)));
}

// A worker that ignores SIGTERM (here: stopped) is killed 3 s after the stop began, however many
// clients still connect meanwhile (the stopped worker keeps the listening socket open).
TEST(Pool, StuckWorkerIsKilledThreeSecondsAfterTheStopEvenUnderTraffic) {
  ServerProcess server(with_workers(2));
  std::vector<pid_t> workers;
  ASSERT_TRUE(harness::pool_started(server, 2, &workers));
  kill(workers[0], SIGSTOP);
  const auto start = std::chrono::steady_clock::now();
  server.signal(SIGTERM);
  std::vector<Client> late_clients;
  while (!server.wait_exit(Millis(250)).has_value() &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(8))
    late_clients.emplace_back(server.port(), Millis(100));  // refused once the socket is gone
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(server.exited()) << server.stderr_text();
  EXPECT_GE(elapsed, std::chrono::milliseconds(2900));
  EXPECT_LE(elapsed, std::chrono::milliseconds(4500)) << "the SIGKILL deadline was pushed back";
  EXPECT_TRUE(server.wait_for_stderr("sending SIGKILL")) << server.stderr_text();
}

// Ctrl-C in a terminal sends SIGINT to the whole foreground process group at once.
TEST(Pool, CtrlCToTheWholeGroupEndsEverythingCleanly) {
  ServerProcess server(with_workers(kWorkers));
  std::vector<pid_t> workers;
  ASSERT_TRUE(harness::pool_started(server, kWorkers, &workers));
  kill(-server.pid(), SIGINT);
  EXPECT_EQ(server.wait_exit(Millis(2000)), 0) << server.stderr_text();
  for (pid_t pid : workers) EXPECT_FALSE(harness::pid_exists(pid));
}

TEST(Pool, WorkersExitWhenTheParentIsKilled) {
  ServerProcess server(with_workers(kWorkers));
  std::vector<pid_t> workers;
  ASSERT_TRUE(harness::pool_started(server, kWorkers, &workers));
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

// The last worker forked inherited the parent's ends of every earlier channel. Stopped, it cannot
// exit and close them, so only a worker that closed them at fork notices the parent's death: the
// test above passes without that loop, because the last worker's exit closes the copies for all.
TEST(Pool, WorkersExitWhenTheParentIsKilledWhileTheLastWorkerIsStopped) {
  ServerProcess server(with_workers(kWorkers));
  std::vector<pid_t> workers;
  ASSERT_TRUE(harness::pool_started(server, kWorkers, &workers));
  const auto last = std::find_if(workers.begin(), workers.end(), [&](pid_t pid) {
    return worker_id_of(server, pid) == kWorkers - 1;
  });
  ASSERT_NE(last, workers.end()) << server.stderr_text();
  const pid_t stopped = *last;
  kill(stopped, SIGSTOP);
  server.signal(SIGKILL);
  server.wait_exit(Millis(1000));
  EXPECT_TRUE(harness::wait_until(
      [&] {
        harness::reap_adopted_children();
        return std::none_of(workers.begin(), workers.end(),
                            [&](pid_t pid) { return pid != stopped && harness::pid_exists(pid); });
      },
      Millis(2000)))
      << "an earlier worker outlived its parent: the stopped worker " << stopped
      << " holds the parent's end of its channel";
  kill(stopped, SIGKILL);  // a stopped process dies of SIGKILL too
  harness::wait_until([&] {
    harness::reap_adopted_children();
    return !harness::pid_exists(stopped);
  });
}

TEST(Pool, SigusrOneToAWorkerPrintsThatWorkersStats) {
  ServerProcess server(with_workers(2));
  std::vector<pid_t> workers;
  ASSERT_TRUE(harness::pool_started(server, 2, &workers));
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

/**
 * Lowers the fd limit of process @p pid so that exactly one more fd can be opened: the limit
 * becomes its second-lowest free fd number (fd numbers, not counts: there may be holes). The
 * old limit is stored in @p old_limit.
 */
bool allow_one_more_fd(pid_t pid, rlimit& old_limit) {
  const std::set<int> used = harness::open_fds(pid);
  std::vector<int> free_numbers;
  for (int fd = 0; free_numbers.size() < 2; ++fd)
    if (used.count(fd) == 0) free_numbers.push_back(fd);
  if (prlimit(pid, RLIMIT_NOFILE, nullptr, &old_limit) != 0) return false;
  // The soft limit only: the test may put it back up to the hard limit without privileges.
  const rlimit limit{static_cast<rlim_t>(free_numbers[1]), old_limit.rlim_max};
  return prlimit(pid, RLIMIT_NOFILE, &limit, nullptr) == 0;
}

// The classic bug: the parent keeps handing connections to a worker that cannot accept them
// (out of fds, or at its connection cap), and each waits in the backlog while the other
// workers sit idle. The full worker says so on its channel; the parent passes its turn on.
TEST(Pool, AWorkerOutOfFdsIsSkippedAndNoConnectionWaitsBehindIt) {
  ServerProcess server(with_workers(2));
  ASSERT_TRUE(harness::pool_started(server, 2));
  const pid_t worker0 = harness::worker_pid(server, 0);
  const int fds_before = harness::open_fd_count(worker0);
  rlimit old_limit{};
  ASSERT_TRUE(allow_one_more_fd(worker0, old_limit));

  Client first(server.port());  // worker 0's turn in both policies; takes its last fd
  ASSERT_TRUE(harness::wait_until([&] { return harness::open_fd_count(worker0) > fds_before; }))
      << server.stderr_text();
  // Worker 0's accept loop meets EMFILE right after that connection: it is full. Without the
  // full state, chapter 2 hands it the next connection and round robin the one after.
  // One at a time, so that each arrival is a turn of its own.
  for (const char* which : {"second", "third"}) {
    Client client(server.port());
    EXPECT_TRUE(harness::first_exchange(client))
        << "the " << which << " connection waits behind the full worker\n"
        << server.stderr_text();
  }
  EXPECT_TRUE(server.wait_for_stderr("pausing")) << "worker 0 never ran out of fds";
  // Once worker 0 has fds again (an HTTP worker needs two per request: socket and file) and a
  // connection closes, it says so, and serving goes on as before.
  ASSERT_EQ(prlimit(worker0, RLIMIT_NOFILE, &old_limit, nullptr), 0);
  { Client gone = std::move(first); }
  // Once worker 0 has seen the close (and taken whatever waited), only the parent can give it
  // connections: it must hand them to worker 0 again, now or within a turn of round robin.
  ASSERT_TRUE(harness::wait_until([&] { return harness::open_connections(server, worker0) == 0; }))
      << server.stderr_text();
  bool worker0_serves = false;
  for (int i = 0; i < 4 && !worker0_serves; ++i)
    worker0_serves = harness::worker_of_new_connection(server.port()) == 0;
  EXPECT_TRUE(worker0_serves) << "worker 0 was never given a connection again\n"
                              << server.stderr_text();
}

// The classic bug: code that tests `if (pid == 0)` for the child and takes everything else for
// the parent treats a failed fork (-1) as a worker that exists; `kill(-1, SIGTERM)` at the stop
// then signals every process the user owns. Here the second fork fails: the server must say so,
// exit 1, and leave nothing behind (worker 0, already forked, sees EOF on its channel).
TEST(Pool, FailedForkExitsWithAnErrorAndLeavesNoWorkerBehind) {
  // Under SANITIZE=1, ASan insists on being the first library loaded: tell it not to.
  const char* asan_options = getenv("ASAN_OPTIONS");
  const std::string asan = std::string("ASAN_OPTIONS=") +
                           (asan_options != nullptr ? std::string(asan_options) + ":" : "") +
                           "verify_asan_link_order=0";
  const auto result =
      harness::run_server_to_exit({"--port", "0", "--workers", "3"}, harness::kDeadline,
                                  {"LD_PRELOAD=" FAIL_FORK_LIBRARY, "FAIL_FORK_AFTER=1", asan});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  EXPECT_NE(result.err.find("fork: Resource temporarily unavailable"), std::string::npos)
      << result.err;
  EXPECT_EQ(result.out, "") << "a ready line although the pool is not complete";
  // Worker 0 was forked before the failure. Its parent is gone, so it now belongs to this test
  // runner (a subreaper; no other child of ours is alive now), and it must exit by itself.
  EXPECT_TRUE(harness::wait_until([] {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    return harness::children_of(getpid()).empty();
  })) << "a worker outlived its parent";
  for (pid_t left : harness::children_of(getpid())) {  // only after a failure: leave nothing
    kill(left, SIGKILL);
    waitpid(left, nullptr, 0);
  }
}

using Clock = std::chrono::steady_clock;
using harness::FrozenProcess;

Millis since(Clock::time_point start) {
  return std::chrono::duration_cast<Millis>(Clock::now() - start);
}

/**
 * The hand-off is acknowledged: a worker that leaves its wake-up unanswered (stopped, or held in
 * a debugger, which the parent cannot see) is skipped after a short deadline, and its connection
 * goes to another worker. Chapter 2 hands everything to worker 0 and chapter 3 every third
 * connection, so freezing worker 0 tests both policies.
 */
class FrozenWorker : public testing::TestWithParam<FrozenProcess::How> {};

TEST_P(FrozenWorker, StrandsNoConnectionAndIsHandedConnectionsAgainOnceThawed) {
  ServerProcess server(with_workers(kWorkers));
  ASSERT_TRUE(harness::pool_started(server, kWorkers));
  FrozenProcess frozen(harness::worker_pid(server, 0), GetParam());
  if (!frozen.frozen() && GetParam() == FrozenProcess::How::ptrace)
    GTEST_SKIP() << "cannot ptrace here: " << frozen.error();
  ASSERT_TRUE(frozen.frozen()) << frozen.error();

  for (int i = 0; i < 6; ++i) {  // sequential clients, spaced as people would be
    const auto start = Clock::now();
    Client client(server.port());
    EXPECT_TRUE(harness::first_exchange(client)) << "client " << i;
    EXPECT_LT(since(start), Millis(1000)) << "client " << i << "\n" << server.stderr_text();
    std::this_thread::sleep_for(Millis(100));  // the clients' spacing, not a wait for the server
  }
  const auto burst_start = Clock::now();
  std::vector<Client> burst;
  for (int i = 0; i < 100; ++i) burst.emplace_back(server.port());
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(harness::first_exchange(burst[i])) << "burst " << i;
  EXPECT_LT(since(burst_start), Millis(1000)) << server.stderr_text();
  EXPECT_TRUE(server.wait_for_stderr("worker 0 (pid ")) << server.stderr_text();

  frozen.thaw();
  EXPECT_TRUE(harness::wait_until([&] {
    return harness::worker_of_new_connection(server.port()) == 0;
  })) << "worker 0 was not handed connections again\n"
      << server.stderr_text();
  EXPECT_TRUE(server.wait_for_stderr("worker 0 answers again")) << server.stderr_text();
}

INSTANTIATE_TEST_SUITE_P(Pool, FrozenWorker,
                         testing::Values(FrozenProcess::How::sigstop, FrozenProcess::How::ptrace),
                         [](const testing::TestParamInfo<FrozenProcess::How>& param) {
                           return param.param == FrozenProcess::How::sigstop ? "Sigstop" : "Ptrace";
                         });

// The parent reads its signal pipe once per loop turn too: a flood on it delays no hand-off.
TEST(Pool, ASigusr1FloodOnTheParentDelaysNoNewConnection) {
  ServerProcess server(with_workers(2));
  ASSERT_TRUE(harness::pool_started(server, 2));
  std::optional<int> status;
  {
    harness::SignalFlood flood(server.pid(), SIGUSR1, Millis(6000));
    const auto end = Clock::now() + Millis(1200);
    for (int i = 0; Clock::now() < end; ++i) {
      const auto start = Clock::now();
      ASSERT_TRUE(harness::serves_a_new_client(server.port())) << "client " << i;
      EXPECT_LT(since(start), Millis(500)) << "client " << i << " waited behind the flood";
      std::this_thread::sleep_for(Millis(200));  // the clients' pace
    }
    server.signal(SIGTERM);
    status = server.wait_exit(Millis(2000));
    EXPECT_GT(flood.stop(), 1000) << "that was no flood";
  }
  ASSERT_TRUE(status.has_value()) << "SIGTERM was not obeyed within 2 s of a flood";
  EXPECT_EQ(*status, 0);
}

TEST(Pool, BadWorkerCountsAreUsageErrors) {
  for (const char* count : {"0", "257", "-1", "two", "+2", " 2", ""}) {
    const auto result = harness::run_server_to_exit({"--workers", count});
    EXPECT_EQ(result.exit_status, 2) << count << ": " << result.err;
    EXPECT_NE(result.err.find("--workers"), std::string::npos) << result.err;
  }
}

}  // namespace
